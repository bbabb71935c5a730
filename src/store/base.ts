/**
 * What every embedded backend shares: reads over the committed `StoreState`, the watch hub,
 * and `transaction()` under a single writer mutex (compute changes → persist → apply →
 * announce). Backends differ only in `persist` (nothing for memory, journal + fsync for file).
 */
import { StoreError } from './errors.js';
import { NAMED_KINDS } from './schema.js';
import { StoreState } from './state.js';
import { runBulkDelete, type DeleteOp } from './bulk-delete.js';
import { prepareBulkCreate, type BulkCreated, type CreateOp } from './bulk.js';
import { runTransaction } from './transaction.js';
import type {
  AnyObject,
  ChangeEvent,
  Change,
  CommitResult,
  Kind,
  ListFilter,
  ObjectOf,
  Op,
  TopologyStore,
} from './types.js';
import { isKind } from './validate.js';
import { WatchHub } from './watch.js';

function checkKind(kind: unknown): asserts kind is Kind {
  if (!isKind(kind)) throw new StoreError(`unknown kind ${String(kind)}`);
}

/** Base class of the memory and file backends. */
export abstract class EmbeddedStore implements TopologyStore {
  /** The committed state; replaced only by a follower reload. */
  state: StoreState;
  protected readonly hub: WatchHub;
  protected closed = false;
  private tail: Promise<unknown> = Promise.resolve();

  protected constructor(state: StoreState, hub: WatchHub) {
    this.state = state;
    this.hub = hub;
  }

  async get<K extends Kind>(kind: K, id: string): Promise<ObjectOf<K> | undefined> {
    checkKind(kind);
    return this.state.get(kind, id) as ObjectOf<K> | undefined;
  }

  async getByName<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K> | undefined> {
    checkKind(kind);
    if (!NAMED_KINDS.has(kind)) return undefined;
    return this.state.getByName(kind, name) as ObjectOf<K> | undefined;
  }

  async list<K extends Kind>(kind: K, filter?: ListFilter): Promise<readonly ObjectOf<K>[]> {
    checkKind(kind);
    const all = this.state.list(kind) as readonly ObjectOf<K>[];
    if (!filter) return all;
    const entries = Object.entries(filter);
    if (entries.length === 0) return all;
    return all.filter((o) => {
      const rec = o as unknown as Record<string, unknown>;
      return entries.every(([f, v]) => rec[f] === v);
    });
  }

  async revision(): Promise<number> {
    return this.state.revision;
  }

  /** The live map of one kind's committed objects (see `TopologyReader.committedObjects`). */
  committedObjects<K extends Kind>(kind: K): ReadonlyMap<string, ObjectOf<K>> {
    checkKind(kind);
    return this.state.objects(kind) as ReadonlyMap<string, ObjectOf<K>>;
  }

  watch(fromRevision: number, signal?: AbortSignal): AsyncIterable<ChangeEvent> {
    return this.hub.watch(fromRevision, signal);
  }

  /** Commits `ops` atomically; an empty or no-op transaction commits nothing and returns the
   * current revision. */
  transaction(ops: readonly Op[]): Promise<CommitResult> {
    return this.exclusive(async () => {
      this.checkWritable();
      const changes = runTransaction(this.state, ops);
      if (changes.length === 0) return { revision: this.state.revision };
      const revision = this.state.revision + 1;
      await this.persist(revision, changes);
      this.state.apply(changes, revision);
      this.hub.publish({ revision, changes });
      await this.afterCommit();
      return { revision };
    });
  }

  /** Creates many new objects as one commit (see `TopologyWriter.bulkCreate`); persisted by
   * `persistBulk`. */
  bulkCreate(ops: readonly CreateOp[]): Promise<CommitResult> {
    return this.exclusive(async () => {
      this.checkWritable();
      const bulk = prepareBulkCreate(this.state, ops);
      if (bulk.size === 0) return { revision: this.state.revision };
      const revision = this.state.revision + 1;
      await this.persistBulkCreate(revision, bulk);
      this.state.applyCreated(bulk.created, bulk.updated, revision);
      // change records only for a watch listening now (see `bulk`)
      this.hub.announce(revision, () => bulk.changes());
      await this.afterBulk();
      return { revision };
    });
  }

  /** Deletes many objects as one commit (see `TopologyWriter.bulkDelete`); persisted by
   * `persistBulk`. */
  bulkDelete(ops: readonly DeleteOp[]): Promise<CommitResult> {
    return this.bulk(() => runBulkDelete(this.state, ops));
  }

  private bulk(run: () => Change[]): Promise<CommitResult> {
    return this.exclusive(async () => {
      this.checkWritable();
      const changes = run();
      if (changes.length === 0) return { revision: this.state.revision };
      const revision = this.state.revision + 1;
      await this.persistBulk(revision, changes);
      this.state.apply(changes, revision);
      this.hub.announce(revision, () => changes);
      // announced, not kept: a bulk commit's history would hold every object it wrote (and
      // their replaced versions) until 10,000 more commits; a watch resuming from before it
      // gets RevisionCompactedError and re-lists
      await this.afterBulk();
      return { revision };
    });
  }

  async close(): Promise<void> {
    await this.exclusive(async () => {
      if (this.closed) return;
      this.closed = true;
      this.hub.close();
      await this.release();
    });
  }

  /** Runs `fn` after every earlier exclusive section (the single writer mutex). */
  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  protected checkWritable(): void {
    if (this.closed) throw new StoreError('transaction on a closed store');
  }

  /** Makes a commit durable before it is applied and announced. */
  protected abstract persist(revision: number, changes: readonly Change[]): Promise<void>;
  /** Makes a bulk commit durable before it is applied and announced (default: as a commit). */
  protected persistBulk(revision: number, changes: readonly Change[]): Promise<void> {
    return this.persist(revision, changes);
  }
  /** Makes a bulk create durable before it is applied and announced (default: as a bulk
   * commit of its changes). */
  protected persistBulkCreate(revision: number, bulk: BulkCreated): Promise<void> {
    return this.persistBulk(revision, bulk.changes());
  }
  /** Housekeeping after a bulk commit (default: as after a commit). */
  protected afterBulk(): Promise<void> {
    return this.afterCommit();
  }
  /** Housekeeping after a commit (snapshots), still under the mutex. */
  protected async afterCommit(): Promise<void> {}
  /** Releases files and locks. */
  protected async release(): Promise<void> {}
}
