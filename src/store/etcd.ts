/**
 * The etcd v3 backend (the distributed option, MidoNet's ZooKeeper role): one key per object
 * under a root, every commit one etcd transaction. A transaction runs the shared engine
 * (`runTransaction`) against the local cache, recording every object it reads; the commit
 * compares the mod revision of every object read or written (and of the `rev` key, which keeps
 * store revisions consecutive, and of the controller lock), then puts or deletes every changed
 * object. A failed compare means the cache was behind: wait for the watch to catch up, re-run,
 * retry. Reads are served by the cache. Layout and trade-offs: docs/etcd.md.
 */
import { hostname } from 'node:os';
import type { Etcd3, ICompare, IRequestOp } from 'etcd3';
import { silentLogger, type Logger } from '../common/index.js';
import { ConcurrentModificationError, RevisionCompactedError, StoreError } from './errors.js';
import { EtcdCache } from './etcd-cache.js';
import { EtcdKeys, encodeObject, parseEtcdSpec, toStoreError } from './etcd-keys.js';
import { ControllerLock } from './etcd-lock.js';
import { watchEtcdHistory } from './etcd-history.js';
import { NAMED_KINDS } from './schema.js';
import { StoreState } from './state.js';
import { runTransaction } from './transaction.js';
import { checkBulkCreate, runBulkCreate, type CreateOp } from './bulk.js';
import { checkBulkDelete, runBulkDelete, type DeleteOp } from './bulk-delete.js';
import { bulkCommit, deferPeers, type BulkLimits } from './etcd-bulk.js';
import type {
  AnyObject,
  Change,
  ChangeEvent,
  CommitResult,
  Kind,
  ListFilter,
  ObjectOf,
  Op,
  TopologyStore,
} from './types.js';
import { isHandedOverBatch, isKind } from './validate.js';

/** Options of `openEtcdStore`. */
export interface EtcdStoreOptions {
  /** Read and watch only: no controller lock, transactions refused (default false). */
  readonly readOnly?: boolean;
  /** Writers: take the controller lock, waiting while another process holds it (default true). */
  readonly lock?: boolean;
  /** Lease TTL of the controller lock in seconds (default 10). */
  readonly lockTtlSeconds?: number;
  /** Who holds the lock, shown to waiting controllers (default `<hostname>:<pid>`). */
  readonly holder?: string;
  /** Aborts a wait for the controller lock. */
  readonly signal?: AbortSignal;
  /** Re-runs of a transaction after a failed compare, with growing jitter (default 10). */
  readonly commitRetries?: number;
  /** Deadline of every unary etcd call in ms (default 10,000). */
  readonly callTimeoutMs?: number;
  /** Commits kept in memory for `watch` resumption (default 10,000). */
  readonly historySize?: number;
  /** Bulk creates and deletes: at most this many changed objects per etcd transaction
   * (default 5,000; halved, for the life of the store, while etcd refuses one for its size). */
  readonly bulkMaxOps?: number;
  readonly logger?: Logger;
}

/** Records the objects a transaction reads from the cache (the keys its commit compares). */
class ReadTracking extends StoreState {
  readonly reads = new Map<Kind, Set<string>>();

  constructor(private readonly inner: StoreState) {
    super();
    this.revision = inner.revision;
  }

  override get(kind: Kind, id: string): AnyObject | undefined {
    let ids = this.reads.get(kind);
    if (!ids) this.reads.set(kind, (ids = new Set()));
    ids.add(id);
    return this.inner.get(kind, id);
  }

  /** The inner state's map (a bulk delete asks a kind's size; the `rev` fence covers it). */
  override objects(kind: Kind): ReadonlyMap<string, AnyObject> {
    return this.inner.objects(kind);
  }
}

/** Serves a watch from the in-memory hub, or from etcd's history when the hub no longer (or
 * never) held the revisions asked for. */
async function* watchWithHistory(
  fromHub: AsyncIterable<ChangeEvent>,
  fromEtcd: () => AsyncIterable<ChangeEvent>,
): AsyncGenerator<ChangeEvent> {
  const it = fromHub[Symbol.asyncIterator]();
  let first: IteratorResult<ChangeEvent>;
  try {
    first = await it.next();
  } catch (e) {
    if (!(e instanceof RevisionCompactedError)) throw e;
    yield* fromEtcd();
    return;
  }
  try {
    for (let r = first; !r.done; r = await it.next()) yield r.value;
  } finally {
    await it.return?.();
  }
}

function checkKind(kind: unknown): asserts kind is Kind {
  if (!isKind(kind)) throw new StoreError(`unknown kind ${String(kind)}`);
}

