/**
 * `watch` from a store revision older than this process has seen: maps the store revision onto
 * an etcd revision (binary search over historical reads of the `rev` key, whose value is the
 * store revision at every etcd revision) and streams an etcd watch from there, one
 * `ChangeEvent` per commit. History below etcd's compaction point → `RevisionCompactedError`.
 */
import type { Etcd3, IWatchResponse } from 'etcd3';
import { RevisionCompactedError, StoreError } from './errors.js';
import { decodeObject, toStoreError, type EtcdKeys } from './etcd-keys.js';
import type { Change, ChangeEvent } from './types.js';

const COMPACTED = /compacted/i;

function compacted(from: number, cause: unknown): RevisionCompactedError {
  return new RevisionCompactedError(
    `watch from revision ${from}: etcd has compacted that history; re-list`,
    { cause },
  );
}

/** The store revision at etcd revision `at`, or `null` when etcd compacted it. */
async function storeRevisionAt(client: Etcd3, keys: EtcdKeys, at: number): Promise<number | null> {
  try {
    const res = await client.kv.range({ key: Buffer.from(keys.revision), revision: at });
    const kv = res.kvs[0];
    return kv ? Number(kv.value.toString('utf8')) : 0;
  } catch (e) {
    if (COMPACTED.test(String(e))) return null;
    throw e;
  }
}

/** The first etcd revision whose store revision exceeds `from` (a future one if none does). */
async function etcdRevisionAfter(client: Etcd3, keys: EtcdKeys, from: number): Promise<number> {
  const head = await client.kv.range({ key: Buffer.from(keys.revision) });
  let hi = Number(head.header.revision);
  const last = head.kvs[0] ? Number(head.kvs[0].value.toString('utf8')) : 0;
  if (last <= from) return hi + 1;
  let lo = 1;
  // invariant: storeRevisionAt(hi) > from; find the smallest such revision in [lo, hi]
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = await storeRevisionAt(client, keys, mid);
    if (r === null || r <= from) lo = mid + 1;
    else hi = mid;
  }
  // A compacted probe may have pushed `lo` up: the revision before must be readable.
  if (hi > 1 && (await storeRevisionAt(client, keys, hi - 1)) === null) {
    throw compacted(from, undefined);
  }
  return hi;
}

/** Commits after store revision `from`, then live ones, from etcd's own history. */
export async function* watchEtcdHistory(
  client: Etcd3,
  keys: EtcdKeys,
  from: number,
  signal: AbortSignal | undefined,
  endpoints: string,
): AsyncGenerator<ChangeEvent> {
  if (signal?.aborted) return;
  let start: number;
  try {
    start = await etcdRevisionAfter(client, keys, from);
  } catch (e) {
    if (e instanceof StoreError) throw e;
    throw toStoreError(e, `watch from revision ${from}`, endpoints);
  }
  const queue: ChangeEvent[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | null = null;
  const notify = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  const watcher = await client
    .watch()
    .prefix(keys.prefix)
    .startRevision(String(start))
    .create()
    .catch((e: unknown) => {
      throw toStoreError(e, `watch from revision ${from}`, endpoints);
    });
  watcher.on('data', (res: IWatchResponse) => {
    for (const ev of toEvents(keys, res)) if (ev.revision > from) queue.push(ev);
    notify();
  });
  watcher.on('error', (err: Error) => {
    failure = COMPACTED.test(err.message)
      ? compacted(from, err)
      : toStoreError(err, 'watch', endpoints);
    notify();
  });
  const onAbort = (): void => {
    ended = true;
    notify();
    // A consumer may never resume the generator after aborting: end the etcd watch now.
    void watcher.cancel().catch(() => undefined);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  try {
    for (;;) {
      const ev = queue.shift();
      if (ev) {
        yield ev;
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // The watch is gone with the connection when etcd is unreachable.
    await watcher.cancel().catch(() => undefined);
  }
}

/** The commits in one watch response (groups of one etcd revision that put the `rev` key). */
function toEvents(keys: EtcdKeys, res: IWatchResponse): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  let changes: Change[] = [];
  let revision: number | undefined;
  let groupRev = -1;
  const flush = (): void => {
    if (revision !== undefined) out.push({ revision, changes });
    changes = [];
    revision = undefined;
  };
  for (const ev of res.events) {
    const rev = Number(ev.kv.mod_revision);
    if (rev !== groupRev) flush();
    groupRev = rev;
    const key = ev.kv.key.toString('utf8');
    if (key === keys.revision) {
      if (ev.type === 'Put') revision = Number(ev.kv.value.toString('utf8'));
      continue;
    }
    const ref = keys.parseObject(key);
    if (!ref) continue;
    if (ev.type === 'Delete') changes.push({ ...ref, type: 'deleted' });
    else {
      const object = decodeObject(key, ev.kv.value);
      changes.push({ ...ref, type: ev.kv.version === '1' ? 'created' : 'updated', object });
    }
  }
  flush();
  return out;
}
