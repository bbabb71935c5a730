/**
 * One reconcile pass over a parsed GNI: discover → recover allocations → map → diff → apply.
 * Reads top-down; every phase is timed. Full recompute every time (always correct).
 */
import { allObjects, discover } from '../discovery/index.js';
import type { ActualTopology } from '../discovery/index.js';
import type { GlobalView } from '../gni/index.js';
import { mapTopology, recoverAllocations } from '../mapping/index.js';
import type {
  Allocations,
  DesiredTopology,
  MappingConfig,
  MappingResult,
  RecoverableObject,
} from '../mapping/index.js';
import type { TopologyStore } from '../store/index.js';
import { applyOps } from './apply.js';
import type { ApplyResult } from './apply.js';
import { diffTopology } from './diff.js';
import type { Plan } from './plan.js';

/** Milliseconds spent per phase (absent when the phase did not run). */
export interface Durations {
  read_ms?: number;
  parse_ms?: number;
  discover_ms?: number;
  map_ms?: number;
  diff_ms?: number;
  apply_ms?: number;
}

/** Options of `reconcileView`. */
export interface ReconcileOptions {
  /** Plan only (no writes). */
  readonly dryRun?: boolean;
  /** Field-level changes in the plan (for plan output). */
  readonly withChanges?: boolean;
  /** Object-level ops with names in the plan (default true; the daemon needs only counts). */
  readonly withOps?: boolean;
  /** Use these allocations instead of recovering them (flush and rebuild). */
  readonly allocations?: Allocations;
  /** The actual topology, when the caller already has it current (skips discovery). */
  readonly actual?: ActualTopology;
  /** Last fully applied desired topology, valid only if nobody wrote since. When it is
   * `previousMapping`'s, its allocations are used and the diff looks only at what changed. */
  readonly previous?: DesiredTopology;
  /** The previous cycle's mapping result: mapping patches it (keeping the objects of unchanged
   * entities). Its maps are handed over: it must not be used again. */
  readonly previousMapping?: MappingResult;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
  readonly chunkSize?: number;
}

/** What `reconcileView` did. */
export interface ReconcileResult {
  readonly plan: Plan;
  readonly mapping: MappingResult;
  readonly actual: ActualTopology;
  readonly apply?: ApplyResult;
  readonly durations: Durations;
}

const since = (t: number): number => Math.round((performance.now() - t) * 100) / 100;

/** Brings the store to the topology the view describes (or only plans it, with `dryRun`). */
export async function reconcileView(
  store: TopologyStore,
  view: GlobalView,
  config: MappingConfig,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const durations: Durations = {};
  let t = performance.now();
  let actual = options.actual;
  if (!actual) {
    actual = await discover(store);
    durations.discover_ms = since(t);
  }

  t = performance.now();
  // When the previous mapping was applied and nobody wrote since, its allocations are exactly
  // what the store holds: no need to scan every object to recover them.
  const applied =
    options.previous !== undefined && options.previous === options.previousMapping?.desired;
  const allocations =
    options.allocations ??
    (applied
      ? options.previousMapping!.allocations
      : recoverAllocations(allObjects(actual) as Iterable<RecoverableObject>));
  const mapping = mapTopology(view, allocations, config, options.previousMapping);
  durations.map_ms = since(t);

  t = performance.now();
  const diffOptions = {
    ...(options.withChanges !== undefined ? { withChanges: options.withChanges } : {}),
    // mapping's `delta` is relative to the mapping result it was given: usable when that is
    // the very result whose desired topology was applied last
    ...(applied && mapping.delta !== undefined
      ? { incremental: { delta: mapping.delta, previousHeld: options.previousMapping!.held } }
      : {}),
    ...(options.withOps !== undefined ? { withOps: options.withOps } : {}),
  };
  const plan = diffTopology(mapping.desired, actual, mapping.held, diffOptions);
  durations.diff_ms = since(t);

  if (options.dryRun) return { plan, mapping, actual, durations };
  t = performance.now();
  const apply = await applyOps(store, plan.storeOps, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  });
  durations.apply_ms = since(t);
  return { plan, mapping, actual, apply, durations };
}
