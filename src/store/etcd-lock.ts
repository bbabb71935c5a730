/**
 * The controller lock of an etcd store root: the key `<root>/lock/controller`, created only if
 * absent and attached to a lease this process keeps alive. A second writer waits (watching
 * the key) until the holder deletes it on close or its lease expires. The key's create
 * revision is the fencing token: every commit compares it, so a writer that lost its lease
 * can never commit over the next holder.
 */
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../common/index.js';
import { StoreLockedError } from './errors.js';
import type { EtcdKeys } from './etcd-keys.js';

/** A held (or lost) controller lock. */
export class ControllerLock {
  /** True once the lease is gone; commits then fail on the fence. */
  lost = false;

  private constructor(
    private readonly lease: Lease,
    /** etcd create revision of the lock key: the fencing token compared by every commit. */
    readonly createRevision: string,
    readonly holder: string,
  ) {}

  /**
   * Takes the lock for `holder`, waiting (and logging who holds it) while another process
   * does; `signal` aborts the wait. `ttlSeconds`: lease TTL (how long a crashed holder blocks).
   */
  static async acquire(
    client: Etcd3,
    keys: EtcdKeys,
    holder: string,
    ttlSeconds: number,
    logger: Logger,
    signal?: AbortSignal,
  ): Promise<ControllerLock> {
    const key = Buffer.from(keys.lock);
    for (;;) {
      const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
      let granted = false;
      try {
        const leaseId = await lease.grant();
        const res = await client.kv.txn({
          compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key, value: Buffer.from(holder), lease: leaseId } }],
          failure: [{ request_range: { key } }],
        });
        if (res.succeeded) {
          granted = true;
          const lock = new ControllerLock(lease, res.header.revision, holder);
          lease.on('lost', (err: Error) => {
            lock.lost = true;
            logger.error('controller lock lost', { key: keys.lock, error: err.message });
          });
          logger.info('controller lock acquired', { key: keys.lock, holder });
          return lock;
        }
        const kv = res.responses[0]?.response_range.kvs[0];
        if (!kv) continue; // deleted in between: try again at once
        logger.info('waiting for the controller lock held by another process', {
          key: keys.lock,
          held_by: kv.value.toString('utf8'),
        });
        await waitForDelete(client, keys.lock, Number(kv.mod_revision) + 1, signal);
      } finally {
        // A lease we did not use for the lock must not linger until its TTL.
        if (!granted) await lease.revoke().catch(() => undefined);
      }
      if (signal?.aborted) {
        throw new StoreLockedError(`controller lock ${keys.lock}: wait aborted`);
      }
    }
  }

  /** Deletes the lock (by revoking its lease) so that a waiting controller takes over. */
  async release(): Promise<void> {
    // When etcd is unreachable the lease simply expires after its TTL.
    await this.lease.revoke().catch(() => undefined);
  }
}

/** Resolves when `key` is deleted at or after etcd revision `from` (or `signal` aborts). */
async function waitForDelete(
  client: Etcd3,
  key: string,
  from: number,
  signal?: AbortSignal,
): Promise<void> {
  const watcher = await client.watch().key(key).startRevision(String(from)).create();
  try {
    await new Promise<void>((resolve) => {
      watcher.on('delete', () => resolve());
      // A cancelled watch (compaction) is answered by trying to take the lock again.
      watcher.on('error', () => resolve());
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await watcher.cancel().catch(() => undefined);
  }
}