class EtcdStore implements TopologyStore {
  private closed = false;
  /** Aborted on close: ends the etcd watches of `watch` calls served from etcd history. */
  private readonly closing = new AbortController();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly bulkLimits: BulkLimits;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly endpoints: string,
    private readonly cache: EtcdCache,
    private readonly lock: ControllerLock | undefined,
    private readonly options: EtcdStoreOptions,
    private readonly logger: Logger,
  ) {
    this.bulkLimits = { ops: options.bulkMaxOps ?? 5_000 };
  }

  async get<K extends Kind>(kind: K, id: string): Promise<ObjectOf<K> | undefined> {
    checkKind(kind);
    return this.cache.state.get(kind, id) as ObjectOf<K> | undefined;
  }

  async getByName<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K> | undefined> {
    checkKind(kind);
    if (!NAMED_KINDS.has(kind)) return undefined;
    return this.cache.state.getByName(kind, name) as ObjectOf<K> | undefined;
  }

  async list<K extends Kind>(kind: K, filter?: ListFilter): Promise<readonly ObjectOf<K>[]> {
    checkKind(kind);
    const all = this.cache.state.list(kind) as readonly ObjectOf<K>[];
    const entries = filter ? Object.entries(filter) : [];
    if (entries.length === 0) return all;
    return all.filter((o) => {
      const rec = o as unknown as Record<string, unknown>;
      return entries.every(([f, v]) => rec[f] === v);
    });
  }

  async revision(): Promise<number> {
    return this.cache.state.revision;
  }

  watch(fromRevision: number, signal?: AbortSignal): AsyncIterable<ChangeEvent> {
    return watchWithHistory(this.cache.hub.watch(fromRevision, signal), () =>
      watchEtcdHistory(
        this.client,
        this.keys,
        fromRevision,
        signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal,
        this.endpoints,
      ),
    );
  }

  transaction(ops: readonly Op[]): Promise<CommitResult> {
    return this.exclusive(() => this.commit((state) => runTransaction(state, ops)));
  }

  /** Creates many new objects as a sequence of commits within etcd's request limits (see
   * `bulkCommit`). */
  bulkCreate(ops: readonly CreateOp[]): Promise<CommitResult> {
    const handedOver = isHandedOverBatch(ops);
    return this.exclusive(() =>
      this.bulk(
        ops,
        (state, batch) => runBulkCreate(state, deferPeers(state, batch), handedOver),
        (state, all) => checkBulkCreate(state, all, handedOver),
      ),
    );
  }

  /** Deletes many objects as a sequence of commits within etcd's request limits (see
   * `bulkCommit`); give them children first, as a flush plans them. */
  bulkDelete(ops: readonly DeleteOp[]): Promise<CommitResult> {
    return this.exclusive(() => this.bulk(ops, runBulkDelete, checkBulkDelete));
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async bulk<O extends Op>(
    ops: readonly O[],
    engine: (state: StoreState, ops: readonly O[]) => Change[],
    check: (state: StoreState, ops: readonly O[]) => boolean,
  ): Promise<CommitResult> {
    this.checkWritable();
    return bulkCommit(this.cache.state, ops, engine, check, this.bulkLimits, (run) =>
      this.commit(run),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.closing.abort();
    await this.cache.close();
    await this.lock?.release();
    this.client.close();
  }

  private checkWritable(): void {
    if (this.closed) throw new StoreError('transaction on a closed store');
    if (this.options.readOnly) {
      throw new StoreError(`etcd store ${this.keys.root} was opened read-only`);
    }
  }

  /** Commits what `run` computes against the cache as one etcd transaction (re-run on a lost
   * race). */
  private async commit(run: (state: StoreState) => Change[]): Promise<CommitResult> {
    this.checkWritable();
    const retries = this.options.commitRetries ?? 10;
    for (let attempt = 0; ; attempt++) {
      if (this.lock?.lost) await this.lock.reacquire().catch(this.mapError('lock'));
      const base = this.cache.state;
      const seen = this.cache.commitModRevision;
      const tracking = new ReadTracking(base);
      let changes;
      try {
        changes = run(tracking);
      } catch (e) {
        // The cache may lag a commit made elsewhere: refuse only on an up-to-date cache.
        if (attempt < retries && (await this.catchUp(seen))) continue;
        throw e;
      }
      const revision = base.revision;
      if (changes.length === 0) return { revision };
      const compare: ICompare[] = [this.fence(this.keys.revision, this.cache.commitModRevision)];
      if (this.lock) {
        compare.push({
          key: Buffer.from(this.keys.lock),
          target: 'Create',
          result: 'Equal',
          create_revision: this.lock.createRevision,
        });
      }
      for (const [kind, ids] of tracking.reads) {
        for (const id of ids) {
          const key = this.keys.object(kind, id);
          compare.push(this.fence(key, this.cache.modRevision(key)));
        }
      }
      // and every key written that was not read (a bulk create into an empty kind reads none)
      for (const c of changes) {
        if (tracking.reads.get(c.kind)?.has(c.id) === true) continue;
        const key = this.keys.object(c.kind, c.id);
        compare.push(this.fence(key, this.cache.modRevision(key)));
      }
      const success: IRequestOp[] = [];
      for (const c of changes) {
        const key = Buffer.from(this.keys.object(c.kind, c.id));
        if (c.type === 'deleted') success.push({ request_delete_range: { key } });
        else success.push({ request_put: { key, value: encodeObject(c.object!) } });
      }
      const value = Buffer.from(String(revision + 1));
      success.push({ request_put: { key: Buffer.from(this.keys.revision), value } });
      const failure: IRequestOp[] = [{ request_range: { key: Buffer.from(this.keys.revision) } }];
      if (this.lock) failure.push({ request_range: { key: Buffer.from(this.keys.lock) } });
      const res = await this.client.kv.txn({ compare, success, failure }).catch((e: unknown) => {
        throw toStoreError(e, `commit of revision ${revision + 1}`, this.endpoints);
      });
      if (res.succeeded) {
        this.cache.applyOwn(changes, revision + 1, Number(res.header.revision));
        return { revision: revision + 1 };
      }
      const holder = res.responses[1]?.response_range.kvs[0]?.create_revision;
      if (this.lock && holder !== this.lock.createRevision && attempt < retries) {
        await this.lock.reacquire().catch(this.mapError('lock'));
        continue;
      }
      const latest = Number(res.responses[0]?.response_range.kvs[0]?.mod_revision ?? 0);
      this.logger.debug('etcd commit conflict', { root: this.keys.root, attempt, revision });
      if (attempt >= retries) {
        throw new ConcurrentModificationError(
          `etcd store ${this.keys.root}: commit after revision ${revision} lost ${attempt + 1} races with other writers`,
        );
      }
      await this.cache.waitForCommit(latest);
      // Jitter, so that a writer that keeps losing to a busy one gets its turn.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
  }

  private fence(key: string, modRevision: number): ICompare {
    return { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: modRevision };
  }

  private mapError(what: string): (e: unknown) => never {
    return (e: unknown) => {
      throw toStoreError(e, what, this.endpoints);
    };
  }

  /** True when a commit newer than the one at etcd revision `seen` exists (the cache has it
   * now). */
  private async catchUp(seen: number): Promise<boolean> {
    const res = await this.client.kv
      .range({ key: Buffer.from(this.keys.revision) })
      .catch(this.mapError('revision read'));
    const latest = Number(res.kvs[0]?.mod_revision ?? 0);
    if (latest <= seen) return false;
    await this.cache.waitForCommit(latest);
    return true;
  }
}

/**
 * Opens the etcd store a spec names (`etcd://host:port[,host:port…]/prefix`): connects, takes
 * the controller lock unless read-only (waiting while another writer holds it), loads the
 * cache and starts following. Throws `StoreUnavailableError` when etcd cannot be reached.
 */
export async function openEtcdStore(
  spec: string,
  options: EtcdStoreOptions = {},
): Promise<TopologyStore> {
  const logger = options.logger ?? silentLogger();
  const { hosts, root } = parseEtcdSpec(spec);
  const endpoints = hosts.join(',');
  const timeout = options.callTimeoutMs ?? 10_000;
  // loaded here, not at import: the daemon with the file store never loads etcd3 and gRPC
  // (about 26 MiB of RSS; test/daemon-modules.test.ts)
  const { Etcd3: Client } = await import('etcd3');
  const client = new Client({
    hosts: hosts.map((h) => `http://${h}`),
    dialTimeout: timeout,
    grpcOptions: {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
  });
  const keys = new EtcdKeys(root);
  let lock: ControllerLock | undefined;
  try {
    if (!options.readOnly && options.lock !== false) {
      const holder = options.holder ?? `${hostname()}:${process.pid}`;
      const ttl = options.lockTtlSeconds ?? 10;
      lock = await ControllerLock.acquire(client, keys, holder, ttl, logger, options.signal);
    }
    const cache = await EtcdCache.open(client, keys, logger, options.historySize);
    logger.info('etcd store opened', {
      endpoints,
      root,
      revision: cache.state.revision,
      read_only: options.readOnly === true,
    });
    return new EtcdStore(client, keys, endpoints, cache, lock, options, logger);
  } catch (e) {
    await lock?.release();
    client.close();
    throw toStoreError(e, `open of ${root}`, endpoints);
  }
}
