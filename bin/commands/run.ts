/**
 * `eucanetd run`: the controller daemon. Wiring only: logging (human on a terminal, JSON
 * otherwise; the file reopened on SIGHUP), settings, the flush guard of `-F`, signals, the
 * periodic report line, the status file and the metrics endpoint. The loop is
 * src/reconciler's Controller.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import {
  createLogger,
  isTerminalError,
  reopenLogFile,
  wantsHumanLogs,
} from '../../src/common/index.js';
import type { Logger } from '../../src/common/index.js';
import {
  Controller,
  DaemonMetrics,
  flushManaged,
  DAEMON_STORE_HISTORY,
  HeapKeeper,
  parseHostPort,
  planFlush,
  flushOrdered,
  reconcileView,
  startMetricsServer,
} from '../../src/reconciler/index.js';
import type { MetricsServer, ReconcileResult, Settings } from '../../src/reconciler/index.js';
import { discoverLive } from '../../src/discovery/index.js';
import type { GlobalView } from '../../src/gni/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import type { Kind, TopologyStore } from '../../src/store/index.js';
import { confirm } from './confirm.js';
import { progress, readDocument, readView } from './controller-common.js';
import { loadSettings, loadSettingsFrom } from './settings.js';
import { defaultStatusFile, StatusWriter } from './status.js';
import { openTopology } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';
import { programVersion } from './version.js';
import type { LogFormat } from './log-format.js';

/** Options of `run`. */
export interface RunOptions extends TopologySourceOptions {
  gni: string;
  config?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
  logFormat?: LogFormat;
  interval?: string;
  resyncInterval?: string;
  versionFile?: string;
  statusFile?: string;
  pidfile?: string;
  once?: boolean;
  flush?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  metrics?: string;
  reportInterval?: string;
  debounceMs?: string;
}

/** `kind n, kind n` for the kinds with objects. */
export function byKindText(byKind: Readonly<Partial<Record<Kind, number>>>): string {
  const parts = Object.entries(byKind)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

function debounceOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 60_000)
    throw new Error(`--debounce-ms must be a whole number of ms from 0 to 60000, got "${text}"`);
  return n;
}

function secondsOf(flag: string, text: string): number {
  const n = Number(text);
  if (!(n >= 0)) throw new Error(`${flag} must be a number of seconds >= 0, got "${text}"`);
  return n;
}

/** `run -F --dry-run`: what the flush would delete and the rebuild create; writes nothing. */
async function flushDryRun(
  store: TopologyStore,
  opts: RunOptions,
  settings: Settings,
): Promise<void> {
  const view = await readView(opts.gni);
  const flush = await planFlush(store);
  // the rebuild starts from what the flush keeps (the hosts), on a scratch copy
  const scratch = createMemoryStore();
  try {
    const hosts = await store.list('host');
    if (hosts.length)
      await scratch.transaction(
        hosts.map((h) => {
          const { version: _v, ...object } = h as unknown as Record<string, unknown>;
          return { op: 'create', kind: 'host', object } as never;
        }),
      );
    const rebuilt = await reconcileView(scratch, view, settings.mapping, {
      dryRun: true,
      allocations: flush.allocations,
    });
    const created: Partial<Record<Kind, number>> = {};
    for (const op of rebuilt.plan.storeOps)
      if (op.op === 'create') created[op.kind] = (created[op.kind] ?? 0) + 1;
    process.stdout.write(
      `dry run: flush would delete ${flush.ops.length} objects (${byKindText(flush.byKind)}), keep ${flush.kept} hosts\n` +
        `dry run: rebuild from GNI ${view.version ?? '(no version)'} would create ${rebuilt.plan.counts.create} objects (${byKindText(created)})` +
        (rebuilt.mapping.held.size ? `, ${rebuilt.mapping.held.size} entities held` : '') +
        '\nnothing was changed\n',
    );
  } finally {
    await scratch.close();
  }
}

