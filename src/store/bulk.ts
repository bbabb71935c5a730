/**
 * The bulk-create engine: many new objects as one commit, for a cold build or a rebuild after
 * a flush (hundreds of thousands of objects into an empty or nearly empty store). Same result
 * as a transaction of the same create ops (same validation, back-references, rule order, peer
 * links and errors), computed without per-op drafts: each new object is validated once, its
 * back-reference lists start empty and are filled by one pass over the forward references, and
 * a committed object gains a copy only when a new object points at it (a host, say).
 */
import {
  AlreadyExistsError,
  InvalidFieldError,
  NotFoundError,
  ReferenceConflictError,
} from './errors.js';
import { bindingsOf, SCHEMA, type Binding } from './schema.js';
import type { StoreState } from './state.js';
import type { AnyObject, Change, Kind, Op } from './types.js';
import { BACK_REFERENCE_SLOT, isHandedOverBatch, isKind, normalizeObject } from './validate.js';

type Obj = Record<string, unknown>;

/** The back-reference list of a new object until something points at it (the slot an adopted
 * object holds: see validate.ts). */
const EMPTY: readonly string[] = BACK_REFERENCE_SLOT;

/** A create op (what `bulkCreate` takes). */
export type CreateOp = Extract<Op, { readonly op: 'create' }>;

interface Touched {
  readonly kind: Kind;
  readonly base: AnyObject;
  readonly obj: Obj;
  /** Back-reference fields already copied. */
  readonly copied: Set<string>;
}

/**
 * A bulk create's commit, computed and not yet applied: the new objects kind by kind and the
 * committed objects that gained a back-reference or a peer. Its change records are made only
 * when asked for (`changes`): committing it needs none of them (the state adopts `created`, a
 * snapshot is written from it), only a watch that is listening at the time does.
 */
export interface BulkCreated {
  /** How many objects the commit changes (created and updated). */
  readonly size: number;
  /** Per kind, the new objects by id, in op order (frozen, version 1). */
  readonly created: ReadonlyMap<Kind, ReadonlyMap<string, AnyObject>>;
  /** The committed objects the commit updates, as `updated` changes. */
  readonly updated: readonly Change[];
  /** The commit's changes, as `runBulkCreate` returns them (made once, when first asked). */
  changes(): readonly Change[];
}

/** Runs the create ops against `state` (not modified) and returns the changes (the new
 * objects in op order, then the updated ones), or throws the error a transaction of the same
 * ops would (nothing is applied then). `handedOver`: every op's object was handed over
 * (default: `ops` was, `handOverBatch`). */
export function runBulkCreate(
  state: StoreState,
  ops: readonly CreateOp[],
  handedOver = isHandedOverBatch(ops),
): Change[] {
  return [...prepareBulkCreate(state, ops, handedOver).changes()];
}

/** `runBulkCreate` as a commit to apply (`StoreState.applyCreated`) without change records
 * (see `BulkCreated`); the same checks and errors. */
export function prepareBulkCreate(
  state: StoreState,
  ops: readonly CreateOp[],
  handedOver = isHandedOverBatch(ops),
): BulkCreated {
  return bulkCreate(state, ops, handedOver, false) as BulkCreated;
}

/**
 * Whether the create ops would change anything, or the error `runBulkCreate` would throw: every
 * check of `runBulkCreate` without making the changes (no version added, nothing frozen, so an
 * object handed over can still be adopted by a later run). The etcd backend checks a bulk commit
 * as one set this way before it commits it in batches.
 */
export function checkBulkCreate(
  state: StoreState,
  ops: readonly CreateOp[],
  handedOver = isHandedOverBatch(ops),
): boolean {
  return bulkCreate(state, ops, handedOver, true) as boolean;
}

