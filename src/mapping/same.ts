/** Equality helpers of the patch passes (builder.ts, propagate.ts). */

/** Element-by-element equality of two lists (`===` per element). */
export function sameList(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Exact structural equality of plain data (objects, arrays, primitives); allocates nothing.
 * Unlike the reconciler's `sameValue`, absent, false, '' and [] are all different here: a kept
 * object must serialize exactly as the one a full pass builds.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (!Object.hasOwn(y, k) || !sameData(x[k], y[k])) return false;
    n++;
  }
  for (const _ in y) n--;
  return n === 0;
}

/**
 * `sameData` of two desired objects of one kind, their slots (`skip`: `version` and
 * back-references, see slots.ts) left out: a base object the store adopted holds version 1
 * and the store's lists there, the one a pass builds anew holds the placeholders.
 */
export function sameDesired(a: object, b: object, skip: ReadonlySet<string>): boolean {
  if (a === b) return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (skip.has(k)) continue;
    if (!Object.hasOwn(y, k) || !sameData(x[k], y[k])) return false;
    n++;
  }
  for (const k in y) if (!skip.has(k)) n--;
  return n === 0;
}
