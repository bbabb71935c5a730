/**
 * The transaction engine: applies a list of ops to private drafts over the committed state,
 * maintaining every binding of the schema (back-references, cascades, clears, ERROR checks),
 * and returns the resulting changes. Nothing is visible until the caller commits the changes;
 * any error discards the drafts, so a transaction applies completely or not at all.
 */
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  ReferenceConflictError,
  ReferencedError,
} from './errors.js';
import { bindingsOf, forwardTargets, type Binding, type BindingEnd } from './schema.js';
import type { StoreState } from './state.js';
import type { AnyObject, Change, Kind, Op } from './types.js';
import { isKind, normalizeObject } from './validate.js';

type Obj = Record<string, unknown>;

interface Draft {
  readonly kind: Kind;
  readonly id: string;
  /** The committed object (undefined when the transaction creates it). */
  readonly base: AnyObject | undefined;
  /** The object as this transaction has it; null once deleted. */
  obj: Obj | null;
  /** Array fields already copied by this transaction (safe to mutate); allocated on need. */
  copied: Set<string> | undefined;
  /** Membership sets for long back-reference lists. */
  sets: Map<string, Set<string>> | undefined;
  /** Membership checks made by scanning a long list, per field (see `set`). */
  scans?: Map<string, number>;
}

const EMPTY: readonly string[] = Object.freeze([]);
const SET_THRESHOLD = 32;
/** Scans of one long list per transaction before it gets a membership set: a set costs about
 * as much to build as a few dozen scans, and one or two adds (a route for a new instance on a
 * router with 11,000 routes) are all a small transaction makes. */
const SCANS_BEFORE_SET = 16;

function key(kind: Kind, id: string): string {
  return kind + '/' + id;
}

/** Drafts by kind, then id (no key strings built on the hot path). */
class Drafts {
  private readonly byKind = new Map<Kind, Map<string, Draft>>();
  get(kind: Kind, id: string): Draft | undefined {
    return this.byKind.get(kind)?.get(id);
  }
  set(d: Draft): void {
    let m = this.byKind.get(d.kind);
    if (!m) this.byKind.set(d.kind, (m = new Map()));
    m.set(d.id, d);
  }
  *values(): Generator<Draft> {
    for (const m of this.byKind.values()) yield* m.values();
  }
}

/** Runs `ops` against `state` and returns the changes they make (state is not modified). */
export function runTransaction(state: StoreState, ops: readonly Op[]): Change[] {
  if (!Array.isArray(ops)) throw new InvalidFieldError('transaction: ops must be a list');
  const tx = new Transaction(state);
  for (const op of ops) tx.apply(op);
  return tx.finish();
}

class Transaction {
  private readonly drafts = new Drafts();

  constructor(private readonly state: StoreState) {}

  apply(op: Op): void {
    if (typeof op !== 'object' || op === null)
      throw new InvalidFieldError('transaction: op must be an object');
    if (!isKind(op.kind))
      throw new InvalidFieldError(`transaction: unknown kind ${String(op.kind)}`);
    switch (op.op) {
      case 'create':
        return this.create(op.kind, op.object, op.position);
      case 'update':
        return this.update(op.kind, op.object, op.expectedVersion);
      case 'delete':
        return this.delete(op.kind, op.id, op.expectedVersion, op.ignoreMissing === true);
      default:
        throw new InvalidFieldError(
          `transaction: unknown op ${String((op as { op: unknown }).op)}`,
        );
    }
  }

  finish(): Change[] {
    const changes: Change[] = [];
    for (const d of this.drafts.values()) {
      const base = d.base;
      if (d.obj === null) {
        if (base) changes.push({ kind: d.kind, id: d.id, type: 'deleted' });
        continue;
      }
      d.obj['version'] = base ? base.version + 1 : 1;
      if (d.copied) for (const f of d.copied) Object.freeze(d.obj[f]);
      const object = Object.freeze(d.obj) as unknown as AnyObject;
      changes.push({ kind: d.kind, id: d.id, type: base ? 'updated' : 'created', object });
    }
    return changes;
  }

  // --- reads and drafts ---

  private cur(kind: Kind, id: string): Obj | undefined {
    const d = this.drafts.get(kind, id);
    if (d) return d.obj ?? undefined;
    return this.state.get(kind, id) as Obj | undefined;
  }

