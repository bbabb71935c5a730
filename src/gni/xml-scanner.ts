/**
 * A single-pass XML scanner for GNI documents that builds the plain (§15) form directly.
 *
 * Why hand-written: a generic tokenizer plus object tree was 5-15x slower and used several
 * times the document size in heap (see docs/benchmarks.md). This scanner walks the string
 * with indexOf, keeps a small stack of frames (one per open element, pooled by depth) and
 * writes each element straight into its plain object according to `schema.ts`.
 *
 * Safety: no DTD processing at all (a DOCTYPE that declares entities is refused), only the
 * five predefined entities and numeric character references are decoded, nesting depth and
 * the size of any one text or attribute value are capped, and every scan is linear in the
 * input (each indexOf starts after the previous match). Problems are reported as issues; the
 * scanner never throws on input.
 *
 * This module is the entry point (whole-text and chunked scans, chunk ends); the work is
 * split over `xml-text.ts` (Fatal, positions, entity decoding), `xml-tokenizer.ts` (markup,
 * well-formedness, interned tag names) and `xml-builder.ts` (frames and the plain form).
 * Helpers called per character, tag or text node stay in the module of their caller.
 */
import { DOCUMENT_PATH, type IssueSink } from './issues.js';
import type { Plain } from './schema.js';
import type { LayoutRecorder } from './layout.js';
import { Scanner, type ItemHook } from './xml-builder.js';
import { Fatal, lineColumn } from './xml-text.js';
import { DEFAULT_XML_LIMITS, type XmlLimits } from './xml-tokenizer.js';

export type { ItemHook } from './xml-builder.js';
export { decodeEntities, lineColumn } from './xml-text.js';
export { DEFAULT_XML_LIMITS, type XmlLimits } from './xml-tokenizer.js';

/** Characters XML forbids anywhere in a document (C0 controls except tab, LF, CR; U+FFFE/F). */
export const FORBIDDEN_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

/**
 * Scans an XML GNI document starting at `start` (after any BOM) into the plain form.
 * Returns `undefined` after adding a document-level error if the document is not usable.
 */
export function scanXml(
  s: string,
  start: number,
  issues: IssueSink,
  limits: XmlLimits = DEFAULT_XML_LIMITS,
  onItem?: ItemHook,
): Plain | undefined {
  const bad = FORBIDDEN_CHARS.exec(s);
  if (bad !== null) {
    const code = s.charCodeAt(bad.index).toString(16).padStart(4, '0');
    issues.error(
      DOCUMENT_PATH,
      'invalid-character',
      `not a GNI document: control character U+${code} at ${lineColumn(s, bad.index)} (binary data?)`,
    );
    return undefined;
  }
  const scanner = new Scanner(s, issues, limits, onItem);
  try {
    scanner.run(s, start, true);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e; // a bug, not bad input
    issues.error(DOCUMENT_PATH, e.code, `${e.message} (${lineColumn(s, e.pos)})`);
    return undefined;
  }
  return scanner.root;
}

/**
 * Scans an XML GNI document fed in chunks, for readers that never hold the whole text. Each
 * chunk but the last must end at a token boundary (`chunkEnd` gives such ends for UTF-8
 * bytes). Kept values share no memory with the chunks, so each chunk can be freed once
 * scanned. Any fatal problem (bad character, malformed or truncated markup, or a chunk end
 * that was not a token boundary after all) makes `feed` return false: the caller then reads
 * the whole document with `scanXml`, which reports it exactly, positions included.
 */
export class XmlChunkScanner {
  private readonly scanner: Scanner;

  constructor(
    issues: IssueSink,
    limits: XmlLimits = DEFAULT_XML_LIMITS,
    onItem?: ItemHook,
    layout?: LayoutRecorder,
  ) {
    this.scanner = new Scanner('', issues, limits, onItem, true, layout);
  }

  /** Scans the next chunk from `start`; false if the document needs a whole-text scan. */
  feed(chunk: string, start: number, final: boolean): boolean {
    if (FORBIDDEN_CHARS.test(chunk)) return false;
    try {
      this.scanner.run(chunk, start, final);
    } catch (e) {
      if (!(e instanceof Fatal)) throw e; // a bug, not bad input
      return false;
    }
    return true;
  }

  /** The plain root once the final chunk has been fed. */
  get root(): Plain | undefined {
    return this.scanner.root;
  }
}

/**
 * The end of a chunk of the UTF-8 document `bytes` that starts at or after `from`: just after
 * the first `</…>` found from there (so the chunk ends where the scanner is between tokens,
 * unless that text sits in a comment, CDATA section or attribute value: then the scan of the
 * chunk fails and the caller falls back to a whole-text scan). `bytes.length` if none.
 */
export function chunkEnd(bytes: Uint8Array, from: number): number {
  let lt = from < bytes.length ? bytes.indexOf(60, from) : -1;
  while (lt >= 0 && bytes[lt + 1] !== 47) lt = bytes.indexOf(60, lt + 1);
  const gt = lt < 0 ? -1 : bytes.indexOf(62, lt + 2);
  return gt < 0 ? bytes.length : gt + 1;
}
