/**
 * The bulk-delete engine: many deletes as one commit, for a flush (every managed object of a
 * cloud, hundreds of thousands). Same result as a transaction of the same deletes in an order
 * that works (children first): cascades followed, ERROR bindings refused, CLEAR fields and
 * back-reference lists of the objects that stay edited, peers unlinked. Computed on the set of
 * deleted objects at once: each surviving object that loses references is copied once and each
 * of its lists filtered once, instead of one search per deleted id.
 */
import {
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  ReferencedError,
} from './errors.js';
import { bindingsOf, forwardTargets, type BindingEnd } from './schema.js';
import type { StoreState } from './state.js';
import type { AnyObject, Change, Kind, Op } from './types.js';
import { isKind } from './validate.js';

type Obj = Record<string, unknown>;

/** A delete op (what `bulkDelete` takes). */
export type DeleteOp = Extract<Op, { readonly op: 'delete' }>;

/** What a surviving object loses: ids per field (`peer`: the peer link to drop). */
interface Loss {
  readonly kind: Kind;
  readonly base: AnyObject;
  readonly fields: Map<string, { end: BindingEnd | undefined; ids: Set<string> }>;
  peer: string | undefined;
}

/** Runs the delete ops against `state` (not modified) and returns the changes, or throws the
 * error the deletes would meet (nothing is applied then). */
export function runBulkDelete(state: StoreState, ops: readonly DeleteOp[]): Change[] {
  return bulkDelete(state, ops, false) as Change[];
}

/** Whether the delete ops would change anything, or the error `runBulkDelete` would throw,
 * without making the changes (see `checkBulkCreate`). */
export function checkBulkDelete(state: StoreState, ops: readonly DeleteOp[]): boolean {
  return bulkDelete(state, ops, true) as boolean;
}

function bulkDelete(
  state: StoreState,
  ops: readonly DeleteOp[],
  checkOnly: boolean,
): Change[] | boolean {
  if (!Array.isArray(ops)) throw new InvalidFieldError('bulk delete: ops must be a list');
  const gone = new Map<Kind, Map<string, AnyObject>>();
  const queue: AnyObject[] = [];
  const queueKinds: Kind[] = [];
  const has = (kind: Kind, id: string): boolean => gone.get(kind)?.has(id) === true;
  /** Every object of `kind` is deleted (a flush): nothing of that kind needs looking up. */
  const allGone = (kind: Kind): boolean => gone.get(kind)?.size === state.objects(kind).size;
  const add = (kind: Kind, obj: AnyObject): void => {
    let m = gone.get(kind);
    if (m === undefined) gone.set(kind, (m = new Map()));
    if (m.has(obj.id)) return;
    m.set(obj.id, obj);
    queue.push(obj);
    queueKinds.push(kind);
  };
  const whole: Kind[] = [];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (typeof op !== 'object' || op === null || op.op !== 'delete')
      throw new InvalidFieldError('bulk delete: every op must be a delete');
    if (!isKind(op.kind))
      throw new InvalidFieldError(`bulk delete: unknown kind ${String(op.kind)}`);
    if (!gone.has(op.kind)) {
      const run = wholeKind(state, ops, i);
      if (run > 0) {
        // the kind's own map serves as its set of deleted objects (never changed: every
        // object of the kind is in it already)
        gone.set(op.kind, state.objects(op.kind) as Map<string, AnyObject>);
        whole.push(op.kind);
        i += run - 1;
        continue;
      }
    }
    const obj = state.get(op.kind, op.id);
    if (obj === undefined) {
      if (op.ignoreMissing === true) continue;
      throw new NotFoundError(op.kind, op.id, `delete ${op.kind}/${op.id}: not found`);
    }
    if (op.expectedVersion !== undefined && obj.version !== op.expectedVersion) {
      throw new ConcurrentModificationError(
        `delete ${op.kind}/${op.id}: expected version ${op.expectedVersion}, found ${obj.version}`,
      );
    }
    add(op.kind, obj);
  }
  // cascades, transitively (into a kind already wholly deleted there is nothing to add),
  // from the kinds deleted whole first when they cascade into a kind that is not
  const cascade = (kind: Kind, obj: AnyObject): void => {
    const fields = obj as unknown as Obj;
    const bindings = bindingsOf(kind);
    for (const [field, bs] of bindings.back) {
      const child = bs[0]!.forward.kind;
      if (bs[0]!.back.onDelete !== 'CASCADE' || allGone(child)) continue;
      for (const r of fields[field] as readonly string[]) {
        if (has(child, r)) continue;
        const o = state.get(child, r);
        if (o !== undefined) add(child, o);
      }
    }
    for (const b of bindings.forward) {
      if (b.forward.onDelete !== 'CASCADE' || allGone(b.back.kind)) continue;
      for (const t of forwardTargets(b.forward, fields)) {
        const target = state.get(b.back.kind, t);
        if (target !== undefined) add(b.back.kind, target);
      }
    }
  };
  for (const kind of whole) {
    if (cascadesOf(kind).every((k) => allGone(k))) continue;
    for (const obj of state.objects(kind).values()) cascade(kind, obj);
  }
  for (let i = 0; i < queue.length; i++) cascade(queueKinds[i]!, queue[i]!);

  const losses = new Map<string, Loss>();
  const lossOf = (kind: Kind, id: string): Loss | undefined => {
    const key = `${kind}/${id}`;
    let l = losses.get(key);
    if (l === undefined) {
      const base = state.get(kind, id);
      if (base === undefined) return undefined;
      l = { kind, base, fields: new Map(), peer: undefined };
      losses.set(key, l);
    }
    return l;
  };
  const lose = (
    kind: Kind,
    id: string,
    field: string,
    end: BindingEnd | undefined,
    lost: string,
  ) => {
    const l = lossOf(kind, id);
    if (l === undefined) return; // nothing there to edit
    let f = l.fields.get(field);
    if (f === undefined) l.fields.set(field, (f = { end, ids: new Set() }));
    f.ids.add(lost);
  };
  // a reference into a wholly deleted kind loses nothing and cannot be refused
  const gonePerKind = new Map<Kind, boolean>();
  for (const kind of gone.keys()) gonePerKind.set(kind, allGone(kind));
  for (const [kind, objects] of gone) {
    const bindings = bindingsOf(kind);
    for (const obj of objects.values()) {
      const fields = obj as unknown as Obj;
      for (const b of bindings.forward) {
        if (gonePerKind.get(b.back.kind) === true) continue;
        for (const t of forwardTargets(b.forward, fields)) {
          if (has(b.back.kind, t)) continue;
          if (b.forward.onDelete === 'ERROR') {
            throw new ReferencedError(
              `cannot delete ${kind}/${obj.id}: its ${b.forward.field} references ${b.back.kind}/${t}`,
            );
          }
          lose(b.back.kind, t, b.back.field, undefined, obj.id);
        }
      }
      const peer = fields['peerId'];
      if (bindings.symmetric && typeof peer === 'string' && !has('port', peer)) {
        const l = lossOf('port', peer);
        if (l !== undefined) l.peer = obj.id;
      }
      for (const [field, bs] of bindings.back) {
        const first = bs[0]!;
        if (gonePerKind.get(first.forward.kind) === true) continue;
        for (const r of fields[field] as readonly string[]) {
          if (has(first.forward.kind, r)) continue;
          if (first.back.onDelete === 'ERROR') {
            const fs = bs.map((b) => b.forward.field).join('/');
            throw new ReferencedError(
              `cannot delete ${kind}/${obj.id}: ${first.forward.kind}/${r} references it (${fs})`,
            );
          }
          for (const b of bs) lose(b.forward.kind, r, b.forward.field, b.forward, obj.id);
        }
      }
    }
  }

  if (checkOnly) return gone.size > 0;
  const changes: Change[] = [];
  for (const [kind, objects] of gone)
    for (const id of objects.keys()) changes.push({ kind, id, type: 'deleted' });
  for (const l of losses.values()) {
    const obj: Obj = { ...(l.base as unknown as Obj) };
    for (const [field, { end, ids }] of l.fields) edit(obj, field, end, ids);
    if (l.peer !== undefined && obj['peerId'] === l.peer) delete obj['peerId'];
    obj['version'] = l.base.version + 1;
    changes.push({
      kind: l.kind,
      id: l.base.id,
      type: 'updated',
      object: Object.freeze(obj) as never,
    });
  }
  return changes;
}

