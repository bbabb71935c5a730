/**
 * The etcd backend's local cache: a `StoreState` mirror of one store root, loaded with one
 * range read and kept current by one etcd watch on the root, plus the etcd mod revision of
 * every object (what a transaction compares) and a `WatchHub` fed with every commit seen.
 * Commits are applied in etcd revision order; a commit is a group of events of one etcd
 * revision that puts the `<root>/rev` key (whose value is the store revision).
 */
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { Logger } from '../common/index.js';
import { StoreUnavailableError } from './errors.js';
import { decodeObject, type EtcdKeys } from './etcd-keys.js';
import { checkRevKey, type RevKey } from './etcd-check.js';
import { StoreState } from './state.js';
import { KINDS, type Change, type ChangeEvent, type Kind } from './types.js';
import { WatchHub } from './watch.js';

/** The end of the key range that holds every key starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  b[b.length - 1] = b[b.length - 1]! + 1;
  return b;
}

interface Waiter {
  readonly modRevision: number;
  readonly resolve: () => void;
}

/** The cache of one store root. */
export class EtcdCache {
  readonly state = new StoreState();
  readonly hub: WatchHub;
  /** etcd mod revision of every object key held. */
  private readonly modRevs = new Map<string, number>();
  /** Last etcd revision applied. */
  private etcdRevision = 0;
  /** etcd mod revision of the `rev` key: the latest commit seen (0 before the first). */
  commitModRevision = 0;
  private watcher: Watcher | undefined;
  private waiters: Waiter[] = [];
  private closed = false;

