/**
 * Field comparison between a desired object and the stored one. Only client-writable fields
 * count: `version` and back-references are the store's. Absent, undefined, null, false, '' and
 * [] are the same "unset" value, so a store that fills in defaults never causes a perpetual
 * update.
 */
import { BACK_REFERENCE_FIELDS } from '../store/index.js';
import type { Kind } from '../store/index.js';

const IGNORED: { readonly [K in Kind]: ReadonlySet<string> } = Object.fromEntries(
  Object.entries(BACK_REFERENCE_FIELDS).map(([kind, fields]) => [
    kind,
    new Set<string>(['version', ...(fields as readonly string[])]),
  ]),
) as unknown as { readonly [K in Kind]: ReadonlySet<string> };

/** Fields of `kind` that the diff ignores (version and back-references). */
export function ignoredFields(kind: Kind): ReadonlySet<string> {
  return IGNORED[kind];
}

function isUnset(v: unknown): boolean {
  return (
    v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0)
  );
}

/** Deep equality with the "unset" rule applied at every level. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isUnset(a)) return isUnset(b);
  if (isUnset(b)) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  return sameRecord(a as Record<string, unknown>, b as Record<string, unknown>, undefined);
}

function sameRecord(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  ignored: ReadonlySet<string> | undefined,
): boolean {
  for (const k in a) {
    if (ignored?.has(k)) continue;
    if (!sameValue(a[k], b[k])) return false;
  }
  for (const k in b) {
    if (ignored?.has(k) || k in a) continue;
    if (!isUnset(b[k])) return false;
  }
  return true;
}

/** True when every writable field of `desired` equals the stored object's. */
export function sameWritableFields(kind: Kind, desired: object, actual: object): boolean {
  return sameRecord(
    desired as Record<string, unknown>,
    actual as Record<string, unknown>,
    IGNORED[kind],
  );
}

/** The writable view of a stored object (drops version and back-references). */
export function writableView(kind: Kind, o: object): Record<string, unknown> {
  const ignored = IGNORED[kind];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!ignored.has(k) && !isUnset(v)) out[k] = v;
  return out;
}