/**
 * When the ops from `start` on are deletes of every object of their kind, in the order of the
 * state's map of that kind or in id order (a flush plans them from the committed maps or from
 * the sorted lists), with no version that differs: how many they are (the kind's size);
 * otherwise 0 (the ops are then taken one by one, which finds any error). Checked in lockstep
 * with the map or the list: no lookup per op.
 */
function wholeKind(state: StoreState, ops: readonly DeleteOp[], start: number): number {
  const kind = ops[start]!.kind;
  const objects = state.objects(kind);
  if (objects.size === 0 || start + objects.size > ops.length) return 0;
  const first = objects.values().next().value!;
  // the id-ordered list only when it is at hand: sorting it would cost more than lookups
  const order = ops[start]!.id === first.id ? objects.values() : state.listIfCached(kind);
  if (order === undefined) return 0;
  let i = start;
  for (const obj of order) {
    const op = ops[i++]!;
    if (typeof op !== 'object' || op === null || op.op !== 'delete' || op.kind !== kind) return 0;
    if (op.id !== obj.id) return 0;
    if (op.expectedVersion !== undefined && op.expectedVersion !== obj.version) return 0;
  }
  return objects.size;
}

const CASCADES = new Map<Kind, readonly Kind[]>();

/** The kinds a delete of `kind` cascades into. */
function cascadesOf(kind: Kind): readonly Kind[] {
  let kinds = CASCADES.get(kind);
  if (kinds === undefined) {
    const bindings = bindingsOf(kind);
    const into = new Set<Kind>();
    for (const bs of bindings.back.values())
      if (bs[0]!.back.onDelete === 'CASCADE') into.add(bs[0]!.forward.kind);
    for (const b of bindings.forward) if (b.forward.onDelete === 'CASCADE') into.add(b.back.kind);
    CASCADES.set(kind, (kinds = [...into]));
  }
  return kinds;
}

/** Removes `ids` from `field`: a back-reference list (`end` undefined) or a forward field that
 * the delete CLEARs (a single id, a list of ids, or a list of elements keyed by `end.key`). */
function edit(
  obj: Obj,
  field: string,
  end: BindingEnd | undefined,
  ids: ReadonlySet<string>,
): void {
  const v = obj[field];
  if (v === undefined) return;
  if (end !== undefined && !end.many) {
    if (ids.has(v as string)) delete obj[field];
  } else if (end?.key !== undefined) {
    const k = end.key;
    obj[field] = Object.freeze((v as readonly Obj[]).filter((e) => !ids.has(e[k] as string)));
  } else {
    obj[field] = Object.freeze((v as readonly string[]).filter((e) => !ids.has(e)));
  }
}
