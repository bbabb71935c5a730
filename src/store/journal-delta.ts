/**
 * List deltas in journal records (journal format 3). A commit that adds one route to a router
 * whose `routeIds` holds 11,000 ids changes one entry of that list; a record that holds the
 * router whole writes the 11,000 ids again. In a format-3 journal an updated object's long
 * lists are written as edits of the same list in the object's previous version:
 *
 *   { kind, id, type: 'updated', base: <previous version>, lists: [field, …],
 *     object: { …every field, each field named in `lists` holding its edits… } }
 *
 * The edits of a list are `[[at, deleteCount, [inserted…]], …]` against the previous list, in
 * ascending, non-overlapping positions (`[]`: unchanged). Replaying them gives exactly the
 * list that was committed, order included, whatever the list holds (the edits are computed and
 * applied by position; nothing assumes the list is a set). A record is resolved against the
 * state it follows (the object's version must be `base`), so a record that does not fit the
 * state it is replayed on is reported as damaged, never applied.
 */
import type { AnyObject, Change, Kind } from './types.js';

/** Lists shorter than this are written whole (their edits would save little). */
const MIN_DELTA_LENGTH = 32;

/** One change as a record holds it (format 3 adds `base` and `lists` to some updates). */
export interface RecordChange {
  readonly kind: Kind;
  readonly id: string;
  readonly type: Change['type'];
  readonly object?: Readonly<Record<string, unknown>>;
  /** The version of the object the list edits apply to. */
  readonly base?: number;
  /** The fields of `object` that hold edits instead of a list. */
  readonly lists?: readonly string[];
}

/** One edit: at `at` (a position in the previous list), delete `n` entries, insert `ins`. */
type Edit = [at: number, n: number, ins: unknown[]];

/** Finds an object as it is before a change (the committed state, or an earlier record). */
export type Lookup = (kind: Kind, id: string) => AnyObject | undefined;

/**
 * The edits that turn `a` into `b`, or undefined when writing `b` whole is about as small.
 * The result always rebuilds `b` exactly: every step emits `b`'s next entry (kept from `a`
 * when it is the same value, else inserted) or skips one of `a`'s.
 */
