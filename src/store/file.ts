/**
 * The file backend (the default): one directory holding `LOCK`, `snapshot.ndjson` and
 * `journal.log` (formats in journal.ts). A commit is appended to the journal and fsynced
 * before it is applied, acknowledged or announced. Every `snapshotEvery` records (or 64 MiB of
 * journal) the state is compacted: snapshot to a temp file, fsync, rename, fsync the
 * directory, then a fresh journal the same way.
 * A read-only store takes no lock and follows the writer by polling the journal.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../common/index.js';
import { EmbeddedStore } from './base.js';
import type { BulkCreated } from './bulk.js';
import { StoreError, StoreNotFoundError } from './errors.js';
import { JOURNAL_FILE, loadDir, type Loaded } from './file-load.js';
import {
  GenerationWriteError,
  newStoreId,
  replaceFile,
  writeAll,
  writeGeneration,
  type SnapshotSource,
} from './file-write.js';
import { openFollower } from './follower.js';
import { encodeJournalHeader, encodeRecord, JOURNAL_FORMAT_VERSION } from './journal.js';
import { encodeSnapshot } from './snapshot.js';
import { SNAPSHOT_FILE } from './layout.js';
import { encodeManifest, MANIFEST_FILE, ManifestFile } from './manifest.js';
import { acquireLock, type DirLock } from './lock.js';
import type { StoreState } from './state.js';
import type { AnyObject, Change, Kind, TopologyStore } from './types.js';
import { checkVerified } from './verify.js';
import { WatchHub } from './watch.js';

/** Options of `openFileStore`. */
export interface FileStoreOptions {
  /** Follow the directory without writing or locking (default false). */
  readonly readOnly?: boolean;
  /** fsync each commit before acknowledging it (default true; false only for tests/benchmarks). */
  readonly fsync?: boolean;
  /** Compact after this many journal records (default 10,000). */
  readonly snapshotEvery?: number;
  /** Compact once the journal exceeds this many bytes (default 64 MiB). */
  readonly snapshotBytes?: number;
  /** Commits kept in memory for `watch` resumption (default 10,000). */
  readonly historySize?: number;
  /** Verify every binding after loading and refuse a broken store (default true). */
  readonly verify?: boolean;
  /** Read-only stores: journal poll interval in ms (default 50). */
  readonly pollMs?: number;
  /**
   * Read-only stores: when the directory holds no store yet, wait for a writer to create one
   * instead of throwing `StoreNotFoundError` (default false; the datapath agent sets it).
   */
  readonly waitForStore?: boolean;
  /**
   * Write an update's long lists as edits of its previous version in journal records (default
   * true; journal format 3, see journal-delta.ts). False writes every changed object whole
   * (benchmarks and tests compare the two). A format-2 journal opened by this build gets whole
   * objects until the next generation starts a format-3 journal.
   */
  readonly journalDeltas?: boolean;
  readonly logger?: Logger;
}

/** The state a bulk commit's `changes` lead to, at `revision`. */
function stateAfter(
  state: StoreState,
  changes: readonly Change[],
  revision: number,
): SnapshotSource {
  // a kind whose every object is deleted (a flush) needs no map of what replaced what
  const deletes = new Map<Kind, number>();
  for (const c of changes)
    if (c.type === 'deleted') deletes.set(c.kind, (deletes.get(c.kind) ?? 0) + 1);
  const emptied = new Set<Kind>();
  for (const [kind, n] of deletes) if (n === state.objects(kind).size) emptied.add(kind);
  const replaced = new Map<Kind, Map<string, AnyObject | null>>();
  const created = new Map<Kind, AnyObject[]>();
  let count = state.count();
  for (const c of changes) {
    if (c.type === 'created') {
      let list = created.get(c.kind);
      if (list === undefined) created.set(c.kind, (list = []));
      list.push(c.object!);
      count++;
      continue;
    }
    if (c.type === 'deleted') count--;
    if (emptied.has(c.kind)) continue;
    let m = replaced.get(c.kind);
    if (m === undefined) replaced.set(c.kind, (m = new Map()));
    m.set(c.id, c.type === 'deleted' ? null : c.object!);
  }
  function* values(kind: Kind): Generator<AnyObject> {
    const m = replaced.get(kind);
    if (!emptied.has(kind)) {
      for (const obj of state.objects(kind).values()) {
        const now = m === undefined ? obj : m.get(obj.id);
        if (now === undefined) yield obj;
        else if (now !== null) yield now;
      }
    }
    yield* created.get(kind) ?? [];
  }
  return { revision, count: () => count, objects: (kind) => ({ values: () => values(kind) }) };
}

/** The state a bulk create leads to, at `revision`: committed objects (the updated ones in
 * their new version), then each kind's new objects in op order (what `stateAfter` gives for the
 * same commit's changes, without a list of them). */
