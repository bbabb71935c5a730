/**
 * Read-only followers of a file store directory (the datapath agent, the CLI). A follower
 * takes no lock; it polls the journal and applies each complete record as the writer appends
 * it, so its reads and `watch()` track the writer. When the writer compacts (a new journal
 * file), the follower drains the old file, then continues in the new one; if it fell behind
 * the new snapshot it reloads the directory and announces the difference as one event.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/index.js';
import { EmbeddedStore } from './base.js';
import { StoreError, StoreNotFoundError } from './errors.js';
import {
  corruptMessage,
  deepFreeze,
  JOURNAL_FILE,
  loadDirUnlocked,
  resolveRecord,
  type Loaded,
} from './file-load.js';
import type { FileStoreOptions } from './file.js';
import { decodeJournalHeader, JOURNAL_HEADER_SIZE, scanRecords } from './journal.js';
import type { StoreState } from './state.js';
import { KINDS, type Change, type TopologyStore } from './types.js';
import { checkVerified } from './verify.js';
import { WatchHub } from './watch.js';

interface Journal {
  handle: FileHandle;
  ino: number;
  offset: number;
}

/** After this long stuck on a damaged record, a follower logs an error (once per offset). */
const STUCK_MS = 2000;

class Follower extends EmbeddedStore {
  private journal: Journal | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stuck: { offset: number; since: number; reported: boolean } | undefined;

  constructor(
    private readonly dir: string,
    loaded: Loaded,
    private readonly options: FileStoreOptions,
    private readonly logger: Logger,
  ) {
    const hub = new WatchHub(loaded.snapshotRevision, options.historySize);
    for (const ev of loaded.events) hub.publish(ev);
    super(loaded.state, hub);
    this.adopt(loaded);
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 50);
  }

  protected override checkWritable(): void {
    throw new StoreError(`store ${this.dir} is open read-only: transaction refused`);
  }

  protected async persist(): Promise<void> {
    throw new StoreError(`store ${this.dir} is open read-only`);
  }

  protected override async release(): Promise<void> {
    clearInterval(this.timer);
    await this.journal?.handle.close();
    this.journal = undefined;
  }

  private adopt(loaded: Loaded | undefined): void {
    const j = loaded?.journal;
    this.journal = j ? { handle: j.handle, ino: j.ino, offset: j.offset } : undefined;
  }

  /** One poll tick; never throws (errors are logged and retried on the next tick). */
  async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      await this.exclusive(async () => {
        if (!this.closed) await this.pollOnce();
      });
    } catch (e) {
      this.logger.warn('store follower poll failed', { dir: this.dir, error: String(e) });
    } finally {
      this.polling = false;
    }
  }

  private async pollOnce(): Promise<void> {
    let st;
    try {
      st = await stat(join(this.dir, JOURNAL_FILE));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // no writer has created it yet
      throw e;
    }
    const j = this.journal;
    if (!j) return this.switchJournal();
    if (st.ino !== j.ino) {
      await this.readMore(j);
      return this.switchJournal();
    }
    if (st.size < j.offset) return this.reload('journal shrank');
    if (st.size > j.offset) await this.readMore(j);
  }

  /** Applies the complete records appended after `j.offset`. */
  private async readMore(j: Journal): Promise<void> {
    const size = (await j.handle.stat()).size;
    if (size <= j.offset) return;
    const buf = Buffer.allocUnsafe(size - j.offset);
    const { bytesRead } = await j.handle.read(buf, 0, buf.length, j.offset);
    const scan = scanRecords(buf.subarray(0, bytesRead), j.offset);
    for (const r of scan.records) {
      if (r.revision <= this.state.revision) {
        j.offset = r.end;
        continue;
      }
      if (r.revision !== this.state.revision + 1)
        return this.reload(`gap before revision ${r.revision}`);
      let changes: readonly Change[];
      try {
        changes = deepFreeze(resolveRecord(this.dir, this.state, r));
      } catch (e) {
        // a record that does not fit the state it follows: damaged, like a checksum failure
        this.noteStuck((e as Error).message, r.offset);
        return;
      }
      this.state.apply(changes, r.revision);
      this.hub.publish({ revision: r.revision, changes });
      j.offset = r.end;
    }
    if (scan.end.kind === 'corrupt')
      this.noteStuck(corruptMessage(this.dir, scan.end), scan.end.offset);
    else this.stuck = undefined;
  }

  /** A damaged record may be one the writer is still writing; only a lasting one is reported. */
  private noteStuck(message: string, offset: number): void {
    const now = Date.now();
    if (!this.stuck || this.stuck.offset !== offset)
      this.stuck = { offset, since: now, reported: false };
    if (!this.stuck.reported && now - this.stuck.since > STUCK_MS) {
      this.stuck.reported = true;
      this.logger.error('store follower stuck at a damaged journal record', {
        dir: this.dir,
        error: message,
      });
    }
  }

  /** Moves to the journal file now at the path (after a compaction or first creation). */
  private async switchJournal(): Promise<void> {
    const handle = await open(join(this.dir, JOURNAL_FILE), 'r');
    const header = Buffer.alloc(JOURNAL_HEADER_SIZE);
    await handle.read(header, 0, JOURNAL_HEADER_SIZE, 0);
    const decoded = decodeJournalHeader(header);
    if ('error' in decoded || decoded.baseRevision > this.state.revision) {
      await handle.close();
      return this.reload('journal replaced after a snapshot this follower has not seen');
    }
    await this.journal?.handle.close();
    this.journal = { handle, ino: (await handle.stat()).ino, offset: decoded.size };
    await this.readMore(this.journal);
  }

  /** Reloads the whole directory and announces the difference as one event. */
  private async reload(reason: string): Promise<void> {
    const loaded = await loadDirUnlocked(this.dir);
    const before = this.state;
    const changes = diffStates(before, loaded.state);
    await this.journal?.handle.close();
    this.state = loaded.state;
    this.adopt(loaded);
    this.logger.info('store follower reloaded', {
      dir: this.dir,
      reason,
      revision: loaded.state.revision,
    });
    if (loaded.state.revision <= before.revision) {
      this.logger.warn('store follower saw the revision go back', {
        dir: this.dir,
        revision: loaded.state.revision,
        previous: before.revision,
      });
      this.hub.reset(loaded.state.revision);
      return;
    }
    if (changes.length > 0) this.hub.publish({ revision: loaded.state.revision, changes });
  }
}

