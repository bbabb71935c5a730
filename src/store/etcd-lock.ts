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
  /** True once the lease is gone; commits then fail on the fence until `reacquire`. */
  lost = false;

  private constructor(
    private readonly client: Etcd3,
    private readonly keys: EtcdKeys,
    private lease: Lease,
    /** etcd create revision of the lock key: the fencing token compared by every commit. */
    public createRevision: string,
    readonly holder: string,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {
    this.watchLease();
  }

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
    for (;;) {
      const got = await tryTake(client, keys, holder, ttlSeconds);
      if ('lease' in got) {
        logger.info('controller lock acquired', { key: keys.lock, holder });
        return new ControllerLock(
          client,
          keys,
          got.lease,
          got.createRevision,
          holder,
          ttlSeconds,
          logger,
        );
      }
      if (got.heldBy === undefined) continue; // deleted in between: try again at once
      logger.info('waiting for the controller lock held by another process', {
        key: keys.lock,
        held_by: got.heldBy,
      });
      await waitForDelete(client, keys.lock, got.modRevision + 1, signal);
      if (signal?.aborted) {
        throw new StoreLockedError(`controller lock ${keys.lock}: wait aborted`);
      }
    }
  }

  /**
   * After the lease was lost (an etcd outage longer than the TTL): takes the lock again if
   * nobody else did, else throws `StoreLockedError` naming the new holder. Never waits.
   */
  async reacquire(): Promise<void> {
    const got = await tryTake(this.client, this.keys, this.holder, this.ttlSeconds);
    if (!('lease' in got)) {
      throw new StoreLockedError(
        `etcd store ${this.keys.root}: this process (${this.holder}) lost the controller lock ` +
          `${this.keys.lock} to ${got.heldBy ?? 'another process'}`,
      );
    }
    const old = this.lease;
    this.lease = got.lease;
    this.createRevision = got.createRevision;
    this.lost = false;
    this.watchLease();
    old.release();
    this.logger.warn('controller lock taken again after losing it', { key: this.keys.lock });
  }

  /** Deletes the lock (by revoking its lease) so that a waiting controller takes over. */
  async release(): Promise<void> {
    // When etcd is unreachable the lease simply expires after its TTL.
    await this.lease.revoke().catch(() => undefined);
  }

  private watchLease(): void {
    const lease = this.lease;
    lease.on('lost', (err: Error) => {
      if (lease !== this.lease) return;
      this.lost = true;
      this.logger.error('controller lock lost', { key: this.keys.lock, error: err.message });
    });
  }
}

type Taken = { lease: Lease; createRevision: string } | { heldBy?: string; modRevision: number };

/** One attempt to create the lock key with a fresh lease. */
async function tryTake(
  client: Etcd3,
  keys: EtcdKeys,
  holder: string,
  ttlSeconds: number,
): Promise<Taken> {
  const key = Buffer.from(keys.lock);
  const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
  let taken = false;
  try {
    const leaseId = await lease.grant();
    const res = await client.kv.txn({
      compare: [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key, value: Buffer.from(holder), lease: leaseId } }],
      failure: [{ request_range: { key } }],
    });
    if (res.succeeded) {
      taken = true;
      return { lease, createRevision: res.header.revision };
    }
    const kv = res.responses[0]?.response_range.kvs[0];
    if (!kv) return { modRevision: 0 };
    return { heldBy: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision) };
  } finally {
    // A lease we did not use for the lock must not linger until its TTL.
    if (!taken) await lease.revoke().catch(() => undefined);
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