function bulkCreate(
  state: StoreState,
  ops: readonly CreateOp[],
  handedOver: boolean,
  checkOnly: boolean,
): BulkCreated | boolean {
  const adopt = handedOver ? 'batch' : true;
  if (!Array.isArray(ops)) throw new InvalidFieldError('bulk create: ops must be a list');
  const fresh = new Map<Kind, Map<string, Obj>>();
  const touched = new Map<string, Touched>();
  // one entry per op, in op order (parallel arrays: no record per object)
  const kinds = new Array<Kind>(ops.length);
  const objs = new Array<Obj>(ops.length);
  const positions = new Map<number, number>(); // op index → rule position, when given
  // ops come kind by kind: what a kind needs is looked up when the kind changes
  let kind: Kind | undefined;
  let ofKind = new Map<string, Obj>();
  let backFields: readonly string[] = [];
  let emptyBacks: Readonly<Obj> | undefined;
  let kindIsEmpty = false;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (typeof op !== 'object' || op === null || op.op !== 'create')
      throw new InvalidFieldError('bulk create: every op must be a create');
    if (op.kind !== kind) {
      if (!isKind(op.kind))
        throw new InvalidFieldError(`bulk create: unknown kind ${String(op.kind)}`);
      const next: Kind = op.kind;
      kind = next;
      let m = fresh.get(next);
      if (m === undefined) fresh.set(next, (m = new Map()));
      ofKind = m;
      backFields = backFieldsOf(next);
      emptyBacks = backFields.length > 0 ? emptyBacksOf(next) : undefined;
      kindIsEmpty = state.objects(next).size === 0;
    }
    const k = kind!; // set by the first op
    // may be op.object itself (see handOver); a copy starts with its empty back-references
    const obj = normalizeObject(k, op.object, adopt, emptyBacks);
    const id = obj['id'] as string;
    // one map operation: a repeated id shows as a map that did not grow (and fails the run)
    const size = ofKind.size;
    ofKind.set(id, obj);
    if (ofKind.size === size || (!kindIsEmpty && state.get(k, id) !== undefined))
      throw new AlreadyExistsError(k, id);
    if (op.position !== undefined) {
      if (k !== 'rule')
        throw new InvalidFieldError(`create ${k}/${id}: position is only allowed for rules`);
      positions.set(i, op.position);
    }
    // (a copy made the careful way has none of them yet)
    // (indexed loops here and below: a for-of that runs unoptimized allocates an iterator and
    // a result per step, half a million objects over a cold build)
    for (let j = 0; j < backFields.length; j++)
      if (obj[backFields[j]!] !== EMPTY) obj[backFields[j]!] = EMPTY;
    kinds[i] = k;
    objs[i] = obj;
  }

  // the map of new objects of the kind looked up last (targets come in runs of one kind)
  let lastKind: Kind | undefined;
  let lastFresh: Map<string, Obj> | undefined;
  const freshOf = (kind: Kind): Map<string, Obj> | undefined => {
    lastKind = kind;
    return (lastFresh = fresh.get(kind));
  };
  /** The back-reference list `field` of `kind/id`, writable, or undefined if there is none. */
  const backList = (kind: Kind, id: string, field: string): string[] | undefined => {
    const created = (kind === lastKind ? lastFresh : freshOf(kind))?.get(id);
    if (created !== undefined) {
      const list = created[field] as string[];
      if (list !== EMPTY) return list;
      return (created[field] = []);
    }
    const key = `${kind}/${id}`;
    let t = touched.get(key);
    if (t === undefined) {
      const base = state.get(kind, id);
      if (base === undefined) return undefined;
      t = { kind, base, obj: { ...base }, copied: new Set() };
      touched.set(key, t);
    }
    if (!t.copied.has(field)) {
      t.obj[field] = [...((t.obj[field] as readonly string[] | undefined) ?? [])];
      t.copied.add(field);
    }
    return t.obj[field] as string[];
  };
  // per binding (by its index in SCHEMA), the list it added to last: a list, once made
  // writable, stays the same array, and references come in runs (a chain's rules, a router's
  // routes)
  const lastTarget = new Array<string | undefined>(SCHEMA.length).fill(undefined);
  const lastList = new Array<string[] | undefined>(SCHEMA.length).fill(undefined);
  const addBack = (
    b: Binding,
    n: number,
    target: string,
    id: string,
    position: number | undefined,
  ): void => {
    let back = lastTarget[n] === target ? lastList[n] : undefined;
    if (back === undefined) {
      back = backList(b.back.kind, target, b.back.field);
      if (back !== undefined) {
        lastTarget[n] = target;
        lastList[n] = back;
      }
    }
    if (back === undefined) {
      throw new NotFoundError(
        b.back.kind,
        target,
        `${b.forward.kind}/${id}: ${b.forward.key !== undefined ? `${b.forward.field}[].${b.forward.key}` : b.forward.field} references ${b.back.kind}/${target}, which does not exist`,
      );
    }
    // objects are linked one after the other: a second binding of the same object into the
    // same list (a rule's source and destination group) finds it last
    if (back[back.length - 1] === id) return;
    if (position === undefined) {
      back.push(id);
      return;
    }
    if (!Number.isInteger(position) || position < 1 || position > back.length + 1) {
      throw new InvalidFieldError(
        `create ${b.forward.kind}/${id}: position ${position} is outside 1..${back.length + 1}`,
      );
    }
    back.splice(position - 1, 0, id);
  };

  /** Puts the placeholder back into every back-reference field of the adopted objects (those
   * that are their op's object): a refused run or a check leaves them as they were given. */
  const restoreSlots = (): void => {
    for (let i = 0; i < objs.length; i++) {
      const obj = objs[i]!;
      if (obj === (ops[i]!.object as unknown)) resetBacks(obj, backFieldsOf(kinds[i]!));
    }
  };
  let portAt: Map<string, number> | undefined;
  /** The new port `id` (`obj`) as an object the store may write more than slots into: an
   * adopted one is replaced by a copy, and its input left as it was given. */
  const ownPort = (id: string, obj: Obj): Obj => {
    if (portAt === undefined) {
      portAt = new Map();
      for (let i = 0; i < objs.length; i++)
        if (kinds[i] === 'port') portAt.set(objs[i]!['id'] as string, i);
    }
    const i = portAt.get(id)!;
    if (objs[i] !== (ops[i]!.object as unknown)) return obj;
    const copy = { ...obj };
    resetBacks(obj, backFieldsOf('port'));
    objs[i] = copy;
    fresh.get('port')!.set(id, copy);
    return copy;
  };

  try {
    // what a kind needs is looked up when the kind changes (ops come kind by kind)
    let last: Kind | undefined;
    let bindings = bindingsOf(kinds[0] ?? 'rule');
    let index = forwardIndexOf(kinds[0] ?? 'rule');
    for (let i = 0; i < objs.length; i++) {
      const kind = kinds[i]!;
      const obj = objs[i]!;
      const id = obj['id'] as string;
      if (kind !== last) {
        last = kind;
        bindings = bindingsOf(kind);
        index = forwardIndexOf(kind);
      }
      for (let j = 0; j < bindings.forward.length; j++) {
        const b = bindings.forward[j]!;
        const v = obj[b.forward.field];
        if (v === undefined) continue;
        if (!b.forward.many) {
          const pos =
            positions.size > 0 && b.back.field === 'ruleIds' && b.back.kind === 'chain'
              ? positions.get(i)
              : undefined;
          addBack(b, index[j]!, v as string, id, pos);
        } else {
          // a list (validated); a target named twice is linked once: it finds this object
          // last in its list (no object of another op comes between)
          const list = v as readonly unknown[];
          const key = b.forward.key;
          for (let t = 0; t < list.length; t++) {
            const target = key === undefined ? list[t] : (list[t] as Obj)[key];
            addBack(b, index[j]!, target as string, id, undefined);
          }
        }
      }
      if (bindings.symmetric && obj['peerId'] !== undefined)
        link(obj, id, fresh, state, touched, ownPort);
    }
  } catch (e) {
    restoreSlots();
    throw e;
  }

  if (checkOnly) {
    restoreSlots();
    return objs.length > 0;
  }
  for (let i = 0; i < objs.length; i++) {
    const obj = objs[i]!;
    obj['version'] = 1;
    const backs = backFieldsOf(kinds[i]!);
    for (let j = 0; j < backs.length; j++)
      if (obj[backs[j]!] !== EMPTY) Object.freeze(obj[backs[j]!]);
    Object.freeze(obj);
  }
  const updated: Change[] = [];
  for (const t of touched.values()) {
    t.obj['version'] = t.base.version + 1;
    for (const f of t.copied) Object.freeze(t.obj[f]);
    updated.push({ kind: t.kind, id: t.base.id, type: 'updated', object: freeze(t.obj) });
  }
  let changes: Change[] | undefined;
  return {
    size: objs.length + updated.length,
    created: fresh as unknown as ReadonlyMap<Kind, ReadonlyMap<string, AnyObject>>,
    updated,
    changes(): readonly Change[] {
      if (changes !== undefined) return changes;
      changes = new Array<Change>(objs.length);
      for (let i = 0; i < objs.length; i++) {
        const object = objs[i] as unknown as AnyObject;
        changes[i] = { kind: kinds[i]!, id: object.id, type: 'created', object };
      }
      for (const c of updated) changes.push(c);
      return changes;
    },
  };
}

