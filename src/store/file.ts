/**
 * The file backend (the default): one directory holding `LOCK`, `snapshot.ndjson` and
 * `journal.log` (formats in journal.ts). A commit is appended to the journal and fsynced
 * before it is applied, acknowledged or announced. Every `snapshotEvery` records (or 64 MiB of
 * journal) the state is compacted: snapshot to a temp file, fsync, rename, fsync the
 * directory, then a fresh journal the same way.
 * A read-only store takes no lock and follows the writer by polling the journal.
 */
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../common/index.js';
import { EmbeddedStore } from './base.js';
import { StoreError } from './errors.js';
import { JOURNAL_FILE, loadDir, SNAPSHOT_FILE, type Loaded } from './file-load.js';
import { openFollower } from './follower.js';
import {
  encodeJournalHeader,
  encodeRecord,
  encodeSnapshot,
  JOURNAL_HEADER_SIZE,
} from './journal.js';
import { acquireLock, type DirLock } from './lock.js';
import type { StoreState } from './state.js';
import { KINDS, type AnyObject, type Change, type Kind, type TopologyStore } from './types.js';
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
  readonly logger?: Logger;
}

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

async function writeAll(h: FileHandle, buf: Buffer, position?: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await h.write(
      buf,
      off,
      buf.length - off,
      position === undefined ? null : position + off,
    );
    off += bytesWritten;
  }
}

/** Writes `chunks` to `dir/name` atomically: temp file, fsync, rename, fsync directory. */
async function replaceFile(dir: string, name: string, chunks: Iterable<Buffer>): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const h = await open(tmp, 'w', 0o644);
  try {
    for (const c of chunks) await writeAll(h, c);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

function* allObjects(state: StoreState): Generator<readonly [Kind, AnyObject]> {
  for (const kind of KINDS) for (const obj of state.objects(kind).values()) yield [kind, obj];
}

class FileStore extends EmbeddedStore {
  private journalSize: number;
  private recordsSinceSnapshot: number;
  private failure: Error | undefined;

  constructor(
    private readonly dir: string,
    loaded: Loaded,
    private journal: FileHandle,
    private readonly lock: DirLock,
    private readonly options: FileStoreOptions,
    private readonly logger: Logger,
  ) {
    const hub = new WatchHub(loaded.snapshotRevision, options.historySize);
    for (const ev of loaded.events) hub.publish(ev);
    super(loaded.state, hub);
    this.journalSize = loaded.journal?.offset ?? JOURNAL_HEADER_SIZE;
    this.recordsSinceSnapshot = loaded.events.length;
  }

  protected override checkWritable(): void {
    super.checkWritable();
    if (this.failure) {
      throw new StoreError(`store ${this.dir} refuses writes after a failed journal write`, {
        cause: this.failure,
      });
    }
  }

  protected async persist(revision: number, changes: readonly Change[]): Promise<void> {
    const record = encodeRecord(revision, changes);
    try {
      await writeAll(this.journal, record, this.journalSize);
      if (this.options.fsync !== false) await this.journal.datasync();
    } catch (e) {
      await this.rollback(e);
      throw new StoreError(`store ${this.dir}: journal write of revision ${revision} failed`, {
        cause: e,
      });
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
      // next commit. compact() never leaves the store appending to a file that is not the journal.
      this.logger.error('store compaction failed', { dir: this.dir, error: String(e) });
    }
  }

  /** Writes a snapshot at the current revision and starts a fresh journal after it. */
  private async compact(): Promise<void> {
    const started = Date.now();
    const revision = this.state.revision;
    const count = this.state.count();
    await replaceFile(
      this.dir,
      SNAPSHOT_FILE,
      encodeSnapshot(revision, allObjects(this.state), count),
    );
    // The new journal is opened before it is renamed into place, so the handle always names the
    // file at the path: if the rename fails, the old journal stays in use (and stays valid).
    const tmp = join(this.dir, `${JOURNAL_FILE}.tmp`);
    const fresh = await open(tmp, 'w+', 0o644);
    try {
      await writeAll(fresh, encodeJournalHeader(revision), 0);
      await fresh.sync();
      await rename(tmp, join(this.dir, JOURNAL_FILE));
    } catch (e) {
      await fresh.close();
      throw e;
    }
    const old = this.journal;
    this.journal = fresh;
    await old.close();
    await fsyncDir(this.dir);
    this.journalSize = JOURNAL_HEADER_SIZE;
    this.recordsSinceSnapshot = 0;
    this.logger.info('store compacted', {
      dir: this.dir,
      revision,
      objects: count,
      duration_ms: Date.now() - started,
    });
  }

  protected override async release(): Promise<void> {
    await this.journal.close();
    this.lock.release();
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
  try {
    const loaded = await loadDir(dir);
    await loaded.journal?.handle.close();
    const torn = loaded.journal?.torn;
    if (!loaded.journal) {
      await replaceFile(dir, JOURNAL_FILE, [encodeJournalHeader(loaded.state.revision)]);
    }
    journal = await open(join(dir, JOURNAL_FILE), 'r+');
    if (torn) {
      logger.warn('store journal torn tail dropped', {
        dir,
        offset: torn.offset,
        reason: torn.reason,
      });
      await journal.truncate(torn.offset);
      await journal.datasync();
    }
    if (options.verify !== false) checkVerified(dir, loaded.state);
    return new FileStore(dir, loaded, journal, lock, options, logger);
  } catch (e) {
    await journal?.close();
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