function stateAfterCreate(state: StoreState, bulk: BulkCreated, revision: number): SnapshotSource {
  const replaced = new Map<Kind, Map<string, AnyObject>>();
  for (const c of bulk.updated) {
    let m = replaced.get(c.kind);
    if (m === undefined) replaced.set(c.kind, (m = new Map()));
    m.set(c.id, c.object!);
  }
  let count = state.count();
  for (const m of bulk.created.values()) count += m.size;
  function* values(kind: Kind): Generator<AnyObject> {
    const m = replaced.get(kind);
    for (const obj of state.objects(kind).values()) yield m?.get(obj.id) ?? obj;
    const created = bulk.created.get(kind);
    if (created !== undefined) yield* created.values();
  }
  return { revision, count: () => count, objects: (kind) => ({ values: () => values(kind) }) };
}

class FileStore extends EmbeddedStore {
  private journalSize: number;
  private recordsSinceSnapshot: number;
  private failure: Error | undefined;
  private generation: number;
  private baseRevision: number;
  private readonly storeId: number;
  /** Whether records hold list edits (a format-3 journal, and `journalDeltas` not false). */
  private deltas: boolean;

  constructor(
    private readonly dir: string,
    loaded: Loaded,
    private journal: FileHandle,
    private manifest: ManifestFile | undefined,
    private readonly lock: DirLock,
    private readonly options: FileStoreOptions,
    private readonly logger: Logger,
  ) {
    const hub = new WatchHub(loaded.snapshotRevision, options.historySize);
    for (const ev of loaded.events) hub.publish(ev);
    super(loaded.state, hub);
    this.journalSize = loaded.journal.offset;
    this.recordsSinceSnapshot = loaded.events.length;
    this.generation = loaded.generation;
    // a format-1 store gets its id when the upgrade writes its first format-2 generation
    this.storeId = loaded.store === 0 && loaded.layout === 'format-1' ? newStoreId() : loaded.store;
    this.baseRevision = loaded.snapshotRevision;
    this.deltas =
      loaded.journal.header.version >= JOURNAL_FORMAT_VERSION && options.journalDeltas !== false;
  }

  protected override checkWritable(): void {
    super.checkWritable();
    if (this.failure) {
      throw new StoreError(`store ${this.dir} refuses writes after a failed write`, {
        cause: this.failure,
      });
    }
  }

  /**
   * Appends the commit's record and syncs it, then records the revision in the manifest and
   * syncs that: only then is the commit acknowledged (the manifest is how a lost record is
   * noticed at the next open).
   */
  protected async persist(revision: number, changes: readonly Change[]): Promise<void> {
    // persist runs before the commit is applied: the state holds each object's previous version
    const previous = this.deltas ? (kind: Kind, id: string) => this.state.get(kind, id) : undefined;
    const record = encodeRecord(revision, changes, previous);
    const sync = this.options.fsync !== false;
    try {
      await writeAll(this.journal, record, this.journalSize);
      if (sync) await this.journal.datasync();
    } catch (e) {
      await this.rollback(e);
      throw new StoreError(`store ${this.dir}: journal write of revision ${revision} failed`, {
        cause: e,
      });
    }
    try {
      const m = {
        store: this.storeId,
        generation: this.generation,
        baseRevision: this.baseRevision,
        revision,
      };
      await this.manifest!.write(m, sync);
    } catch (e) {
      // The manifest may or may not name this revision now: cut the record off and stop
      // writing, so the next open either loads the last acknowledged commit or refuses.
      await this.rollback(e);
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      throw new StoreError(
        `store ${this.dir}: ${MANIFEST_FILE} write of revision ${revision} failed`,
        {
          cause: e,
        },
      );
    }
    this.journalSize += record.length;
  }

  /** Cuts a failed record off the journal; if even that fails, refuse further writes. */
  private async rollback(cause: unknown): Promise<void> {
    try {
      await this.journal.truncate(this.journalSize);
      await this.journal.datasync();
    } catch (e) {
      this.failure = e instanceof Error ? e : new Error(String(e));
      this.logger.error('store journal rollback failed', {
        dir: this.dir,
        error: String(e),
        cause: String(cause),
      });
    }
  }

  protected override async afterCommit(): Promise<void> {
    this.recordsSinceSnapshot++;
    const every = this.options.snapshotEvery ?? 10_000;
    const bytes = this.options.snapshotBytes ?? 64 * 1024 * 1024;
    if (this.recordsSinceSnapshot < every && this.journalSize < bytes) return;
    try {
      await this.compact();
    } catch (e) {
      // The commit itself is durable in the journal; a failed compaction is retried after the
      // next commit, unless it got as far as replacing the snapshot (then writes stop: the
      // old journal must not grow past the new snapshot).
      this.logger.error('store compaction failed', { dir: this.dir, error: String(e) });
    }
  }

  /** Writes the next generation (snapshot at the current revision, fresh journal, manifest). */
  async compact(): Promise<void> {
    await this.writeNextGeneration(this.state);
  }

