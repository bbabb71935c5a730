/**
 * The plan as operators and QA read it (`eucanetd plan`, `eucanetd diff`): every change with
 * the fields that matter, grouped by the GNI entity that caused it, the held entities with
 * their reasons, and a summary. Its JSON form is versioned (`formatVersion`) and documented in
 * docs/plan-format.md; the human form is `formatPlanReport` (plan-text.ts).
 *
 * Built from a plan plus the desired and stored topologies it was computed from, so creates
 * list their fields, deletes what they remove, updates only the fields that really differ (an
 * unset stored field and an empty desired list are the same), and a rule deleted and created
 * at the same position of the same chain reads as one replacement with its field diff.
 */
import type { Issue } from '../common/index.js';
import type { ActualTopology } from '../discovery/index.js';
import type { DesiredTopology } from '../mapping/index.js';
import { KINDS } from '../store/index.js';
import type { Kind } from '../store/index.js';
import { describeObject, rulePosition, ruleSummary, type Lookup } from './describe.js';
import { ignoredFields, sameValue, writableView } from './equal.js';
import type { Plan, PlanCounts, PlanOp } from './plan.js';

/** Version of the JSON plan format; bumped on any incompatible change. */
export const PLAN_FORMAT_VERSION = 1;

/** One field that differs between the stored object and the desired one. */
export interface FieldDiff {
  readonly field: string;
  /** Scalars and objects: the stored and the desired value (ids shown as names). */
  readonly old?: unknown;
  readonly new?: unknown;
  /** Lists: the items added and removed (ids as names), and whether only the order changed. */
  readonly added?: readonly string[];
  readonly removed?: readonly string[];
  readonly reordered?: boolean;
  /** Chains' rule lists (`field` = `rules`, `old`/`new` = the rule counts): the kept rules that changed place (`#new summary (was #old)`). */
  readonly moved?: readonly string[];
}

/** One change of the plan, as shown. */
export interface PlanChange {
  readonly action: 'create' | 'update' | 'delete' | 'replace';
  readonly kind: Kind;
  /** The id written (for a replacement: the new object's id; `oldId` is the one deleted). */
  readonly id: string;
  readonly oldId?: string;
  /** The name as `topology show` accepts it (rules: `<chain>#<position>`). */
  readonly name: string;
  /** Rules: the one-line match and action (for a replacement, the new rule's). */
  readonly summary?: string;
  readonly oldSummary?: string;
  /** Rules: 1-based position in the chain (desired for creates, stored for deletes). */
  readonly position?: number;
  /** Creates and deletes: the object's writable fields, ids shown as names. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Updates and replacements: what differs. */
  readonly diff?: readonly FieldDiff[];
}

/** The changes caused by one GNI entity (`owner` of the objects: `sg-…`, `i-…`, `core`, …). */
export interface PlanGroup {
  readonly entity: string;
  /** What the entity is: security group, instance, subnet, … */
  readonly type: string;
  readonly changes: readonly PlanChange[];
}

/** An entity whose input is invalid: its stored objects are neither changed nor deleted. */
export interface HeldEntity {
  readonly entity: string;
  readonly type: string;
  readonly reasons: readonly string[];
}

/** The whole plan report (JSON format version 1). */
export interface PlanReport {
  readonly formatVersion: typeof PLAN_FORMAT_VERSION;
  readonly gniVersion: string | null;
  /** Store-level counts; `replace` says how many create+delete pairs are replacements. */
  readonly summary: PlanCounts & { readonly replace: number };
  readonly groups: readonly PlanGroup[];
  readonly held: readonly HeldEntity[];
  /** Mapping issues and GNI issues (warnings and errors) of the document. */
  readonly issues: readonly Issue[];
  /** The object-level ops as the reconciler lists them (apply order). */
  readonly ops: readonly PlanOp[];
}

/** What `buildPlanReport` needs: the plan and the topologies it was computed from. */
export interface PlanReportInput {
  readonly plan: Plan;
  readonly desired: DesiredTopology;
  readonly actual: ActualTopology;
  readonly held: ReadonlySet<string>;
  readonly mappingIssues: readonly Issue[];
  /** Issues of the GNI read (they name the reasons of held entities). */
  readonly gniIssues?: readonly Issue[];
  readonly gniVersion?: string | undefined;
}

