/**
 * One reconcile pass over a parsed GNI: discover → recover allocations → map → diff and check
 * → apply. Reads top-down; every phase is timed. Full recompute every time (always correct).
 * One entity never blocks the others: the plan check holds an owner whose ops the store would
 * refuse, and when an apply still fails on one owner's op, that owner is held with the store's
 * error and the rest is planned and applied again.
 */
import { allObjects, discover, refreshActual } from '../discovery/index.js';
import type { ActualTopology } from '../discovery/index.js';
import type { GlobalView } from '../gni/index.js';
import { mapTopology, prepareNextPatch, recoverAllocations } from '../mapping/index.js';
import type {
  Allocations,
  DesiredTopology,
  MappingConfig,
  MappingResult,
  RecoverableObject,
} from '../mapping/index.js';
import { isStoreError, KINDS } from '../store/index.js';
import type { AnyObject, Kind, Op, TopologyStore } from '../store/index.js';
import { applyOps } from './apply.js';
import { applyBuild, buildPlan, holdsNoTopology } from './build.js';
import type { ApplyResult } from './apply.js';
import type { DiffOptions } from './diff.js';
import { checkedPlan, checkPlan } from './plan-check.js';
import type { CheckedPlan } from './plan-check.js';
import { interfacesOfHeldInstances } from './hold.js';
import { freezeForStore } from './share.js';
import type { HeldOwner, Plan } from './plan.js';

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
  /** Every owner the previous cycle held (mapping's and the reconciler's); an owner held then
   * and not now makes the diff a full one. Default: `previousMapping.held`. */
  readonly previousHeld?: ReadonlySet<string>;
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
  /** Every owner held this cycle: the mapping's and those the reconciler held. */
  readonly held: ReadonlySet<string>;
  /** The apply was one bulk create (a cold build, a rebuild after a flush): see
   * `prepareAfterBuild`. */
  readonly built?: boolean;
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
  const applyHolds = new Map<string, boolean>(); // owners held for a failed apply
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
  const previousHeld = options.previousHeld ?? options.previousMapping?.held;
  const diffOptions: DiffOptions = {
    ...(options.withChanges !== undefined ? { withChanges: options.withChanges } : {}),
    // mapping's `delta` is relative to the mapping result it was given: usable when that is
    // the very result whose desired topology was applied last
    ...(applied && mapping.delta !== undefined && previousHeld !== undefined
      ? { incremental: { delta: mapping.delta, previousHeld } }
      : {}),
    ...(options.withOps !== undefined ? { withOps: options.withOps } : {}),
  };
  const cascade = interfacesOfHeldInstances(view, mapping.held, actual);
  const held = cascade.size === 0 ? mapping.held : new Set([...mapping.held, ...cascade.keys()]);
  // a store holding none of our objects (cold build, rebuild after a flush) takes every
  // desired object in one bulk commit, with no diff, unless the plan check holds something
  let build = store.bulkCreate !== undefined && holdsNoTopology(actual);
  let checked: CheckedPlan | undefined;
  if (build) {
    const plan = buildPlan(mapping.desired, actual, options.withOps !== false);
    if (checkPlan(plan.storeOps, actual, held).size === 0)
      checked = { plan, held, holds: new Map() };
    else build = false;
  }
  checked ??= checkedPlan(mapping.desired, actual, held, diffOptions);
  durations.diff_ms = since(t);

  if (options.dryRun) return result(checked, mapping, actual, undefined, durations);
  t = performance.now();
  const applyOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  };
  const raced = new Set<string>(); // owners whose ops met another writer's change once
  for (let attempt = 0; ; attempt++) {
    try {
      // frozen nested values are kept by the store as they are: one copy for both
      freezeForStore(checked.plan.storeOps);
      const apply = build
        ? await applyBuild(store, checked.plan.storeOps, applyOptions)
        : await applyOps(store, checked.plan.storeOps, applyOptions);
      durations.apply_ms = since(t);
      return result(checked, mapping, actual, apply, durations);
    } catch (e) {
      const owner = ownerOfFailure(e, checked.plan.storeOps, actual);
      if (owner === undefined || checked.held.has(owner) || attempt >= MAX_APPLY_HOLDS) throw e;
      if (isRace(e) && !raced.has(owner)) {
        // another writer changed the store after discovery (an agent registering its host while
        // the first build runs): plan again against the store as it is now, holding nothing
        // new; the same error after that is the owner's own and holds it
        raced.add(owner);
        build = false;
        actual = await discover(store);
        const { incremental: _, ...full } = diffOptions;
        checked = checkedPlan(mapping.desired, actual, held, full, checked.holds);
        continue;
      }
      // hold that owner with the store's error; plan the rest again against the store as it is
      // now (earlier transactions of the apply may have committed)
      const holds = new Map(checked.holds);
      holds.set(owner, `the store refused its ops: ${(e as Error).message}`);
      applyHolds.set(owner, true);
      build = false;
      actual = await discover(store);
      const { incremental: _, ...full } = diffOptions;
      checked = checkedPlan(mapping.desired, actual, held, full, holds);
    }
  }

  function result(
    c: CheckedPlan,
    m: MappingResult,
    a: ActualTopology,
    apply: ApplyResult | undefined,
    d: Durations,
  ): ReconcileResult {
    const plan = { ...c.plan, held: heldOwners(m, cascade, c, applyHolds) };
    return {
      plan,
      mapping: m,
      actual: a,
      ...(apply ? { apply } : {}),
      durations: d,
      held: c.held,
      ...(apply && build ? { built: true } : {}),
    };
  }
}