/** The changes that turn `a` into `b` (objects compared by version). */
function diffStates(a: StoreState, b: StoreState): Change[] {
  const out: Change[] = [];
  for (const kind of KINDS) {
    const oa = a.objects(kind);
    const ob = b.objects(kind);
    for (const [id, obj] of ob) {
      const old = oa.get(id);
      if (!old) out.push({ kind, id, type: 'created', object: obj });
      else if (old.version !== obj.version) out.push({ kind, id, type: 'updated', object: obj });
    }
    for (const id of oa.keys()) if (!ob.has(id)) out.push({ kind, id, type: 'deleted' });
  }
  return out;
}

/** Loads `dir`; with `waitForStore`, waits (polling) while it holds no store yet. */
async function loadWhenPresent(
  dir: string,
  options: FileStoreOptions,
  logger: Logger,
): Promise<Loaded> {
  for (let waiting = false; ; waiting = true) {
    try {
      return await loadDirUnlocked(dir);
    } catch (e) {
      if (!(e instanceof StoreNotFoundError) || !options.waitForStore) throw e;
      if (!waiting) logger.info('store not created yet, waiting for a writer', { dir });
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    }
  }
}

/**
 * Opens a read-only follower of `dir` (see the module comment). A directory that holds no
 * store is `StoreNotFoundError` (never an empty store), unless `waitForStore` is set.
 */
export async function openFollower(
  dir: string,
  options: FileStoreOptions,
  logger: Logger,
): Promise<TopologyStore> {
  const loaded = await loadWhenPresent(dir, options, logger);
  try {
    if (options.verify !== false) checkVerified(dir, loaded.state);
  } catch (e) {
    await loaded.journal.handle.close();
    throw e;
  }
  const follower = new Follower(dir, loaded, options, logger);
  follower.start();
  return follower;
}
