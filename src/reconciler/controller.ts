/**
 * The controller loop (the daemon): poll + file watch → read → parse → reconcile → report.
 *
 * Change detection: a cycle is skipped when the file is the same (inode, size, mtime, then
 * content) or its GNI `version` equals the last applied one — unless a re-apply is forced
 * (start, SIGHUP, after a failure) or a periodic resync is due (drift repair). A rejected
 * document is logged once per content and changes nothing. A failed apply is retried with
 * capped exponential backoff and the version is not marked applied.
 *
 * File events are debounced (a writer may still be writing), except the rename of another file
 * onto the path (the CLC writes by rename: the file is whole): the cycle starts at once, and the
 * debounced cycle still follows (it finds nothing to do unless the file changed again). If that
 * early read is not a whole document (a writer that re-creates the file in place), it is read
 * again after the debounce and only then counted and logged as rejected.
 */
import { rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { watch } from 'chokidar';
import { readGniWithState, type GniReadState } from '../gni/index.js';
import { discoverLive, refreshActual } from '../discovery/index.js';
import type { ActualTopology } from '../discovery/index.js';
import type { GlobalView } from '../gni/index.js';
import type { DesiredTopology, MappingResult } from '../mapping/index.js';
import { KINDS } from '../store/index.js';
import type { Kind } from '../store/index.js';
import { prepareAfterBuild, reconcileView } from './cycle.js';
import { memoryFields } from './heap.js';
import { isOtherFile, sameSig, type FileSig } from './file-sig.js';
import { DocumentBuffers, flushDocument } from './read-document.js';
import type { Durations, ReconcileResult } from './cycle.js';
import type { Settings } from './settings.js';
import { heldFields } from './controller-types.js';
import type {
  ControllerCounters,
  ControllerOptions,
  CycleReport,
  ParseInfo,
} from './controller-types.js';

export type { ControllerCounters, ControllerOptions, CycleReport } from './controller-types.js';

/** What the next cycle patches from (see `Controller.takeApplied`). */
interface Synced {
  actual: ActualTopology;
  desired: DesiredTopology;
  revision: number;
  held: ReadonlySet<string>;
}

const since = (t: number): number => Math.round((performance.now() - t) * 100) / 100;

/** The reconcile daemon. */
export class Controller {
  readonly counters: ControllerCounters = {
    cycles: 0,
    applied: 0,
    unchanged: 0,
    rejected: 0,
    failed: 0,
    objectsCreated: 0,
    objectsUpdated: 0,
    objectsDeleted: 0,
  };
  private settings: Settings;
  private readonly abort = new AbortController();
  private wakeUp: (() => void) | undefined;
  private pendingWake = false;
  /** The pending wake is a rename of another file onto the path (see the module comment). */
  private earlyWake = false;
  private lastSig: FileSig | undefined;
  /** The bytes of the last document parsed (compared whole: cheaper than hashing 16 MB). */
  private lastBytes: Buffer | undefined;
  /** The buffer of `lastBytes` and a spare one the next read goes to. */
  private readonly buffers = new DocumentBuffers();
  /** What the next read needs to scan only what changed (none after a document with issues). */
  private lastRead: GniReadState | undefined;
  private lastView: GlobalView | undefined;
  private lastAppliedVersion: string | undefined;
  private lastOk = false;
  private forced = true;
  private lastResyncAt = 0;
  private failures = 0;
  private missingLogged = false;
  /**
   * What the last fully successful cycle saw and wrote: the actual topology (brought current
   * through the store's change stream next time, instead of a full re-read) and the desired one
   * with the store revision right after the apply (if nobody wrote since, unchanged desired
   * objects need no field comparison). Dropped on any failure and at every resync.
   */
  private synced: Synced | undefined;
  /** The last mapping result (pure in its inputs, so reusable whatever the apply did). */
  private lastMapping: MappingResult | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.settings = options.settings;
  }

  /**
   * Takes a reconcile done outside the loop (`run -F`'s rebuild, right after its flush) as the
   * last cycle: `bytes` and `view` are the document it was made from, `r` its result (its
   * `actual` a live one, see `discoverLive`). The version file is written as a cycle writes it;
   * the first cycle then finds the same document and does nothing, instead of mapping it again
   * and comparing every object with the store (the rebuild was no drift check's business: it
   * wrote everything itself).
   */
  async adopt(bytes: Buffer, view: GlobalView, r: ReconcileResult): Promise<void> {
    if (r.apply?.aborted) throw new Error('adopt: the rebuild did not finish');
    this.lastBytes = bytes;
    this.lastView = view;
    this.lastRead = undefined; // the next changed document is read in full once
    this.lastMapping = r.mapping;
    const synced = this.takeApplied(r);
    if (r.built) synced.actual = await prepareAfterBuild(this.options.store, r.actual, r.mapping);
    this.buffers.prepare(bytes.length); // as after a cycle's bulk build
    await this.applied(view.version);
    this.lastResyncAt = Date.now();
  }

  /** Keeps what the next cycle patches from: `r`'s actual topology, desired state and held
   * owners, at the revision `r` left the store at. */
  private takeApplied(r: ReconcileResult): Synced {
    this.synced = {
      actual: r.actual,
      desired: r.mapping.desired,
      revision: r.apply?.revision ?? r.actual.revision,
      held: r.held,
    };
    return this.synced;
  }

  /** After `version` is applied: the version file written, the loop back to normal. */
  private async applied(version: string | undefined): Promise<void> {
    if (version !== undefined) await this.writeVersion(version);
    this.lastAppliedVersion = version;
    this.lastOk = true;
    this.forced = false;
    this.failures = 0;
  }

  /** The version file path in use. */
  get versionFile(): string {
    return (
      this.options.versionFile ??
      join(dirname(resolve(this.options.gniPath)), 'global_network_info.version')
    );
  }

  /** Stops the loop after the current transaction. */
  stop(): void {
    this.abort.abort();
    this.wake();
  }

  /** SIGHUP: new settings (if any) and a forced re-apply of the current GNI. */
  reload(settings?: Settings): void {
    if (settings) this.settings = settings;
    this.lastMapping = undefined;
    this.forced = true;
    this.lastAppliedVersion = undefined;
    this.wake();
  }

  /** SIGUSR2: re-read the store and repair drift now. */
  resync(): void {
    this.lastResyncAt = 0;
    this.synced = undefined;
    this.wake();
  }

  /** Wakes the loop (file change). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  /** SIGUSR1: logs the counters. */
  logCounters(): void {
    this.options.logger.info('eucanetd report', {
      ...this.counters,
      failures_in_a_row: this.failures,
    });
  }

  /** Runs one cycle (also used by `--once`); `early`: woken by a rename, before the debounce. */
  async runCycle(early = false): Promise<CycleReport> {
    const log = this.options.logger;
    const durations: Durations = {};
    let parsed: ParseInfo | undefined; // how this cycle read the document, if it did
    this.counters.cycles++;
    const resyncDue = Date.now() - this.lastResyncAt >= (this.options.resyncMs ?? 60_000);
    const force = this.forced || !this.lastOk || resyncDue;
    const cycleStart = performance.now();
    let t = cycleStart;
    let sig: FileSig;
    try {
      const st = await stat(this.options.gniPath);
      sig = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    } catch (e) {
      if (!this.missingLogged)
        log.warn('GNI file not readable, waiting', {
          path: this.options.gniPath,
          error: String(e),
        });
      this.missingLogged = true;
      return { result: 'missing', durations, issues: 0 };
    }
    this.missingLogged = false;
    let view = this.lastView;
    if (!force && sameSig(this.lastSig, sig)) return this.unchanged(durations);
    if (!sameSig(this.lastSig, sig) || !view) {
      // a new file: its data goes to disk while this cycle reads and maps it (see flushDocument)
      if (!sameSig(this.lastSig, sig)) void flushDocument(this.options.gniPath);
      const bytes = await this.buffers.read(this.options.gniPath);
      durations.read_ms = since(t);
      this.lastSig = sig;
      if (!view || this.lastBytes === undefined || !bytes.equals(this.lastBytes)) {
        t = performance.now();
        const stateful = readGniWithState(bytes, {}, this.lastRead);
        const read = stateful.result;
        durations.parse_ms = since(t);
        // the last document's buffer takes the next read, unless the reader's state keeps it
        this.buffers.release(this.lastBytes, bytes, stateful.state?.bytes);
        this.lastBytes = bytes;
        this.lastRead = stateful.state;
        parsed = {
          mode: stateful.incremental ? 'incremental' : 'full',
          scanned_kb: Math.round(stateful.scanned / 1024),
        };
        const errors = read.issues.filter((i) => i.severity === 'error');
        if (!read.view) {
          this.lastView = undefined;
          if (early) {
            this.lastSig = undefined; // read again after the debounce
            log.debug('GNI read early is not a whole document yet', { ...durations });
            return { result: 'rejected', durations, issues: read.issues.length };
          }
          this.counters.rejected++;
          log.error('GNI rejected, skipping update', {
            path: this.options.gniPath,
            errors: errors.length,
            first: errors.slice(0, 5).map((i) => `${i.path} ${i.code}: ${i.message}`),
            ...durations,
          });
          return { result: 'rejected', durations, issues: read.issues.length };
        }
        view = read.view;
        this.lastView = view;
        this.logIssues(read.issues);
      } else {
        this.buffers.release(bytes, this.lastBytes, this.lastRead?.bytes);
        if (!force) return this.unchanged(durations);
      }
    }
    if (!view) return { result: 'rejected', durations, issues: 0 };
    if (!force && view.version !== undefined && view.version === this.lastAppliedVersion) {
      // same version, but a new document was read: its content changed, which a cloud
      // controller should not do without a new version. Apply it (plan would show the
      // changes) and say so, instead of skipping it silently.
      if (parsed === undefined) return this.unchanged(durations);
      log.warn('GNI content changed but its version did not, applying it', {
        version: view.version,
        path: this.options.gniPath,
      });
    }
    return this.reconcile(view, durations, resyncDue, cycleStart, parsed);
  }

  private unchanged(durations: Durations): CycleReport {
    this.counters.unchanged++;
    this.options.logger.debug('global network version already applied, skipping update', {
      version: this.lastAppliedVersion,
    });
    return {
      result: 'unchanged',
      durations,
      issues: 0,
      ...(this.lastAppliedVersion ? { version: this.lastAppliedVersion } : {}),
    };
  }

  private logIssues(
    issues: readonly { path: string; code: string; message: string; severity: string }[],
  ): void {
    const max = 20;
    for (const i of issues.slice(0, max)) {
      this.options.logger.warn('GNI issue', {
        path: i.path,
        code: i.code,
        severity: i.severity,
        detail: i.message,
      });
    }
    if (issues.length > max)
      this.options.logger.warn('GNI issues not shown', { count: issues.length - max });
  }

  private async reconcile(
    view: GlobalView,
    durations: Durations,
    resync: boolean,
    started: number,
    parsed: ParseInfo | undefined,
  ): Promise<CycleReport> {
    const log = this.options.logger;
    const version = view.version;
    try {
      const store = this.options.store;
      const synced = resync ? undefined : this.synced;
      this.synced = undefined;
      let actual: ActualTopology;
      let previous: DesiredTopology | undefined;
      const t = performance.now();
      if (synced) {
        previous = (await store.revision()) === synced.revision ? synced.desired : undefined;
        actual = await refreshActual(store, synced.actual);
      } else {
        // a view of the store's own maps where it has them (the daemon is its only writer),
        // instead of a copy of every managed object's entry
        actual = await discoverLive(store);
      }
      durations.discover_ms = since(t);
      const r = await reconcileView(store, view, this.settings.mapping, {
        signal: this.abort.signal,
        withOps: false,
        actual,
        ...(previous ? { previous } : {}),
        ...(synced ? { previousHeld: synced.held } : {}),
        ...(this.lastMapping ? { previousMapping: this.lastMapping } : {}),
        ...(this.options.onProgress ? { onProgress: this.options.onProgress } : {}),
      });
      Object.assign(durations, r.durations);
      this.lastMapping = r.mapping;
      if (r.apply?.aborted) throw new Error('stopped before the plan was fully applied');
      const kept = this.takeApplied(r);
      const c = r.plan.counts;
      this.counters.applied++;
      this.counters.objectsCreated += c.create;
      this.counters.objectsUpdated += c.update;
      this.counters.objectsDeleted += c.delete;
      await this.applied(version);
      if (resync) this.lastResyncAt = Date.now();
      if (r.mapping.issues.length) this.logIssues(r.mapping.issues);
      const objects: Partial<Record<Kind, number>> = {};
      for (const k of KINDS) objects[k] = r.mapping.desired[k].size;
      const totalMs = since(started);
      // the version is in the text too: operators grep `applied GNI <version>` as in eucanetd
      log.info(`main loop complete, applied GNI ${version ?? '(no version)'}`, {
        version,
        created: c.create,
        updated: c.update,
        deleted: c.delete,
        unchanged: c.unchanged,
        held: c.held,
        ...heldFields(r.plan.held ?? []),
        transactions: r.apply?.transactions ?? 0,
        issues: r.mapping.issues.length,
        resync,
        ...(parsed ? { parse: parsed.mode, scanned_kb: parsed.scanned_kb } : {}),
        ...durations,
        total_ms: totalMs,
        ...memoryFields(),
      });
      if (r.built) {
        const tp = performance.now(); // off the cycle's figures: see prepareAfterBuild
        kept.actual = await prepareAfterBuild(store, r.actual, r.mapping);
        // the next document's buffer, faulted in now rather than by the first change's read
        this.buffers.prepare(this.lastBytes?.length ?? 0);
        log.info('prepared for the next change after a bulk build', { duration_ms: since(tp) });
      }
      return {
        result: 'applied',
        ...(version ? { version } : {}),
        counts: c,
        durations,
        issues: r.mapping.issues.length,
        ...(r.plan.held?.length ? { heldOwners: r.plan.held } : {}),
        ...(parsed ? { parse: parsed.mode } : {}),
        objects,
        heldEntities: r.mapping.held.size,
        totalMs,
      };
    } catch (e) {
      this.lastOk = false;
      this.failures++;
      this.counters.failed++;
      log.warn('main loop complete, failures detected', {
        version,
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        retry_in_ms: this.backoffMs(),
        ...durations,
        total_ms: since(started),
      });
      return {
        result: 'failed',
        ...(version ? { version } : {}),
        durations,
        issues: 0,
        error: String(e),
      };
    }
  }

  private async writeVersion(version: string): Promise<void> {
    const file = this.versionFile;
    const tmp = `${file}.tmp`;
    await writeFile(tmp, version);
    await rename(tmp, file);
  }

  /** Delay before the next try after failures (capped exponential). */
  backoffMs(): number {
    if (this.failures === 0) return 0;
    const base = this.options.backoffBaseMs ?? 1000;
    const max = this.options.backoffMaxMs ?? 60_000;
    return Math.min(max, base * 2 ** (this.failures - 1));
  }

  /** Runs until `stop()`: a cycle, then sleep the poll interval (or the backoff), waking early
   * on file changes and signals. */
  async run(): Promise<void> {
    const watcher =
      this.options.watchFile === false
        ? undefined
        : watch(dirname(resolve(this.options.gniPath)), { depth: 0, ignoreInitial: true });
    const target = basename(this.options.gniPath);
    let timer: NodeJS.Timeout | undefined;
    const debounced = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => this.wake(), this.options.debounceMs ?? 50);
    };
    watcher?.on('all', (_event, path) => {
      if (basename(path) !== target) return;
      // the debounced wake stays: the watcher reports no event for a change made within ~50 ms
      // of the last one (chokidar), which that cycle still finds (stat, else nothing to do)
      debounced();
      if (!isOtherFile(this.options.gniPath, this.lastSig)) return;
      this.earlyWake = true;
      this.wake();
    });
    watcher?.on('error', (e) => this.options.logger.warn('file watch error', { error: String(e) }));
    try {
      while (!this.abort.signal.aborted) {
        this.pendingWake = false;
        const early = this.earlyWake;
        this.earlyWake = false;
        const report = await this.runCycle(early);
        // an early read that is not a whole document is read again by the debounced wake
        if (!early || report.result !== 'rejected') this.options.onCycle?.(report);
        if (this.abort.signal.aborted) break;
        const delay = this.failures > 0 ? this.backoffMs() : this.settings.pollingSeconds * 1000;
        await this.sleep(delay);
      }
    } finally {
      clearTimeout(timer);
      await watcher?.close();
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.pendingWake || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolveSleep) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        resolveSleep();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}