/** Per kind, the index in SCHEMA of each of its forward bindings (`bindingsOf(kind).forward`). */
const FORWARD_INDEX = new Map<Kind, readonly number[]>();

function forwardIndexOf(kind: Kind): readonly number[] {
  let out = FORWARD_INDEX.get(kind);
  if (out === undefined)
    FORWARD_INDEX.set(kind, (out = bindingsOf(kind).forward.map((b) => SCHEMA.indexOf(b))));
  return out;
}

const BACK_FIELDS = new Map<Kind, readonly string[]>();
const EMPTY_BACKS = new Map<Kind, Readonly<Obj>>();

/** The back-reference fields of a kind, each an empty list (frozen; what a new object starts
 * with). */
function emptyBacksOf(kind: Kind): Readonly<Obj> {
  let o = EMPTY_BACKS.get(kind);
  if (o === undefined) {
    o = Object.freeze(Object.fromEntries(backFieldsOf(kind).map((f) => [f, EMPTY])));
    EMPTY_BACKS.set(kind, o);
  }
  return o;
}

/** The back-reference fields of a kind, as a list. */
function backFieldsOf(kind: Kind): readonly string[] {
  let fields = BACK_FIELDS.get(kind);
  if (fields === undefined) BACK_FIELDS.set(kind, (fields = [...bindingsOf(kind).back.keys()]));
  return fields;
}

