/**
 * Flush: delete every managed object (children first), optionally keeping the core
 * (`eucart`, `eucabr`, gateways, metadata core). Hosts are registrations, not topology: they are
 * never flushed. The allocations in force before the flush are returned, so a rebuild gives
 * every object the same name and id as before. A store with `bulkDelete` takes the flush as
 * one commit; others take chunked transactions, children first.
 */
import { allObjects, discoverLive } from '../discovery/index.js';
import { recoverAllocations } from '../mapping/index.js';
import type { Allocations, RecoverableObject } from '../mapping/index.js';
import { KINDS, SCHEMA } from '../store/index.js';
import type { AnyObject, Binding, Kind, Op, TopologyStore } from '../store/index.js';
import type { ActualTopology } from '../discovery/index.js';
import { applyOps } from './apply.js';
import type { ApplyResult } from './apply.js';

type DeleteOp = Extract<Op, { readonly op: 'delete' }>;

/** Owners that make up the core (kept by `keepCore`). */
export const CORE_OWNERS: ReadonlySet<string> = new Set(['core', 'md', 'hosts']);

/** Options of `flushManaged`. */
export interface FlushOptions {
  readonly keepCore?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  readonly chunkSize?: number;
  /** The plan to carry out, made by `planFlush` on this store with the same `keepCore` and
   * `ordered: flushOrdered(store)` (default: planned here). */
  readonly plan?: FlushPlan;
}

/** What a flush did. */
export interface FlushResult {
  readonly deleted: number;
  readonly kept: number;
  readonly allocations: Allocations;
  readonly apply: ApplyResult;
}

/** What a flush would delete (`flushManaged` with the same options carries it out). */
export interface FlushPlan {
  /** The deletes, children first. */
  readonly ops: readonly DeleteOp[];
  /** Objects to delete per kind (kinds with none left out). */
  readonly byKind: Readonly<Partial<Record<Kind, number>>>;
  readonly kept: number;
  readonly allocations: Allocations;
}

/**
 * Plans a flush without writing anything (`flush --dry-run`, `run -F --dry-run`). The deletes
 * come kind by kind, children first; within a kind newest first (see `newestFirst`) unless
 * `ordered` is false (default true): a bulk delete takes the set at once, in any order.
 * An embedded store is read through live views of its maps instead of a copy of every object
 * (`discoverLive`): the plan (ids and allocations) is made from them with no await in between,
 * so it is exactly what a snapshot would give.
 */
export async function planFlush(
  store: TopologyStore,
  options: Pick<FlushOptions, 'keepCore'> & { readonly ordered?: boolean } = {},
): Promise<FlushPlan> {
  const actual = await discoverLive(store);
  // no await from here on: the live views cannot change under the plan
  const allocations = recoverAllocations(allObjects(actual) as Iterable<RecoverableObject>);
  const ops: DeleteOp[] = [];
  const byKind: Partial<Record<Kind, number>> = {};
  let kept = 0;
  for (let i = KINDS.length - 1; i >= 0; i--) {
    const kind = KINDS[i]!;
    const objects =
      options.ordered === false ? actual.objects[kind].values() : newestFirst(kind, actual);
    for (const o of objects) {
      const keep =
        kind === 'host' ||
        (options.keepCore === true && o.owner !== undefined && CORE_OWNERS.has(o.owner));
      if (keep) {
        kept++;
        continue;
      }
      ops.push({ op: 'delete', kind, id: o.id, ignoreMissing: true });
      byKind[kind] = (byKind[kind] ?? 0) + 1;
    }
  }
  return { ops, byKind, kept, allocations };
}

/** Whether a flush of `store` needs its deletes in order (false for a store with a bulk delete,
 * which takes them as a set). */
export function flushOrdered(store: TopologyStore): boolean {
  return store.bulkDelete === undefined;
}

/** Deletes the managed topology; returns the allocations that were in force. */
export async function flushManaged(
  store: TopologyStore,
  options: FlushOptions = {},
): Promise<FlushResult> {
  const bulkDelete = store.bulkDelete?.bind(store);
  const { ops, kept, allocations } =
    options.plan ?? (await planFlush(store, { ...options, ordered: flushOrdered(store) }));
  const apply = bulkDelete
    ? await bulkFlush(bulkDelete, ops, options)
    : await applyOps(store, ops, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
      });
  return { deleted: apply.opsApplied, kept, allocations, apply };
}

/** The flush as one bulk commit (the store computes the deletes for the whole set at once). */
async function bulkFlush(
  bulkDelete: (ops: readonly DeleteOp[]) => Promise<{ revision: number }>,
  ops: readonly DeleteOp[],
  options: FlushOptions,
): Promise<ApplyResult> {
  if (options.signal?.aborted) return { transactions: 0, opsApplied: 0, aborted: true };
  const { revision } = await bulkDelete(ops);
  options.onProgress?.(ops.length, ops.length);
  return { transactions: 1, opsApplied: ops.length, revision, aborted: false };
}

/**
 * The objects of a kind in the reverse order of their parent's back-reference list (the
 * longest such list, e.g. eucart's 11k routes): each delete then takes the last entry off that
 * list instead of searching it, which turns the flush of a big router from quadratic to linear.
 */
function newestFirst(kind: Kind, actual: ActualTopology): AnyObject[] {
  const backList = (p: AnyObject, field: string): readonly string[] =>
    ((p as unknown as Record<string, unknown>)[field] as readonly string[] | undefined) ?? [];
  let best: Binding | undefined;
  let longest = 0;
  for (const b of SCHEMA) {
    if (b.symmetric || b.forward.kind !== kind || b.forward.many) continue;
    for (const p of actual.objects[b.back.kind].values()) {
      const n = backList(p, b.back.field).length;
      if (n > longest) [best, longest] = [b, n];
    }
  }
  const objects = new Map<string, AnyObject>(actual.objects[kind]);
  const out: AnyObject[] = [];
  for (const p of best === undefined ? [] : actual.objects[best.back.kind].values()) {
    const list = backList(p, best!.back.field);
    for (let i = list.length - 1; i >= 0; i--) {
      const o = objects.get(list[i]!);
      if (o === undefined) continue;
      out.push(o);
      objects.delete(o.id);
    }
  }
  for (const o of objects.values()) out.push(o);
  return out;
}