  private constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private readonly logger: Logger,
    historySize: number | undefined,
    loaded: { revision: number },
  ) {
    this.hub = new WatchHub(loaded.revision, historySize);
  }

  /** Loads the root and starts following it. */
  static async open(
    client: Etcd3,
    keys: EtcdKeys,
    logger: Logger,
    historySize?: number,
  ): Promise<EtcdCache> {
    const snap = await readAll(client, keys);
    const cache = new EtcdCache(client, keys, logger, historySize, snap);
    cache.load(snap);
    await cache.follow();
    return cache;
  }

  /** The etcd mod revision of an object key (0 when the cache does not hold it). */
  modRevision(key: string): number {
    return this.modRevs.get(key) ?? 0;
  }

  /**
   * Applies this process's own commit, if the watch has not delivered it yet (the commit's
   * compare proved the cache held the state right before it).
   */
  applyOwn(changes: readonly Change[], revision: number, etcdRevision: number): void {
    if (this.state.revision !== revision - 1 || etcdRevision <= this.etcdRevision) return;
    for (const c of changes) {
      const key = this.keys.object(c.kind, c.id);
      if (c.type === 'deleted') this.modRevs.delete(key);
      else this.modRevs.set(key, etcdRevision);
    }
    this.state.apply(changes, revision);
    this.etcdRevision = etcdRevision;
    this.commitModRevision = etcdRevision;
    this.hub.publish({ revision, changes });
    this.wake();
  }

  /** Resolves once the cache has applied the commit at etcd revision `modRevision`. */
  async waitForCommit(modRevision: number, timeoutMs = 15_000): Promise<void> {
    if (this.commitModRevision >= modRevision || this.closed) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new StoreUnavailableError(
            `etcd store ${this.keys.root}: the watch did not deliver revision ${modRevision} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        modRevision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Stops following etcd and ends every watch. */
  async close(): Promise<void> {
    this.closed = true;
    this.hub.close();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
    const watcher = this.watcher;
    this.watcher = undefined;
    // A cancel against a dead connection cannot succeed; the client is closed right after.
    if (watcher) await watcher.cancel().catch(() => undefined);
  }

  private load(snap: Snapshot): void {
    for (const { kind, id, obj, modRevision } of snap.objects) {
      this.state.put(kind, obj);
      this.modRevs.set(this.keys.object(kind, id), modRevision);
    }
    this.state.revision = snap.revision;
    this.commitModRevision = snap.commitModRevision;
    this.etcdRevision = snap.etcdRevision;
  }

  private async follow(): Promise<void> {
    const watcher = await this.client
      .watch()
      .prefix(this.keys.prefix)
      .startRevision(String(this.etcdRevision + 1))
      .create();
    this.watcher = watcher;
    watcher.on('data', (res: IWatchResponse) => this.onData(res));
    watcher.on('disconnected', (err: Error) => {
      this.logger.warn('etcd watch disconnected', { root: this.keys.root, error: err.message });
    });
    watcher.on('connected', () => {
      this.logger.debug('etcd watch connected', { root: this.keys.root });
    });
    watcher.on('error', (err: Error) => {
      // Compacted past our position (or cancelled by the server): reload the whole root.
      this.logger.warn('etcd watch cancelled; reloading', {
        root: this.keys.root,
        error: err.message,
      });
      if (this.watcher === watcher) this.watcher = undefined;
      void this.resync();
    });
  }

  private onData(res: IWatchResponse): void {
    let group: IKeyValue[] = [];
    let groupRev = -1;
    const events = res.events;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const rev = Number(ev.kv.mod_revision);
      if (rev !== groupRev && group.length > 0) {
        this.applyGroup(groupRev, group, deletesOf(events, i - group.length, i));
        group = [];
      }
      groupRev = rev;
      group.push(ev.kv);
    }
    if (group.length > 0) {
      this.applyGroup(groupRev, group, deletesOf(events, events.length - group.length));
    }
  }

  /** Applies the events of one etcd revision (`deleted[i]` tells whether kvs[i] is a delete). */
  private applyGroup(etcdRevision: number, kvs: readonly IKeyValue[], deleted: boolean[]): void {
    if (etcdRevision <= this.etcdRevision) return;
    const changes: Change[] = [];
    let revision: number | undefined;
    for (let i = 0; i < kvs.length; i++) {
      const kv = kvs[i]!;
      const key = kv.key.toString('utf8');
      if (key === this.keys.revision) {
        if (!deleted[i]) revision = Number(kv.value.toString('utf8'));
        continue;
      }
      const ref = this.keys.parseObject(key);
      if (!ref) continue;
      if (deleted[i]) {
        this.modRevs.delete(key);
        changes.push({ kind: ref.kind, id: ref.id, type: 'deleted' });
      } else {
        this.modRevs.set(key, etcdRevision);
        let object;
        try {
          object = decodeObject(key, kv.value);
        } catch (e) {
          // Written by something other than a store (bad JSON): keep the last good object; a
          // commit reading it fails its compare until the key is repaired.
          this.logger.error('etcd key holds no valid object', { key, error: String(e) });
          this.modRevs.set(key, -1);
          continue;
        }
        const type = kv.version === '1' ? 'created' : 'updated';
        changes.push({ kind: ref.kind, id: ref.id, type, object });
      }
    }
    this.etcdRevision = etcdRevision;
    if (revision !== undefined && Number.isSafeInteger(revision)) {
      this.state.apply(changes, revision);
      this.commitModRevision = etcdRevision;
      this.hub.publish({ revision, changes });
      this.wake();
    } else if (changes.length > 0) {
      this.state.apply(changes, this.state.revision);
      this.logger.warn('etcd objects changed outside a store commit', {
        root: this.keys.root,
        etcd_revision: etcdRevision,
        objects: changes.length,
      });
    }
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => w.modRevision <= this.commitModRevision);
    this.waiters = this.waiters.filter((w) => w.modRevision > this.commitModRevision);
    for (const w of done) w.resolve();
  }

  /** Reloads the root after the watch lost its position; announces the difference as one
   * event so that watchers stay consistent. Retries until it succeeds or the cache closes. */
  private async resync(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const snap = await readAll(this.client, this.keys);
        const changes = diffSnapshot(this.state, snap);
        for (const { kind, id, modRevision } of snap.objects)
          this.modRevs.set(this.keys.object(kind, id), modRevision);
        for (const c of changes)
          if (c.type === 'deleted') this.modRevs.delete(this.keys.object(c.kind, c.id));
        const revision = Math.max(snap.revision, this.state.revision);
        this.state.apply(changes, revision);
        this.commitModRevision = snap.commitModRevision;
        this.etcdRevision = snap.etcdRevision;
        if (changes.length > 0) this.hub.publish({ revision, changes } satisfies ChangeEvent);
        this.wake();
        await this.follow();
        return;
      } catch (e) {
        this.logger.warn('etcd cache reload failed', {
          root: this.keys.root,
          attempt,
          error: String(e),
        });
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
  }
}

function deletesOf(events: IWatchResponse['events'], from: number, to = events.length): boolean[] {
  const out: boolean[] = [];
  for (let i = from; i < to; i++) out.push(events[i]!.type === 'Delete');
  return out;
}

interface Snapshot {
  readonly revision: number;
  readonly commitModRevision: number;
  readonly etcdRevision: number;
  readonly objects: readonly {
    kind: Kind;
    id: string;
    obj: ReturnType<typeof decodeObject>;
    modRevision: number;
  }[];
}

async function readAll(client: Etcd3, keys: EtcdKeys): Promise<Snapshot> {
  const res = await client.kv.range({
    key: Buffer.from(keys.prefix),
    range_end: prefixEnd(keys.prefix),
  });
  const objects: Snapshot['objects'][number][] = [];
  let revision = 0;
  let commitModRevision = 0;
  let rev: RevKey | undefined;
  for (const kv of res.kvs) {
    const key = kv.key.toString('utf8');
    if (key === keys.revision) {
      rev = {
        value: kv.value.toString('utf8'),
        version: Number(kv.version),
        modRevision: Number(kv.mod_revision),
      };
      revision = Number(rev.value);
      commitModRevision = rev.modRevision;
      continue;
    }
    const ref = keys.parseObject(key);
    if (!ref) continue;
    objects.push({
      ...ref,
      obj: decodeObject(key, kv.value),
      modRevision: Number(kv.mod_revision),
    });
  }
  checkRevKey(keys.root, rev, objects);
  return { revision, commitModRevision, etcdRevision: Number(res.header.revision), objects };
}

function diffSnapshot(state: StoreState, snap: Snapshot): Change[] {
  const changes: Change[] = [];
  const seen = new Set<string>();
  for (const { kind, id, obj } of snap.objects) {
    seen.add(kind + '/' + id);
    const old = state.get(kind, id);
    if (!old) changes.push({ kind, id, type: 'created', object: obj });
    else if (JSON.stringify(old) !== JSON.stringify(obj))
      changes.push({ kind, id, type: 'updated', object: obj });
  }
  for (const kind of KINDS) {
    for (const id of state.objects(kind).keys()) {
      if (!seen.has(kind + '/' + id)) changes.push({ kind, id, type: 'deleted' });
    }
  }
  return changes;
}
