/**
 * Integrity check of a whole store against the bindings table: every bound forward reference
 * names an existing object whose back-reference lists it, every back-reference entry names an
 * existing object whose forward field points back, no back-reference list holds an id twice,
 * and linked ports point at each other. Runs in time linear in the number of references.
 */
import { StoreCorruptError } from './errors.js';
import { bindingsOf, forwardTargets } from './schema.js';
import type { StoreState } from './state.js';
import { KINDS, type Kind } from './types.js';

/** One integrity problem, naming the object and the field. */
export interface StoreProblem {
  readonly kind: Kind;
  readonly id: string;
  readonly field: string;
  readonly message: string;
}

type Obj = Readonly<Record<string, unknown>>;

/** Returns every integrity problem of `state` (empty when the store is sound). */
export function verifyState(state: StoreState, limit = 1000): StoreProblem[] {
  const problems: StoreProblem[] = [];
  const report = (kind: Kind, id: string, field: string, message: string): void => {
    if (problems.length < limit)
      problems.push({ kind, id, field, message: `${kind}/${id}: ${message}` });
  };
  const memberSets = new Map<string, Set<string>>();
  const contains = (obj: Obj, kind: Kind, field: string, id: string): boolean => {
    const list = (obj[field] as readonly string[] | undefined) ?? [];
    if (list.length < 16) return list.includes(id);
    const k = `${kind}/${String(obj['id'])}/${field}`;
    let s = memberSets.get(k);
    if (!s) memberSets.set(k, (s = new Set(list)));
    return s.has(id);
  };
  for (const kind of KINDS) {
    const bindings = bindingsOf(kind);
    for (const [id, o] of state.objects(kind)) {
      const obj = o as unknown as Obj;
      if (obj['id'] !== id)
        report(kind, id, 'id', `stored under id ${id} but its id is ${String(obj['id'])}`);
      for (const b of bindings.forward) {
        for (const t of forwardTargets(b.forward, obj)) {
          const target = state.get(b.back.kind, t) as unknown as Obj | undefined;
          if (!target)
            report(
              kind,
              id,
              b.forward.field,
              `${b.forward.field} references missing ${b.back.kind}/${t}`,
            );
          else if (!contains(target, b.back.kind, b.back.field, id)) {
            report(
              kind,
              id,
              b.forward.field,
              `${b.back.kind}/${t}.${b.back.field} does not list it`,
            );
          }
        }
      }
      const peer = obj['peerId'];
      if (bindings.symmetric && typeof peer === 'string') {
        const p = state.get('port', peer) as unknown as Obj | undefined;
        if (!p) report(kind, id, 'peerId', `peerId references missing port/${peer}`);
        else if (p['peerId'] !== id) report(kind, id, 'peerId', `port/${peer} is not linked back`);
      }
      for (const [field, bs] of bindings.back) {
        const list = obj[field];
        if (!Array.isArray(list)) {
          report(kind, id, field, `${field} is not a list`);
          continue;
        }
        if (new Set(list).size !== list.length)
          report(kind, id, field, `${field} lists an id twice`);
        const fk = bs[0]!.forward.kind;
        for (const r of list as string[]) {
          const referrer = state.get(fk, r) as unknown as Obj | undefined;
          if (!referrer) {
            report(kind, id, field, `${field} lists missing ${fk}/${r}`);
            continue;
          }
          const pointsBack = bs.some((b) => forwardTargets(b.forward, referrer).includes(id));
          if (!pointsBack)
            report(kind, id, field, `${field} lists ${fk}/${r}, which does not reference it`);
        }
      }
    }
  }
  return problems;
}

/** Throws `StoreCorruptError` naming the first broken objects of a loaded store. */
export function checkVerified(dir: string, state: StoreState): void {
  const problems = verifyState(state, 20);
  if (problems.length === 0) return;
  const list = problems.map((p) => p.message).join('; ');
  throw new StoreCorruptError(`store ${dir}: broken binding(s): ${list}`);
}
