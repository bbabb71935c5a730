/**
 * Apply: commit a plan's store ops in order, in transactions of bounded size. Small plans
 * commit in one transaction (atomic); large ones (a cold build, a flush) in chunks, each atomic,
 * so that memory and journal records stay bounded. Stops between transactions when aborted.
 */
import type { Op, TopologyWriter } from '../store/index.js';

/** Options of `applyOps`; defaults: chunkSize 5000. */
export interface ApplyOptions {
  readonly chunkSize?: number;
  /** Checked between transactions: the current one always finishes. */
  readonly signal?: AbortSignal;
  /** Called after each transaction with ops done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What an apply did. */
export interface ApplyResult {
  readonly transactions: number;
  readonly opsApplied: number;
  /** Revision of the last commit (undefined when nothing was committed). */
  readonly revision?: number;
  /** True when stopped early by the signal. */
  readonly aborted: boolean;
}

/** Commits `ops` in order. Throws the store's error on a failed transaction (earlier
 * transactions stay committed; the next cycle re-reads and continues). */
export async function applyOps(
  store: TopologyWriter,
  ops: readonly Op[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const chunk = Math.max(1, options.chunkSize ?? 5000);
  let done = 0;
  let transactions = 0;
  let revision: number | undefined;
  while (done < ops.length) {
    if (options.signal?.aborted)
      return {
        transactions,
        opsApplied: done,
        ...(revision !== undefined ? { revision } : {}),
        aborted: true,
      };
    const batch = ops.slice(done, done + chunk);
    const result = await store.transaction(batch);
    revision = result.revision;
    transactions++;
    done += batch.length;
    options.onProgress?.(done, ops.length);
  }
  return {
    transactions,
    opsApplied: done,
    ...(revision !== undefined ? { revision } : {}),
    aborted: false,
  };
}