export function listEdits(a: readonly unknown[], b: readonly unknown[]): Edit[] | undefined {
  if (a === b) return [];
  let p = 0;
  const min = Math.min(a.length, b.length);
  while (p < min && a[p] === b[p]) p++;
  let s = 0;
  while (s < min - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const aEnd = a.length - s;
  const bEnd = b.length - s;
  if (p === aEnd && p === bEnd) return [];
  if (aEnd - p <= 8 || bEnd - p <= 8) {
    if (bEnd - p > b.length / 2) return undefined;
    return [[p, aEnd - p, b.slice(p, bEnd)]];
  }
  // both middles are long: keep what is in both, delete what `b` lacks, insert what `a` lacks
  const inA = new Set(a.slice(p, aEnd));
  const inB = new Set(b.slice(p, bEnd));
  const edits: Edit[] = [];
  let inserted = 0;
  let cur: Edit | undefined;
  let i = p;
  let j = p;
  const edit = (): Edit => {
    if (cur === undefined || cur[0] + cur[1] !== i) edits.push((cur = [i, 0, []]));
    return cur;
  };
  while (i < aEnd || j < bEnd) {
    if (i < aEnd && j < bEnd && a[i] === b[j]) {
      i++;
      j++;
      cur = undefined;
    } else if (j >= bEnd || (i < aEnd && !inB.has(a[i]))) {
      edit()[1]++;
      i++;
    } else if (i >= aEnd || !inA.has(b[j])) {
      edit()[2].push(b[j]);
      j++;
      inserted++;
    } else {
      // both entries occur later on the other side (a reordering): take `a`'s out
      edit()[1]++;
      i++;
    }
    if (inserted > b.length / 2) return undefined;
  }
  return edits;
}

function applyEdits(prev: readonly unknown[], edits: unknown): unknown[] {
  if (!Array.isArray(edits)) throw new Error('list edits are not a list');
  const out: unknown[] = [];
  let cursor = 0;
  for (const e of edits as unknown[]) {
    if (!Array.isArray(e) || e.length !== 3) throw new Error('a list edit is not [at, n, [..]]');
    const [at, n, ins] = e as [unknown, unknown, unknown];
    if (
      !Number.isInteger(at) ||
      !Number.isInteger(n) ||
      !Array.isArray(ins) ||
      (at as number) < cursor ||
      (n as number) < 0 ||
      (at as number) + (n as number) > prev.length
    ) {
      throw new Error(
        `list edit [${String(at)}, ${String(n)}] does not fit a list of ${prev.length}`,
      );
    }
    for (let k = cursor; k < (at as number); k++) out.push(prev[k]);
    for (const v of ins as unknown[]) out.push(v);
    cursor = (at as number) + (n as number);
  }
  for (let k = cursor; k < prev.length; k++) out.push(prev[k]);
  return out;
}

function key(kind: Kind, id: string): string {
  return `${kind}\u0000${id}`;
}

/**
 * The changes of one commit as a format-3 record holds them: each update's lists of at least
 * 32 entries are written as edits of the object's previous version (`previous`, or an earlier
 * change of the same commit).
 */
export function encodeChanges(changes: readonly Change[], previous: Lookup): unknown[] {
  const seen = new Map<string, AnyObject | null>();
  const out: unknown[] = new Array(changes.length);
  for (let n = 0; n < changes.length; n++) {
    const c = changes[n]!;
    const k = key(c.kind, c.id);
    const before = seen.has(k) ? (seen.get(k) ?? undefined) : previous(c.kind, c.id);
    seen.set(k, c.object ?? null);
    out[n] = c;
    if (c.type !== 'updated' || before === undefined || c.object === undefined) continue;
    const now = c.object as unknown as Record<string, unknown>;
    const old = before as unknown as Record<string, unknown>;
    let object: Record<string, unknown> | undefined;
    const lists: string[] = [];
    for (const f in now) {
      const v = now[f];
      const pv = old[f];
      if (!Array.isArray(v) || !Array.isArray(pv) || v.length < MIN_DELTA_LENGTH) continue;
      const edits = listEdits(pv, v);
      if (edits === undefined) continue;
      object ??= { ...now };
      object[f] = edits;
      lists.push(f);
    }
    if (object !== undefined) {
      out[n] = { kind: c.kind, id: c.id, type: c.type, base: before.version, lists, object };
    }
  }
  return out;
}

/**
 * The changes a record holds, with every list edit applied to the object's previous version
 * (`previous`, or an earlier change of the same record). Throws an Error saying why when the
 * record does not fit (its base version is not the object's, an edit is out of range): the
 * caller reports the record as damaged.
 */
export function resolveChanges(raw: readonly RecordChange[], previous: Lookup): Change[] {
  if (!Array.isArray(raw)) throw new Error('record payload is not a list of changes');
  const seen = new Map<string, AnyObject | null>();
  const out: Change[] = new Array(raw.length);
  for (let n = 0; n < raw.length; n++) {
    const c = raw[n]!;
    const k = key(c.kind, c.id);
    let change = c as Change;
    if (c.lists !== undefined) {
      const name = `${String(c.kind)}/${String(c.id)}`;
      const before = seen.has(k) ? (seen.get(k) ?? undefined) : previous(c.kind, c.id);
      if (before === undefined)
        throw new Error(`update of ${name} edits version ${String(c.base)}, which is not there`);
      if (before.version !== c.base) {
        throw new Error(
          `update of ${name} edits version ${String(c.base)}, the object is at version ${before.version}`,
        );
      }
      if (c.type !== 'updated' || !Array.isArray(c.lists) || typeof c.object !== 'object')
        throw new Error(`update of ${name} has list edits but is not a whole update`);
      const object: Record<string, unknown> = { ...c.object };
      const old = before as unknown as Record<string, unknown>;
      for (const f of c.lists) {
        const pv = old[f];
        if (!Array.isArray(pv) || !(f in object))
          throw new Error(`update of ${name} edits ${String(f)}, which is not a list`);
        try {
          object[f] = applyEdits(pv, object[f]);
        } catch (e) {
          throw new Error(`update of ${name}, field ${f}: ${(e as Error).message}`);
        }
      }
      change = { kind: c.kind, id: c.id, type: 'updated', object: object as unknown as AnyObject };
    }
    seen.set(k, change.object ?? null);
    out[n] = change;
  }
  return out;
}