/** Sets every field of `fields` of `obj` that holds a list to the placeholder. */
function resetBacks(obj: Obj, fields: readonly string[]): void {
  for (let j = 0; j < fields.length; j++) if (obj[fields[j]!] !== EMPTY) obj[fields[j]!] = EMPTY;
}

function freeze(obj: Obj): AnyObject {
  return Object.freeze(obj) as unknown as AnyObject;
}

/** Links port `id` with its `peerId` (both ends name each other), as a transaction does. */
function link(
  obj: Obj,
  id: string,
  fresh: ReadonlyMap<Kind, ReadonlyMap<string, Obj>>,
  state: StoreState,
  touched: Map<string, Touched>,
  ownPort: (id: string, obj: Obj) => Obj,
): void {
  const peerId = obj['peerId'] as string;
  let peer: Obj | undefined = fresh.get('port')?.get(peerId);
  const isNew = peer !== undefined;
  const key = `port/${peerId}`;
  if (peer === undefined) peer = touched.get(key)?.obj;
  if (peer === undefined) {
    const base = state.get('port', peerId);
    if (base !== undefined) {
      peer = { ...base };
      touched.set(key, { kind: 'port', base, obj: peer, copied: new Set() });
    }
  }
  if (peer === undefined) {
    throw new NotFoundError(
      'port',
      peerId,
      `port/${id}: peerId references port/${peerId}, which does not exist`,
    );
  }
  const other = peer['peerId'];
  if (other === id) return;
  if (other !== undefined) {
    throw new ReferenceConflictError(
      `port/${id}: cannot link to port/${peerId}, already linked to port/${String(other)}`,
    );
  }
  // an adopted port gets no field beyond its slots: it is copied first
  if (isNew) peer = ownPort(peerId, peer);
  peer['peerId'] = id;
}
