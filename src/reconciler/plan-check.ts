/**
 * The plan check: a plan is checked against what the store would refuse or do on its own
 * before it is applied, so that a validated document never fails on a referential error and
 * never changes a held owner's objects through a binding. An owner whose ops the store would
 * refuse is held (with the reason), and the plan is computed again without its ops:
 * - a create or update that references an object that will not exist after the plan;
 * - a delete of an object that an object the plan keeps (a held one, one not ours, or one the
 *   plan neither deletes nor changes) still references: the store would refuse it (ERROR
 *   binding) or change the referencing object (CASCADE, CLEAR). The deleted object's owner is
 *   held instead, so everything it owns stays.
 */
import type { ActualTopology } from '../discovery/index.js';
import type { DesiredTopology } from '../mapping/index.js';
import { KINDS, SCHEMA } from '../store/index.js';
import type { AnyObject, Kind, Op } from '../store/index.js';
import { diffTopology } from './diff.js';
import type { DiffOptions } from './diff.js';
import type { Plan } from './plan.js';

/** One field of a kind that holds ids of `target` objects (`key`: inside each list element). */
interface RefField {
  readonly field: string;
  readonly key?: string;
  readonly many: boolean;
  readonly target: Kind;
}

/** One back-reference field of a kind: ids of `source` objects whose `ref` points here. */
interface BackField {
  readonly field: string;
  readonly source: Kind;
  readonly ref: RefField;
}

function indexRefs(): {
  forward: ReadonlyMap<Kind, readonly RefField[]>;
  back: ReadonlyMap<Kind, readonly BackField[]>;
} {
  const forward = new Map<Kind, RefField[]>(KINDS.map((k) => [k, []]));
  const back = new Map<Kind, BackField[]>(KINDS.map((k) => [k, []]));
  for (const b of SCHEMA) {
    const f = b.forward;
    const ref: RefField = {
      field: f.field,
      many: f.many,
      target: b.back.kind,
      ...(f.key !== undefined ? { key: f.key } : {}),
    };
    forward.get(f.kind)!.push(ref);
    back.get(b.back.kind)!.push({ field: b.back.field, source: f.kind, ref });
  }
  return { forward, back };
}

const REFS = indexRefs();

function targetsOf(ref: RefField, o: Readonly<Record<string, unknown>>): readonly string[] {
  const v = o[ref.field];
  if (v === undefined || v === null) return [];
  if (!ref.many) return [v as string];
  const list = v as readonly unknown[];
  if (ref.key === undefined) return list as readonly string[];
  const key = ref.key;
  return list.map((e) => (e as Record<string, string>)[key]!);
}

/** Owners the plan check holds, each with the reason. */
export type PlanHolds = ReadonlyMap<string, string>;

/** Checks a plan against the store's bindings; returns the owners to hold. Field values are
 * the reader's business (what it accepts, the store accepts); a value the store still refuses
 * fails the apply, and the cycle then holds that owner (see `reconcileView`). Costs a pass over
 * the ops when something is held or deleted, else nothing. */
export function checkPlan(
  storeOps: readonly Op[],
  actual: ActualTopology,
  held: ReadonlySet<string>,
): PlanHolds {
  const out = new Map<string, string>();
  const hold = (owner: string | undefined, reason: string): void => {
    if (owner === undefined || owner === '' || held.has(owner) || out.has(owner)) return;
    out.set(owner, reason);
  };
  // Mapping's objects reference mapping's objects: a reference can only dangle, and a binding
  // only reach a kept object, when some owner is held or an object is deleted
  if (held.size === 0 && !storeOps.some((op) => op.op === 'delete')) return out;
  const deleted = new Set<string>();
  const created = new Set<string>();
  const updated = new Map<string, Readonly<Record<string, unknown>>>(); // id → last body
  for (const op of storeOps) {
    if (op.op === 'delete') deleted.add(op.id);
    else if (op.op === 'create') created.add(op.object.id);
    else updated.set(op.object.id, op.object as unknown as Record<string, unknown>);
  }
  const stored = (kind: Kind, id: string): AnyObject | undefined =>
    (actual.objects[kind] as ReadonlyMap<string, AnyObject>).get(id);
  const exists = (kind: Kind, id: string): boolean =>
    created.has(id) || (!deleted.has(id) && stored(kind, id) !== undefined);

  for (const op of storeOps) {
    if (op.op === 'delete') continue;
    const body = op.object as unknown as Readonly<Record<string, unknown>>;
    for (const ref of REFS.forward.get(op.kind)!) {
      for (const id of targetsOf(ref, body)) {
        if (exists(ref.target, id)) continue;
        hold(
          op.object.owner,
          `${op.kind}/${op.object.id} ${ref.field} references ${ref.target}/${id}, which will not exist`,
        );
      }
    }
  }

  for (const op of storeOps) {
    if (op.op !== 'delete') continue;
    const a = stored(op.kind, op.id);
    if (a === undefined) continue;
    const fields = a as unknown as Readonly<Record<string, unknown>>;
    for (const back of REFS.back.get(op.kind)!) {
      const ids = fields[back.field];
      if (ids === undefined || ids === null) continue;
      for (const id of Array.isArray(ids) ? (ids as readonly string[]) : [ids as string]) {
        if (deleted.has(id)) continue;
        const body = updated.get(id);
        // the referencing object is rewritten: only its new body counts
        if (body !== undefined && !targetsOf(back.ref, body).includes(op.id)) continue;
        hold(
          a.owner,
          `${op.kind}/${op.id} is still referenced by ${back.source}/${id} (${back.ref.field})`,
        );
      }
    }
  }
  return out;
}

/** A plan with the owners the plan check held. */
export interface CheckedPlan {
  readonly plan: Plan;
  /** Every owner held: the mapping's and the plan check's. */
  readonly held: ReadonlySet<string>;
  /** Owners held by the plan check (or given in `holds`), with the reason. */
  readonly holds: PlanHolds;
}

/** At most this many diff rounds; each round holds at least one more owner. */
const MAX_ROUNDS = 64;

/**
 * Diffs and checks until the plan passes the check: each round holds the owners the check
 * names and diffs again (in full: a delta does not cover the held owners' objects).
 */
export function checkedPlan(
  desired: DesiredTopology,
  actual: ActualTopology,
  held: ReadonlySet<string>,
  options: DiffOptions = {},
  holds: PlanHolds = new Map(),
): CheckedPlan {
  const all = new Map(holds);
  let current: ReadonlySet<string> = all.size === 0 ? held : new Set([...held, ...all.keys()]);
  let opts = all.size === 0 ? options : withoutDelta(options);
  for (let round = 0; ; round++) {
    const plan = diffTopology(desired, actual, current, opts);
    const more = round < MAX_ROUNDS ? checkPlan(plan.storeOps, actual, current) : new Map();
    if (more.size === 0) return { plan, held: current, holds: all };
    for (const [owner, reason] of more) all.set(owner, reason);
    current = new Set([...current, ...more.keys()]);
    opts = withoutDelta(options);
  }
}

function withoutDelta(options: DiffOptions): DiffOptions {
  const { incremental: _, ...rest } = options;
  return rest;
}
