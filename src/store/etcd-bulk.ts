/**
 * Bulk creates and deletes on the etcd backend. etcd refuses a transaction over its request
 * limits (`--max-txn-ops`, default 128; `--max-request-bytes`, default 1.5 MiB), and a cold
 * build of a large cloud is hundreds of thousands of objects, so a bulk commit here is a
 * sequence of ordinary commits: the ops are checked as one set first (the same errors as the
 * embedded stores' one-commit bulk, and nothing written on one), then committed in batches,
 * each computed by the bulk engine against the store as the batches before it left it. Every
 * batch is a complete commit (bindings both ways, consecutive revision, the usual compares), so
 * a crash between batches leaves a consistent store holding a prefix of the ops; the next cycle
 * plans the rest with a diff.
 */
import { StoreError } from './errors.js';
import { isEtcdSizeRefusal } from './etcd-keys.js';
import type { StoreState } from './state.js';
import type { Change, CommitResult, Op } from './types.js';

/** How much one etcd transaction of a bulk commit may carry; halved while etcd refuses. */
export interface BulkLimits {
  /** Changed objects per transaction. */
  ops: number;
}

/** A batch whose changes exceed the limits (more objects changed than ops given). */
class BatchTooLarge extends Error {}

/**
 * Checks `ops` as one set against `state` with `check` (the engine's checks without making the
 * changes: `checkBulkCreate`, `checkBulkDelete`; throwing its error, nothing written), then
 * commits the ops in batches through `commit` (which runs the function it is given against
 * the current state and commits the changes as one etcd transaction). A batch that changes more
 * than `limits.ops` objects, or that etcd refuses for its size, is halved and tried again; the
 * smaller size is kept for the rest. Returns the revision of the last batch.
 */
export async function bulkCommit<O extends Op>(
  state: StoreState,
  ops: readonly O[],
  engine: (state: StoreState, ops: readonly O[]) => Change[],
  check: (state: StoreState, ops: readonly O[]) => boolean,
  limits: BulkLimits,
  commit: (run: (state: StoreState) => Change[]) => Promise<CommitResult>,
): Promise<CommitResult> {
  if (!check(state, ops)) return { revision: state.revision };
  // checked as a set above: a later batch must not fail on what an earlier one already did (a
  // delete its cascade took, a version its edit of a survivor moved on)
  const batchOps = ops.map((op) =>
    op.op === 'delete'
      ? ({ op: 'delete', kind: op.kind, id: op.id, ignoreMissing: true } as O)
      : op,
  );
  let revision = state.revision;
  let size = Math.max(1, limits.ops); // ops per batch
  for (let i = 0; i < batchOps.length;) {
    const n = Math.min(size, batchOps.length - i);
    const batch = batchOps.slice(i, i + n);
    let changed = 0;
    try {
      const r = await commit((s) => {
        const changes = engine(s, batch);
        changed = changes.length;
        if (n > 1 && changed > limits.ops) throw new BatchTooLarge();
        return changes;
      });
      revision = r.revision;
      i += n;
    } catch (e) {
      const refused = isEtcdSizeRefusal(e);
      if (!(e instanceof BatchTooLarge) && !refused) throw e;
      if (n === 1 && refused) {
        throw new StoreError(
          `bulk commit: one op changes ${changed} objects, more than one etcd transaction takes; raise etcd's --max-txn-ops / --max-request-bytes (see docs/etcd.md)`,
          { cause: e },
        );
      }
      // etcd's limit is below ours: lower ours under what it refused
      if (refused) limits.ops = Math.max(1, Math.floor(Math.min(limits.ops, changed) / 2));
      // ops that change more objects than ops given (a parent's list edited, a cascade): fewer
      // ops per batch, in proportion
      size = Math.max(1, Math.min(n - 1, Math.floor((n * limits.ops) / Math.max(1, changed))));
    }
  }
  return { revision };
}

type CreateOp = Extract<Op, { readonly op: 'create' }>;

/**
 * The create ops of one batch with the peer link of a port whose peer comes in a later batch
 * left out: the peer's create links both ends then (a transaction links a pair the same way).
 */
export function deferPeers(state: StoreState, ops: readonly CreateOp[]): readonly CreateOp[] {
  const ports = new Set<string>();
  // anything malformed is left as it is, for the engine to refuse
  const portOf = (op: CreateOp): { id?: unknown; peerId?: unknown } | undefined =>
    typeof op === 'object' && op !== null && op.kind === 'port' && typeof op.object === 'object'
      ? (op.object ?? undefined)
      : undefined;
  for (const op of ops) {
    const id = portOf(op)?.id;
    if (typeof id === 'string') ports.add(id);
  }
  let out: CreateOp[] | undefined;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const peerId = portOf(op)?.peerId;
    if (typeof peerId !== 'string' || ports.has(peerId) || state.get('port', peerId) !== undefined)
      continue;
    const { peerId: _deferred, ...object } = op.object as unknown as Record<string, unknown>;
    out ??= [...ops];
    out[i] = { ...op, object: object as never };
  }
  return out ?? ops;
}
