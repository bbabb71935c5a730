/**
 * Byte-level helpers of the incremental reader (read-incremental.ts): comparing spans of the
 * last and the new document, moving layouts, and splicing one node's instance list into the
 * plain configuration. Pure: no I/O.
 */
import { decode } from './read.js';
import type { DocLayout, ListSpan, SectionLayout } from './layout.js';
import type { Plain } from './schema.js';

export const CONFIG = 'configuration';

/** A node's instance list as the writer lays it out: ids of safe characters only, so that the
 * values are exactly the text between the tags (no entity, no white space to trim). */
export const NODE_LIST =
  /^(?:<instanceIds\/>|<instanceIds>(?:[ \t\r\n]*<value>[A-Za-z0-9._:-]+<\/value>)*[ \t\r\n]*<\/instanceIds>)$/;
export const NODE_ID = /<value>([A-Za-z0-9._:-]+)<\/value>/g;

/** The instance lists of the old layout inside section `s`. */
export function listsOf(layout: DocLayout, s: SectionLayout): ListSpan[] {
  return layout.lists.filter((l) => l.start >= s.start && l.end <= s.end);
}

/** A list span moved by `shift` bytes. */
export function moved(l: ListSpan, shift: number): ListSpan {
  return { start: l.start + shift, end: l.end + shift, path: l.path };
}

/** A copy of plain `value` with `ids` at `path` (copying only the objects on the way), or
 * `undefined` if the path does not lead through objects and lists. */
export function withPath(
  value: unknown,
  path: readonly (string | number)[],
  ids: string[],
): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return ids;
  if (typeof key === 'number') {
    if (!Array.isArray(value) || key >= value.length) return undefined;
    const inner = withPath(value[key], rest, ids);
    if (inner === undefined) return undefined;
    const copy = [...(value as unknown[])];
    copy[key] = inner;
    return copy;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const inner = withPath((value as Plain)[key], rest, ids);
  return inner === undefined ? undefined : { ...(value as Plain), [key]: inner };
}

/** Length of the common prefix of `o[oa…]` and `n[na…]`, at most `max`. */
export function commonPrefix(o: Buffer, oa: number, n: Buffer, na: number, max: number): number {
  let p = 0;
  const block = 4096;
  while (p + block <= max && o.compare(n, na + p, na + p + block, oa + p, oa + p + block) === 0)
    p += block;
  const limit = Math.min(max, p + block);
  while (p < limit && o[oa + p] === n[na + p]) p++;
  return p;
}

/** Length of the common suffix of `o[…oe)` and `n[…ne)`, at most `max`. */
export function commonSuffix(o: Buffer, oe: number, n: Buffer, ne: number, max: number): number {
  let q = 0;
  const block = 4096;
  while (q + block <= max && o.compare(n, ne - q - block, ne - q, oe - q - block, oe - q) === 0)
    q += block;
  const limit = Math.min(max, q + block);
  while (q < limit && o[oe - q - 1] === n[ne - q - 1]) q++;
  return q;
}

/** Whether `bytes` holds the ASCII text `s` at `at`. */
export function bytesAt(bytes: Uint8Array, at: number, s: string): boolean {
  if (at + s.length > bytes.length) return false;
  for (let i = 0; i < s.length; i++) if (bytes[at + i] !== s.charCodeAt(i)) return false;
  return true;
}

/** The bytes `[a, b)` as text if they are ASCII, else `undefined`. */
export function asciiText(bytes: Uint8Array, a: number, b: number): string | undefined {
  const text = decode(bytes.subarray(a, b));
  return text?.length === b - a ? text : undefined;
}

/** A section layout moved by `shift` bytes. */
export function shifted(s: SectionLayout, shift: number): SectionLayout {
  if (shift === 0) return s;
  return {
    name: s.name,
    start: s.start + shift,
    openEnd: s.openEnd + shift,
    end: s.end + shift,
    itemEnds: s.itemEnds?.map((e) => e + shift),
  };
}