const ENTITY_TYPES: readonly (readonly [RegExp, string])[] = [
  [/^core$/, 'cloud core'],
  [/^md$/, 'metadata core'],
  [/^hosts$/, 'hosts'],
  [/\/routes$/, 'subnet routes'],
  [/\/acl-[^/]+$/, 'network ACL'],
  [/^sg-/, 'security group'],
  [/^i-/, 'instance'],
  [/^eni-/, 'network interface'],
  [/^subnet-/, 'subnet'],
  [/^vpc-/, 'VPC'],
  [/^nat-/, 'NAT gateway'],
  [/^igw-/, 'internet gateway'],
  [/^rtb-/, 'route table'],
];

/** What kind of GNI entity an owner names. */
export function entityType(owner: string): string {
  for (const [re, type] of ENTITY_TYPES) if (re.test(owner)) return type;
  return 'entity';
}

/** The GNI ids in an owner (`vpc-1/acl-2` → both, `subnet-1/routes` → subnet-1). */
function entityIds(owner: string): string[] {
  return owner.split('/').filter((s) => /^[a-z]+-[0-9a-z]+$/i.test(s));
}

const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Builds the report of a plan. */
export function buildPlanReport(input: PlanReportInput): PlanReport {
  const { plan, desired, actual } = input;
  const desiredOf = (k: Kind): ReadonlyMap<string, object> =>
    desired[k] as ReadonlyMap<string, object>;
  const storedOf = (k: Kind): ReadonlyMap<string, object> =>
    actual.objects[k] as ReadonlyMap<string, object>;
  const newLookup: Lookup = (k, id) => desiredOf(k).get(id) ?? storedOf(k).get(id);
  const oldLookup: Lookup = (k, id) => storedOf(k).get(id) ?? desiredOf(k).get(id);
  const show = (v: unknown, lookup: Lookup): unknown => {
    if (typeof v === 'string') return nameOf(v, lookup);
    if (Array.isArray(v)) return v.map((x) => show(x, lookup));
    return v;
  };
  const fieldsOf = (kind: Kind, o: object, lookup: Lookup): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(writableView(kind, o)))
      if (k !== 'id' && k !== 'owner' && k !== 'name') out[k] = show(v, lookup);
    return out;
  };

  const changes: { owner: string; change: PlanChange }[] = [];
  // rules deleted and created at the same position of a chain: replacements
  const createdRules = new Map<string, PlanOp>(); // `${chainId}#${pos}` → create op
  for (const op of plan.ops) {
    if (op.op !== 'create' || op.kind !== 'rule') continue;
    const r = desiredOf('rule').get(op.id);
    const pos = r ? rulePosition(r, (k, id) => desiredOf(k).get(id)) : undefined;
    if (r && pos !== undefined)
      createdRules.set(`${(r as { chainId: string }).chainId}#${pos}`, op);
  }
  const replacedBy = new Map<string, string>(); // new id → old id
  const replaces = new Set<string>(); // old ids
  for (const op of plan.ops) {
    if (op.op !== 'delete' || op.kind !== 'rule') continue;
    const r = storedOf('rule').get(op.id);
    const pos = r ? rulePosition(r, (k, id) => storedOf(k).get(id)) : undefined;
    const created =
      r && pos !== undefined
        ? createdRules.get(`${(r as { chainId: string }).chainId}#${pos}`)
        : undefined;
    if (created && !replacedBy.has(created.id)) {
      replacedBy.set(created.id, op.id);
      replaces.add(op.id);
    }
  }

  for (const op of plan.ops) {
    if (replaces.has(op.id)) continue;
    const owner = op.owner ?? '';
    if (op.op === 'create') {
      const d = desiredOf(op.kind).get(op.id);
      if (!d) continue;
      const oldId = replacedBy.get(op.id);
      const old = oldId !== undefined ? storedOf('rule').get(oldId) : undefined;
      if (op.kind === 'rule') {
        const position = rulePosition(d, (k, id) => desiredOf(k).get(id));
        const summary = ruleSummary(d, newLookup);
        if (old) {
          changes.push({
            owner,
            change: {
              action: 'replace',
              kind: 'rule',
              id: op.id,
              oldId: oldId!,
              name: describeObject('rule', d, newLookup),
              summary,
              oldSummary: ruleSummary(old, oldLookup),
              ...(position !== undefined ? { position } : {}),
              diff: fieldDiffs('rule', old, d, oldLookup, newLookup),
            },
          });
          continue;
        }
        changes.push({
          owner,
          change: {
            action: 'create',
            kind: 'rule',
            id: op.id,
            name: describeObject('rule', d, newLookup),
            summary,
            ...(position !== undefined ? { position } : {}),
            fields: fieldsOf('rule', d, newLookup),
          },
        });
        continue;
      }
      changes.push({
        owner,
        change: {
          action: 'create',
          kind: op.kind,
          id: op.id,
          name: describeObject(op.kind, d, newLookup),
          fields: fieldsOf(op.kind, d, newLookup),
        },
      });
    } else if (op.op === 'delete') {
      const a = storedOf(op.kind).get(op.id);
      if (!a) continue;
      const storedLookup: Lookup = (k, id) => storedOf(k).get(id);
      const position = op.kind === 'rule' ? rulePosition(a, storedLookup) : undefined;
      changes.push({
        owner,
        change: {
          action: 'delete',
          kind: op.kind,
          id: op.id,
          name: describeObject(op.kind, a, oldLookup),
          ...(op.kind === 'rule' ? { summary: ruleSummary(a, oldLookup) } : {}),
          ...(position !== undefined ? { position } : {}),
          fields: fieldsOf(op.kind, a, oldLookup),
        },
      });
    } else {
      const a = storedOf(op.kind).get(op.id);
      const d = desiredOf(op.kind).get(op.id);
      if (!a || !d) continue;
      const diff = fieldDiffs(op.kind, a, d, oldLookup, newLookup);
      if (op.kind === 'chain') {
        const order = ruleOrderDiff(a, d, oldLookup, newLookup);
        if (order) diff.push(order);
      }
      changes.push({
        owner,
        change: {
          action: 'update',
          kind: op.kind,
          id: op.id,
          name: describeObject(op.kind, d, newLookup),
          ...(op.kind === 'rule' ? { summary: ruleSummary(d, newLookup) } : {}),
          diff,
        },
      });
    }
  }

  const byOwner = new Map<string, PlanChange[]>();
  for (const { owner, change } of changes) {
    const list = byOwner.get(owner) ?? [];
    list.push(change);
    byOwner.set(owner, list);
  }
  // deletes come in store order: show them by kind (apply order) and name, rules by position
  const rank = new Map<Kind, number>(KINDS.map((k, i) => [k, i]));
  const chainOf = (c: PlanChange): string => c.name.replace(/#\d+$/, '');
  for (const list of byOwner.values()) {
    const deletes = list.filter((c) => c.action === 'delete');
    deletes.sort(
      (a, b) =>
        rank.get(b.kind)! - rank.get(a.kind)! ||
        (chainOf(a) < chainOf(b) ? -1 : chainOf(a) > chainOf(b) ? 1 : 0) ||
        (a.position ?? 0) - (b.position ?? 0) ||
        (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    let k = 0;
    for (let i = 0; i < list.length; i++) if (list[i]!.action === 'delete') list[i] = deletes[k++]!;
  }
  const groups: PlanGroup[] = [...byOwner.entries()]
    .sort(([a], [b]) => groupRank(a) - groupRank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([entity, list]) => ({ entity, type: entityType(entity), changes: list }));

  const gniIssues = input.gniIssues ?? [];
  // the held owners: the cycle's (with why and by what: input, plan check, apply) and the
  // mapping's; the reasons are theirs, then the GNI read's errors about the entity
  const fromPlan = new Map<string, string[]>();
  for (const h of plan.held ?? []) {
    const list = fromPlan.get(h.owner) ?? [];
    list.push(h.by === 'input' ? h.reason : `${h.reason} (held by the ${h.by})`);
    fromPlan.set(h.owner, list);
  }
  const owners = [...new Set([...input.held, ...fromPlan.keys()])].sort();
  const held: HeldEntity[] = owners.map((entity) => {
    const reasons: string[] = [...(fromPlan.get(entity) ?? [])];
    if (reasons.length === 0)
      for (const i of input.mappingIssues) {
        if (i.code === 'mapping.held' && i.message.startsWith(`${entity} held:`))
          reasons.push(i.message.slice(entity.length + ' held: '.length));
      }
    const ids = entityIds(entity);
    for (const i of gniIssues) {
      if (i.severity !== 'error') continue;
      if (ids.some((id) => i.path.includes(`[${id}]`) || i.path.includes(`/${id}`)))
        reasons.push(`${i.path} ${i.code}: ${i.message}`);
    }
    return { entity, type: entityType(entity), reasons: [...new Set(reasons)] };
  });

  return {
    formatVersion: PLAN_FORMAT_VERSION,
    gniVersion: input.gniVersion ?? null,
    summary: { ...plan.counts, replace: replaces.size },
    groups,
    held,
    issues: [...gniIssues, ...input.mappingIssues.filter((i) => i.code !== 'mapping.held')],
    ops: plan.ops,
  };
}

function groupRank(owner: string): number {
  return owner === 'core' ? 0 : owner === 'md' ? 1 : owner === 'hosts' ? 2 : 3;
}

/** The writable fields of `kind` that differ between a stored and a desired object. */
function fieldDiffs(
  kind: Kind,
  stored: object,
  desired: object,
  oldLookup: Lookup,
  newLookup: Lookup,
): FieldDiff[] {
  const ignored = ignoredFields(kind);
  const a = stored as Record<string, unknown>;
  const d = desired as Record<string, unknown>;
  const keys = new Set([...Object.keys(d), ...Object.keys(a)]);
  const out: FieldDiff[] = [];
  for (const k of [...keys].sort()) {
    if (ignored.has(k) || k === 'id' || k === 'chainId') continue;
    if (sameValue(d[k], a[k])) continue;
    out.push(valueDiff(k, a[k], d[k], oldLookup, newLookup));
  }
  return out;
}

function itemLabel(v: unknown, lookup: Lookup): string {
  if (typeof v === 'string') return nameOf(v, lookup);
  return JSON.stringify(v);
}

function nameOf(id: string, lookup: Lookup): string {
  if (!ID_RE.test(id)) return id;
  for (const k of KINDS) {
    const o = lookup(k, id);
    if (o) return describeObject(k, o, lookup);
  }
  return id;
}

function valueDiff(
  field: string,
  before: unknown,
  after: unknown,
  oldLookup: Lookup,
  newLookup: Lookup,
): FieldDiff {
  const list = (v: unknown): unknown[] | undefined =>
    Array.isArray(v) ? v : v === undefined || v === null ? [] : undefined;
  const b = list(before);
  const a = list(after);
  if (b && a && (Array.isArray(before) || Array.isArray(after))) {
    const bl = b.map((x) => itemLabel(x, oldLookup));
    const al = a.map((x) => itemLabel(x, newLookup));
    const bs = new Set(bl);
    const as = new Set(al);
    const added = al.filter((x) => !bs.has(x));
    const removed = bl.filter((x) => !as.has(x));
    return {
      field,
      ...(added.length ? { added } : {}),
      ...(removed.length ? { removed } : {}),
      ...(added.length === 0 && removed.length === 0 ? { reordered: true } : {}),
    };
  }
  const shown = (v: unknown, lookup: Lookup): unknown =>
    typeof v === 'string' ? nameOf(v, lookup) : v;
  return {
    field,
    ...(before !== undefined ? { old: shown(before, oldLookup) } : {}),
    ...(after !== undefined ? { new: shown(after, newLookup) } : {}),
  };
}

/**
 * A chain's rule list, stored vs desired, as rule names and positions: the rules added and
 * removed (with their positions) and those that changed place among the ones kept.
 */
function ruleOrderDiff(
  stored: object,
  desired: object,
  oldLookup: Lookup,
  newLookup: Lookup,
): FieldDiff | undefined {
  const before = ((stored as { ruleIds?: readonly string[] }).ruleIds ?? []).slice();
  const after = ((desired as { ruleIds?: readonly string[] }).ruleIds ?? []).slice();
  if (before.length === after.length && before.every((id, i) => id === after[i])) return undefined;
  const keep = new Set(after);
  const had = new Set(before);
  const label = (id: string, pos: number, lookup: Lookup): string => {
    const r = lookup('rule', id);
    return `#${pos} ${r ? ruleSummary(r, lookup) : id}`;
  };
  const added = after.flatMap((id, i) => (had.has(id) ? [] : [label(id, i + 1, newLookup)]));
  const removed = before.flatMap((id, i) => (keep.has(id) ? [] : [label(id, i + 1, oldLookup)]));
  const keptBefore = before.filter((id) => keep.has(id));
  const keptAfter = after.filter((id) => had.has(id));
  const reordered = keptBefore.some((id, i) => id !== keptAfter[i]);
  const moved = reordered
    ? keptAfter.flatMap((id, i) =>
        keptBefore[i] === id
          ? []
          : [`${label(id, after.indexOf(id) + 1, newLookup)} (was #${before.indexOf(id) + 1})`],
      )
    : [];
  return {
    field: 'rules',
    old: before.length,
    new: after.length,
    ...(added.length ? { added } : {}),
    ...(removed.length ? { removed } : {}),
    ...(moved.length ? { moved } : {}),
    ...(reordered ? { reordered: true } : {}),
  };
}