  /** The draft of an existing object, created (as a shallow copy) on first write. */
  private mutable(kind: Kind, id: string): Draft {
    let d = this.drafts.get(kind, id);
    if (!d) {
      const base = this.state.get(kind, id);
      if (!base) throw new NotFoundError(kind, id);
      d = { kind, id, base, obj: { ...base }, copied: undefined, sets: undefined };
      this.drafts.set(d);
    }
    if (d.obj === null) throw new NotFoundError(kind, id);
    return d;
  }

  /** The draft of an object that exists in this transaction, or undefined. */
  private writable(kind: Kind, id: string): Draft | undefined {
    const d = this.drafts.get(kind, id);
    if (d) return d.obj ? d : undefined;
    const base = this.state.get(kind, id);
    if (!base) return undefined;
    const nd: Draft = { kind, id, base, obj: { ...base }, copied: undefined, sets: undefined };
    this.drafts.set(nd);
    return nd;
  }

  private list(d: Draft, field: string): string[] {
    const obj = d.obj!;
    d.copied ??= new Set();
    if (!d.copied.has(field)) {
      obj[field] = [...((obj[field] as readonly string[] | undefined) ?? EMPTY)];
      d.copied.add(field);
    }
    return obj[field] as string[];
  }

  /** The membership set of a long list, once it has been scanned `SCANS_BEFORE_SET` times in
   * this transaction (undefined until then: the caller scans). */
  private set(d: Draft, field: string, list: readonly string[]): Set<string> | undefined {
    const s = d.sets?.get(field);
    if (s !== undefined || list.length < SET_THRESHOLD) return s;
    d.scans ??= new Map();
    const scans = (d.scans.get(field) ?? 0) + 1;
    d.scans.set(field, scans);
    if (scans <= SCANS_BEFORE_SET) return undefined;
    const built = new Set(list);
    (d.sets ??= new Map()).set(field, built);
    return built;
  }

  private committedVersion(
    kind: Kind,
    id: string,
    expected: number | undefined,
    what: string,
  ): void {
    if (expected === undefined) return;
    const v = this.state.get(kind, id)?.version;
    if (v !== expected) {
      throw new ConcurrentModificationError(
        `${what} ${kind}/${id}: expected version ${expected}, found ${v ?? 'none (not committed)'}`,
      );
    }
  }

  // --- back-reference edits ---

  private addBack(b: Binding, targetId: string, srcId: string, position?: number): void {
    const end = b.back;
    const d = this.writable(end.kind, targetId);
    if (!d) {
      throw new NotFoundError(
        end.kind,
        targetId,
        `${b.forward.kind}/${srcId}: ${fieldLabel(b.forward)} references ${end.kind}/${targetId}, which does not exist`,
      );
    }
    const current = (d.obj![end.field] as readonly string[] | undefined) ?? EMPTY;
    const s = this.set(d, end.field, current);
    if (s ? s.has(srcId) : current.includes(srcId)) return;
    if (position === undefined && d.copied?.has(end.field) !== true) {
      // one copy of the exact size, instead of a copy that the push grows by half again into
      // another (a router's 11,000 route ids: 88 KB kept instead of 132 KB, one copy less)
      d.obj![end.field] = current.concat(srcId);
      (d.copied ??= new Set()).add(end.field);
      s?.add(srcId);
      return;
    }
    const list = this.list(d, end.field);
    if (position !== undefined) {
      if (!Number.isInteger(position) || position < 1 || position > list.length + 1) {
        throw new InvalidFieldError(
          `create ${b.forward.kind}/${srcId}: position ${position} is outside 1..${list.length + 1}`,
        );
      }
      list.splice(position - 1, 0, srcId);
    } else list.push(srcId);
    s?.add(srcId);
  }

  private removeBack(end: BindingEnd, targetId: string, srcId: string): void {
    const target = this.cur(end.kind, targetId);
    if (!target) return; // already gone in this transaction: nothing points back any more
    const current = (target[end.field] as readonly string[] | undefined) ?? EMPTY;
    // searched from the end: deleting children newest first (as a flush does) then removes the
    // last entry each time, instead of scanning lists of thousands (eucart's routes) per delete
    if (current.lastIndexOf(srcId) < 0) return;
    const d = this.mutable(end.kind, targetId);
    const list = this.list(d, end.field);
    list.splice(list.lastIndexOf(srcId), 1);
    d.sets?.get(end.field)?.delete(srcId);
  }