  /** Writes the next generation from `source` (the state, or what a bulk commit leads to). */
  private async writeNextGeneration(source: SnapshotSource): Promise<void> {
    const started = Date.now();
    const revision = source.revision;
    const generation = this.generation + 1;
    let fresh: FileHandle;
    try {
      fresh = await writeGeneration(
        this.dir,
        source,
        { store: this.storeId, generation },
        async (m) => {
          if (!this.manifest) {
            // format 1 had no manifest: create it whole (atomically), then rewrite it in place
            await replaceFile(this.dir, MANIFEST_FILE, [encodeManifest(m)]);
            this.manifest = await ManifestFile.open(this.dir);
          } else await this.manifest.write(m, true);
        },
      );
    } catch (e) {
      if (e instanceof GenerationWriteError && e.snapshotReplaced) this.failure ??= e;
      throw e;
    }
    const old = this.journal;
    this.journal = fresh;
    await old.close();
    this.generation = generation;
    this.baseRevision = revision;
    this.journalSize = (await fresh.stat()).size;
    this.recordsSinceSnapshot = 0;
    this.deltas = this.options.journalDeltas !== false; // the fresh journal is format 3
    this.logger.info('store compacted', {
      dir: this.dir,
      revision,
      generation,
      objects: source.count(),
      duration_ms: Date.now() - started,
    });
  }

  /**
   * A bulk commit is made durable as the next generation, written from the state it leads
   * to: one write of every object instead of a journal record of the batch that the
   * compaction its size triggers would write a second time. A failure before the new snapshot
   * is in place fails the commit and changes nothing; after it, writes stop (as for a
   * compaction) and the next open loads the new snapshot.
   */
  protected override async persistBulk(
    revision: number,
    changes: readonly Change[],
  ): Promise<void> {
    await this.writeNextGeneration(stateAfter(this.state, changes, revision));
  }

  protected override async persistBulkCreate(revision: number, bulk: BulkCreated): Promise<void> {
    await this.writeNextGeneration(stateAfterCreate(this.state, bulk, revision));
  }

  protected override async afterBulk(): Promise<void> {
    // persistBulk wrote a generation at this revision: nothing to compact
  }

  protected override async release(): Promise<void> {
    await this.journal.close();
    await this.manifest?.close();
    this.lock.release();
  }
}

/** Creates a new, empty store in `dir` (generation 1 at revision 0; the manifest last). */
async function createStore(dir: string, logger: Logger): Promise<void> {
  const store = newStoreId();
  await replaceFile(dir, SNAPSHOT_FILE, encodeSnapshot(0, [], 0, 1, store));
  await replaceFile(dir, JOURNAL_FILE, [encodeJournalHeader(0, 1, store)]);
  await replaceFile(dir, MANIFEST_FILE, [
    encodeManifest({ store, generation: 1, baseRevision: 0, revision: 0 }),
  ]);
  logger.info('store created', { dir, store });
}

async function loadOrCreate(dir: string, logger: Logger): Promise<Loaded> {
  try {
    return await loadDir(dir);
  } catch (e) {
    if (!(e instanceof StoreNotFoundError)) throw e;
    await createStore(dir, logger);
    return loadDir(dir);
  }
}

async function openWriter(
  dir: string,
  options: FileStoreOptions,
  logger: Logger,
): Promise<TopologyStore> {
  await mkdir(dir, { recursive: true });
  const lock = acquireLock(dir);
  let journal: FileHandle | undefined;
  let manifest: ManifestFile | undefined;
  try {
    const loaded = await loadOrCreate(dir, logger);
    await loaded.journal.handle.close();
    const torn = loaded.journal.torn;
    journal = await open(join(dir, JOURNAL_FILE), 'r+');
    if (torn) {
      logger.warn('store journal torn tail dropped', {
        dir,
        offset: torn.offset,
        reason: torn.reason,
        ...(torn.revision !== undefined ? { revision: torn.revision } : {}),
      });
      await journal.truncate(torn.offset);
      await journal.datasync();
    }
    if (options.verify !== false) checkVerified(dir, loaded.state);
    if (loaded.manifest) manifest = await ManifestFile.open(dir);
    const store = new FileStore(dir, loaded, journal, manifest, lock, options, logger);
    if (loaded.layout !== 'current') {
      // format 1 (no manifest yet) or a compaction stopped between its renames: write the
      // next generation now, so every later commit lands in a current layout.
      await store.compact();
      logger.warn(
        loaded.layout === 'format-1'
          ? 'store upgraded from format 1'
          : 'store compaction finished at open',
        {
          dir,
          revision: loaded.state.revision,
        },
      );
    }
    return store;
  } catch (e) {
    await journal?.close();
    await manifest?.close();
    lock.release();
    throw e;
  }
}

/** Opens (creating if needed) the file store in `dir`. See `FileStoreOptions` for defaults. */
export async function openFileStore(
  dir: string,
  options: FileStoreOptions = {},
): Promise<TopologyStore> {
  const logger = options.logger ?? silentLogger();
  if (options.readOnly) {
    return openFollower(dir, options, logger);
  }
  return openWriter(dir, options, logger);
}