/** Runs the daemon (or one cycle with --once). */
export async function runCommand(opts: RunOptions): Promise<void> {
  const log: Logger = createLogger({
    level: opts.logLevel ?? 'info',
    pretty: wantsHumanLogs(opts.logFormat),
    ...(opts.logFile ? { file: opts.logFile } : {}),
  });
  let store: TopologyStore | undefined;
  let metricsServer: MetricsServer | undefined;
  let status: StatusWriter | undefined;
  let reportTimer: NodeJS.Timeout | undefined;
  let heap: HeapKeeper | undefined;
  try {
    if (opts.dryRun && !opts.flush) throw new Error('--dry-run goes with -F (--flush)');
    const loaded = loadSettingsFrom(opts, log);
    const settings = loaded.settings;
    const reportS = secondsOf('--report-interval', opts.reportInterval ?? '300');
    const listen = opts.metrics !== undefined ? parseHostPort(opts.metrics) : undefined;
    store = await openTopology(opts, {
      readOnly: opts.dryRun === true,
      logger: log,
      // the daemon's store serves only the daemon's own watch: commits since its last cycle
      historySize: DAEMON_STORE_HISTORY,
    });
    if (opts.flush && opts.dryRun) {
      await flushDryRun(store, opts, settings);
      return;
    }
    // `run -F`: the rebuild, taken by the daemon as its first cycle
    let rebuild: { bytes: Buffer; view: GlobalView; result: ReconcileResult } | undefined;
    if (opts.flush) {
      // Validate the GNI before deleting anything: never flush what cannot be rebuilt.
      const document = await readDocument(opts.gni, log);
      const view = document.view;
      const t = performance.now();
      const planned = await planFlush(store, { ordered: flushOrdered(store) });
      const planMs = performance.now() - t;
      const where = opts.api ?? opts.store;
      const ok = await confirm(
        `run -F deletes ${planned.ops.length} managed objects from ${where} (${byKindText(planned.byKind)}) and rebuilds them from GNI ${view.version ?? '(no version)'}.`,
        { yes: opts.yes, command: 'run -F' },
      );
      if (!ok) {
        process.stderr.write('eucanetd: flush not confirmed; nothing changed\n');
        process.exitCode = 1;
        return;
      }
      const onFlush = progress('flush');
      const tf = performance.now();
      const flushed = await flushManaged(store, {
        // planned again after a confirmation on a terminal (the store may have changed meanwhile)
        ...(opts.yes === true ? { plan: planned } : {}),
        ...(onFlush ? { onProgress: onFlush } : {}),
      });
      const flushMs = performance.now() - tf;
      const onRebuild = progress('rebuild');
      const rebuilt = await reconcileView(store, view, settings.mapping, {
        // counts only, as the daemon's cycles: naming each of 400,000 ops took ~0.8 s at 10k
        withOps: false,
        allocations: flushed.allocations,
        // live views of the store's maps: current after the rebuild's commit, so the daemon
        // takes the rebuild as its first cycle (`Controller.adopt`)
        actual: await discoverLive(store),
        ...(onRebuild ? { onProgress: onRebuild } : {}),
      });
      log.info('eucanetd flush and rebuild complete', {
        deleted: flushed.deleted,
        created: rebuilt.plan.counts.create,
        version: view.version,
        // where it went: planning the flush, the flush, the rebuild's phases
        flush_plan_ms: Math.round(planMs),
        flush_ms: Math.round(flushMs),
        ...rebuilt.durations,
        total_ms: Math.round(performance.now() - t),
      });
      rebuild = { bytes: document.bytes, view, result: rebuilt };
    }
    if (opts.pidfile) writeFileSync(opts.pidfile, `${process.pid}\n`);
    const statusFile = opts.statusFile ?? defaultStatusFile(opts.gni, opts.versionFile);
    status = new StatusWriter(
      statusFile,
      {
        programVersion: programVersion(),
        gni: opts.gni,
        store: opts.api ?? opts.store,
        config: loaded.path ?? null,
      },
      (e) => log.warn('status file not written', { path: statusFile, error: String(e) }),
    );
    const metrics = listen ? new DaemonMetrics() : undefined;
    if (metrics && listen) metricsServer = await startMetricsServer(metrics, listen);
    log.info('eucanetd started', {
      program_version: programVersion(),
      pid: process.pid,
      config: loaded.path ?? '(defaults)',
      gni: opts.gni,
      store: opts.api ?? opts.store,
      interval_s: settings.pollingSeconds,
      status_file: statusFile,
      ...(metricsServer ? { metrics: metricsServer.url } : {}),
    });
    // compacts the heap after the cold build, after large cycles and when idle, and from the
    // first compaction on limits its growth (src/reconciler/heap.ts)
    heap = new HeapKeeper({
      onCompact: (c, reason) =>
        log.info('heap compacted', {
          reason,
          heap_before_mib: c.heapBeforeMiB,
          heap_after_mib: c.heapAfterMiB,
          duration_ms: c.ms,
        }),
    });
    const keeper = heap;
    const controller = new Controller({
      store,
      gniPath: opts.gni,
      settings,
      logger: log,
      ...(opts.versionFile ? { versionFile: opts.versionFile } : {}),
      ...(opts.resyncInterval ? { resyncMs: Number(opts.resyncInterval) * 1000 } : {}),
      ...(opts.debounceMs !== undefined ? { debounceMs: debounceOf(opts.debounceMs) } : {}),
      onCycle: (report) => {
        status?.cycle(report);
        metrics?.record(report);
        keeper.afterCycle(report);
      },
    });
    if (rebuild !== undefined) {
      await controller.adopt(rebuild.bytes, rebuild.view, rebuild.result);
      keeper.afterCycle({ result: 'applied', counts: rebuild.result.plan.counts });
      rebuild = undefined;
    }
    if (opts.once) {
      const report = await controller.runCycle();
      status.cycle(report);
      if (report.result === 'failed' || report.result === 'rejected' || report.result === 'missing')
        process.exitCode = 1;
      return;
    }
    const onStop = (sig: string) => () => {
      log.info('eucanetd caught signal, going down', { signal: sig });
      controller.stop();
    };
    process.on('SIGTERM', onStop('SIGTERM'));
    process.on('SIGINT', onStop('SIGINT'));
    process.on('SIGHUP', () => {
      reopenLogFile(log);
      log.info('eucanetd caught SIGHUP, reopened the log file, reloading settings and re-applying');
      try {
        controller.reload(loadSettings(opts, log));
      } catch (e) {
        log.error('settings reload failed, keeping the old ones', { error: String(e) });
        controller.reload();
      }
    });
    process.on('SIGUSR1', () => controller.logCounters());
    process.on('SIGUSR2', () => {
      log.info('eucanetd caught SIGUSR2, full resync');
      controller.resync();
    });
    if (reportS > 0) {
      reportTimer = setInterval(() => controller.logCounters(), reportS * 1000);
      reportTimer.unref();
    }
    await controller.run();
    log.info('eucanetd down');
  } catch (e) {
    // one line, through the logger (stderr, and the log file when there is one)
    log.error('eucanetd failed', { error: e instanceof Error ? e.message : String(e) });
    process.exitCode = isTerminalError(e) ? 2 : 1;
  } finally {
    clearInterval(reportTimer);
    heap?.stop();
    status?.stopped();
    await metricsServer?.close();
    await store?.close();
    if (opts.pidfile) {
      try {
        unlinkSync(opts.pidfile);
      } catch {
        // already gone: nothing to clean up
      }
    }
  }
}