  private clearForward(end: BindingEnd, id: string, targetId: string): void {
    const d = this.mutable(end.kind, id);
    const obj = d.obj!;
    const v = obj[end.field];
    if (v === undefined) return;
    if (!end.many) {
      if (v === targetId) delete obj[end.field];
    } else if (end.key !== undefined) {
      const k = end.key;
      obj[end.field] = Object.freeze((v as readonly Obj[]).filter((e) => e[k] !== targetId));
    } else {
      obj[end.field] = Object.freeze((v as readonly string[]).filter((e) => e !== targetId));
    }
  }

  private linkPeer(id: string, peerId: string): void {
    const peer = this.cur('port', peerId);
    if (!peer) {
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
    this.mutable('port', peerId).obj!['peerId'] = id;
  }

  private unlinkPeer(id: string, peerId: string): void {
    const peer = this.cur('port', peerId);
    if (peer && peer['peerId'] === id) delete this.mutable('port', peerId).obj!['peerId'];
  }

  // --- ops ---

  private create(kind: Kind, input: unknown, position: number | undefined): void {
    const fields = normalizeObject(kind, input);
    const id = fields['id'] as string;
    const d = this.drafts.get(kind, id);
    const base = d ? undefined : this.state.get(kind, id);
    if (base || d?.obj) throw new AlreadyExistsError(kind, id);
    if (position !== undefined && kind !== 'rule') {
      throw new InvalidFieldError(`create ${kind}/${id}: position is only allowed for rules`);
    }
    const bindings = bindingsOf(kind);
    const obj: Obj = fields;
    for (const f of bindings.back.keys()) obj[f] = EMPTY;
    if (d) Object.assign(d, { obj, copied: undefined, sets: undefined });
    else this.drafts.set({ kind, id, base: undefined, obj, copied: undefined, sets: undefined });
    for (const b of bindings.forward) {
      const v = obj[b.forward.field];
      if (v === undefined) continue;
      if (!b.forward.many) {
        // the common case, without allocating a target list
        const pos = b.back.field === 'ruleIds' && b.back.kind === 'chain' ? position : undefined;
        this.addBack(b, v as string, id, pos);
      } else for (const t of forwardTargets(b.forward, obj)) this.addBack(b, t, id);
    }
    if (bindings.symmetric && obj['peerId'] !== undefined)
      this.linkPeer(id, obj['peerId'] as string);
  }

  private update(kind: Kind, input: unknown, expected: number | undefined): void {
    const fields = normalizeObject(kind, input);
    const id = fields['id'] as string;
    const old = this.cur(kind, id);
    if (!old) throw new NotFoundError(kind, id, `update ${kind}/${id}: not found`);
    this.committedVersion(kind, id, expected, 'update');
    const bindings = bindingsOf(kind);
    const obj: Obj = fields;
    for (const f of bindings.back.keys()) obj[f] = old[f];
    const d = this.mutable(kind, id);
    d.obj = obj;
    if (kind === 'chain') this.reorder(d, (input as { ruleIds?: unknown }).ruleIds);
    const before = edges(bindings.forward, old);
    const after = edges(bindings.forward, obj);
    for (const [k, e] of before) if (!after.has(k)) this.removeBack(e.b.back, e.target, id);
    for (const [k, e] of after) if (!before.has(k)) this.addBack(e.b, e.target, id);
    if (bindings.symmetric) {
      const was = old['peerId'] as string | undefined;
      const now = obj['peerId'] as string | undefined;
      if (was !== now) {
        if (was !== undefined) this.unlinkPeer(id, was);
        if (now !== undefined) this.linkPeer(id, now);
      }
    }
  }

  private reorder(d: Draft, ruleIds: unknown): void {
    if (ruleIds === undefined || ruleIds === null) return;
    const current = d.obj!['ruleIds'] as readonly string[];
    const ok =
      Array.isArray(ruleIds) &&
      ruleIds.length === current.length &&
      new Set(ruleIds).size === ruleIds.length &&
      ruleIds.every((r) => current.includes(r as string));
    if (!ok) {
      throw new InvalidFieldError(
        `update chain/${d.id}: ruleIds must be a permutation of the chain's rules`,
      );
    }
    d.obj!['ruleIds'] = [...(ruleIds as string[])];
    (d.copied ??= new Set()).add('ruleIds');
    d.sets?.delete('ruleIds');
  }

  private delete(
    kind: Kind,
    id: string,
    expected: number | undefined,
    ignoreMissing: boolean,
  ): void {
    if (!this.cur(kind, id)) {
      if (ignoreMissing) return;
      throw new NotFoundError(kind, id, `delete ${kind}/${id}: not found`);
    }
    this.committedVersion(kind, id, expected, 'delete');
    const closure = this.closure(kind, id);
    const root = `${kind}/${id}`;
    for (const [k, x] of closure) {
      const label = k === root ? root : `${k} (cascaded from ${root})`;
      this.detach(x.kind, x.id, x.obj, closure, label);
    }
    for (const x of closure.values()) this.mutable(x.kind, x.id).obj = null;
  }

  /** The object and every object its CASCADE ends reach, transitively. */
  private closure(kind: Kind, id: string): Map<string, { kind: Kind; id: string; obj: Obj }> {
    const out = new Map<string, { kind: Kind; id: string; obj: Obj }>();
    const queue: [Kind, string][] = [[kind, id]];
    while (queue.length > 0) {
      const [k, i] = queue.pop()!;
      const kk = key(k, i);
      if (out.has(kk)) continue;
      const obj = this.cur(k, i);
      if (!obj) continue;
      out.set(kk, { kind: k, id: i, obj });
      const bindings = bindingsOf(k);
      for (const [field, bs] of bindings.back) {
        if (bs[0]!.back.onDelete !== 'CASCADE') continue;
        for (const r of obj[field] as readonly string[]) queue.push([bs[0]!.forward.kind, r]);
      }
      for (const b of bindings.forward) {
        if (b.forward.onDelete !== 'CASCADE') continue;
        for (const t of forwardTargets(b.forward, obj)) queue.push([b.back.kind, t]);
      }
    }
    return out;
  }

  /** Applies the delete actions of one object of a closure to objects outside it. */
  private detach(
    kind: Kind,
    id: string,
    obj: Obj,
    closure: ReadonlyMap<string, unknown>,
    label: string,
  ): void {
    const bindings = bindingsOf(kind);
    for (const b of bindings.forward) {
      for (const t of forwardTargets(b.forward, obj)) {
        if (closure.has(key(b.back.kind, t))) continue;
        if (b.forward.onDelete === 'ERROR') {
          throw new ReferencedError(
            `cannot delete ${label}: its ${b.forward.field} references ${b.back.kind}/${t}`,
          );
        }
        this.removeBack(b.back, t, id);
      }
    }
    const peer = obj['peerId'];
    if (bindings.symmetric && typeof peer === 'string' && !closure.has(key('port', peer))) {
      this.unlinkPeer(id, peer);
    }
    for (const [field, bs] of bindings.back) {
      const first = bs[0]!;
      for (const r of obj[field] as readonly string[]) {
        if (closure.has(key(first.forward.kind, r))) continue;
        if (first.back.onDelete === 'ERROR') {
          const fs = bs.map((b) => b.forward.field).join('/');
          throw new ReferencedError(
            `cannot delete ${label}: ${first.forward.kind}/${r} references it (${fs})`,
          );
        }
        for (const b of bs) this.clearForward(b.forward, r, id);
      }
    }
  }
}

function fieldLabel(end: BindingEnd): string {
  return end.key !== undefined ? `${end.field}[].${end.key}` : end.field;
}

function edges(forward: readonly Binding[], obj: Obj): Map<string, { b: Binding; target: string }> {
  const out = new Map<string, { b: Binding; target: string }>();
  for (const b of forward) {
    for (const t of forwardTargets(b.forward, obj)) {
      const k = `${b.back.kind}/${b.back.field}/${t}`;
      if (!out.has(k)) out.set(k, { b, target: t });
    }
  }
  return out;
}