/**
 * After a cycle that committed one bulk create (`built`): `actual` brought to the store's
 * revision, and the mapping's change-propagation indexes built, now rather than by the next
 * cycle. A bulk commit is not kept in the store's change history (it would hold every object),
 * so the next cycle would re-list the store to catch up with it, and the first patch after a
 * full pass builds those indexes: both O(cloud). The daemon calls this once the commit is
 * acknowledged and logged, so the first change after a cold build or a rebuild costs what it
 * changes (the work moves, it is not saved). Returns the refreshed actual topology.
 */
export async function prepareAfterBuild(
  store: TopologyStore,
  actual: ActualTopology,
  mapping: MappingResult,
): Promise<ActualTopology> {
  const fresh = await refreshActual(store, actual);
  prepareNextPatch(mapping);
  return fresh;
}

/** At most this many owners are held for failed applies in one cycle. */
const MAX_APPLY_HOLDS = 16;

/** Store errors that another writer's concurrent change explains (not the owner's own ops). */
const RACE_ERRORS: ReadonlySet<string> = new Set([
  'AlreadyExistsError',
  'ConcurrentModificationError',
  'NotFoundError',
]);

function isRace(e: unknown): boolean {
  return isStoreError(e) && RACE_ERRORS.has(e.name);
}

/** The held owners of a cycle with their reasons, sorted by owner. */
function heldOwners(
  mapping: MappingResult,
  cascade: ReadonlyMap<string, string>,
  checked: CheckedPlan,
  applyHolds: ReadonlyMap<string, boolean>,
): HeldOwner[] {
  const out: HeldOwner[] = [];
  for (const owner of mapping.held) {
    out.push({ owner, reason: mapping.heldReasons.get(owner) ?? 'held', by: 'input' });
  }
  for (const [owner, reason] of cascade) out.push({ owner, reason, by: 'input' });
  for (const [owner, reason] of checked.holds) {
    if (!mapping.held.has(owner))
      out.push({ owner, reason, by: applyHolds.has(owner) ? 'apply' : 'check' });
  }
  return out.sort((x, y) => (x.owner < y.owner ? -1 : x.owner > y.owner ? 1 : 0));
}

const KIND_SET: ReadonlySet<string> = new Set(KINDS);
const OBJECT_REF = /\b([a-z][a-z-]*)\/([^\s:,;()]+)/g;

/** The owner of the object a store error names first among the ops' objects, if any. */
function ownerOfFailure(
  e: unknown,
  ops: readonly Op[],
  actual: ActualTopology,
): string | undefined {
  if (!isStoreError(e)) return undefined;
  const byId = new Map<string, Op>();
  for (const op of ops) byId.set(op.op === 'delete' ? op.id : op.object.id, op);
  for (const m of e.message.matchAll(OBJECT_REF)) {
    const [, kind, id] = m;
    if (kind === undefined || id === undefined || !KIND_SET.has(kind)) continue;
    const op = byId.get(id);
    const owner =
      op !== undefined && op.op !== 'delete'
        ? op.object.owner
        : (actual.objects[kind as Kind] as ReadonlyMap<string, AnyObject>).get(id)?.owner;
    if (owner !== undefined && owner !== '') return owner;
  }
  return undefined;
}
