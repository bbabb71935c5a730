/**
 * The markup layer of the XML scanner: walks the text with indexOf, reads tags, attributes,
 * comments, CDATA, DOCTYPE and processing instructions, keeps the stack of open element names
 * and checks well-formedness. What the elements mean is left to the subclass (`xml-builder.ts`)
 * through four hooks: `push` (an element opens), `onAttribute`, `onText` and `closeFrame`; when
 * `marking`, `markOpen`/`markClose` also report where the tags of the top three levels end.
 *
 * Safety: a DOCTYPE that declares entities is refused, nesting depth and the size of any one
 * attribute value are capped, and every scan is linear in the input (each indexOf starts after
 * the previous match). Problems stop the scan with a `Fatal`.
 */
import { DOCUMENT_PATH, type IssueSink } from './issues.js';
import { ROOT, ROOT_NAME, type ObjSchema } from './schema.js';
import { decodeEntities, Fatal } from './xml-text.js';

/** Limits of the XML scanner. */
export interface XmlLimits {
  /** Deepest element nesting accepted (default 64). */
  readonly maxDepth: number;
  /** Longest text or attribute value in characters (default 1 MiB). */
  readonly maxValueLength: number;
}

/** Default scanner limits. */
export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64, maxValueLength: 1 << 20 };

// The character classes and tag-name interning below run per character or per tag; they stay
// in this module (not a shared one) because, when the sources are transformed to CommonJS
// (tsx under mocha), every call into another module goes through an export getter.

/** Whether `c` is XML white space (space, LF, tab, CR). */
export function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Whether `c` may start a tag or attribute name. */
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c > 127;
}

/** Hash of a name as computed while scanning a tag. */
function nameHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return h;
}

/** Every element name of the schema, by hash, so known tags need no new string. */
const KNOWN_NAMES = new Map<number, string[]>();
(function collect(schema: ObjSchema, seen: Set<ObjSchema>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  for (const [name, spec] of schema.children) {
    const names =
      spec.k === 'wrapper' ? [name, spec.item] : spec.k === 'values' ? [name, 'value'] : [name];
    for (const n of names) {
      const list = KNOWN_NAMES.get(nameHash(n)) ?? [];
      if (!list.includes(n)) list.push(n);
      KNOWN_NAMES.set(nameHash(n), list);
    }
    if ('schema' in spec) collect(spec.schema, seen);
  }
})(ROOT, new Set());
KNOWN_NAMES.set(nameHash(ROOT_NAME), [ROOT_NAME]);

/** The interned schema name equal to `s[a, b)` (whose hash is `h`), if there is one. */
function knownName(s: string, a: number, b: number, h: number): string | undefined {
  const list = KNOWN_NAMES.get(h);
  if (list === undefined) return undefined;
  for (const n of list) if (n.length === b - a && s.startsWith(n, a)) return n;
  return undefined;
}

/** Shortest string V8 slices instead of copying (`SlicedString::kMinLength`). */
const MIN_SLICE = 13;

/**
 * Tokenizer state; one instance (of the subclass) per document. The text can be scanned in
 * chunks (`run` once per chunk, each ending at a token boundary); `copyValues` makes the kept
 * values share no memory with the chunks.
 */
export abstract class XmlTokenizer {
  /** Names of the open elements, by depth (pooled: entries past `depth` are stale). */
  protected readonly name: string[] = [];
  /** Depth of the innermost open element; -1 outside the root. */
  protected depth = -1;
  protected rootDone = false;
  /** When set, `markOpen` reports where the start tags of depths 0–2 end, `markClose` where
   * every element ends. */
  protected marking = false;
  private warnedProlog = false;
  /** Values of `MIN_SLICE` characters or more already copied, by content (chunked mode). */
  private readonly interned: Map<string, string> | undefined;

  constructor(
    protected s: string,
    protected readonly issues: IssueSink,
    protected readonly limits: XmlLimits,
    copyValues: boolean,
  ) {
    this.interned = copyValues ? new Map() : undefined;
  }

  /** Opens the frame of element `name` at depth `d` (`depth` is still the parent's). */
  protected abstract push(d: number, name: string, lt: number): void;
  /** Handles attribute `attr` of the element at depth `d`. */
  protected abstract onAttribute(d: number, attr: string, value: string): void;
  /** Handles the text `s[a, b)` (raw, or the content of a CDATA section if `cdata`). */
  protected abstract onText(a: number, b: number, cdata: boolean): void;
  /** Closes the frame at depth `d` (`depth` is still `d`). */
  protected abstract closeFrame(d: number): void;
  /** With `marking`: the start tag of the element at depth `d` (≤ 2) ends just before `end`. */
  protected markOpen(_d: number, _end: number): void {}
  /** With `marking`: the element at depth `d` ends just before `end`. */
  protected markClose(_d: number, _end: number): void {}

  /**
   * A value to keep in the plain form. In chunked mode, a value long enough to be a V8 sliced
   * string would keep its whole chunk alive: it is replaced by one flat copy per distinct
   * content (shorter strings are already copies).
   */
  protected own(v: string): string {
    const interned = this.interned;
    if (interned === undefined || v.length < MIN_SLICE) return v;
    let c = interned.get(v);
    if (c === undefined) {
      c = JSON.parse(JSON.stringify(v)) as string; // a flat copy, sharing nothing with `v`
      interned.set(c, c);
    }
    return c;
  }

  /**
   * Scans `s` from `start`. Unless `final`, `s` must end at a token boundary and the next
   * chunk continues the same document; the end-of-document checks run on the final chunk.
   */
  run(s: string, start: number, final: boolean): void {
    this.s = s;
    const n = s.length;
    let pos = start;
    for (;;) {
      const lt = s.indexOf('<', pos);
      const end = lt < 0 ? n : lt;
      if (end > pos) this.onText(pos, end, false);
      if (lt < 0) break;
      const c1 = s.charCodeAt(lt + 1);
      if (c1 === 47) pos = this.onClose(lt);
      else if (c1 === 33) pos = this.onBang(lt);
      else if (c1 === 63) pos = this.onPi(lt);
      else pos = this.onOpen(lt);
    }
    if (!final) return;
    if (this.depth >= 0) {
      throw new Fatal(
        'truncated',
        `document ends inside <${this.name[this.depth]!}> (${this.depth + 1} element(s) left open): truncated file?`,
        n,
      );
    }
    if (!this.rootDone) throw new Fatal('no-root', `no <${ROOT_NAME}> root element`, n);
  }

  protected badReference(pos: number): Fatal {
    return new Fatal(
      'bad-reference',
      'unknown entity or malformed character reference (only &lt; &gt; &amp; &quot; &apos; and &#…; are decoded; entities are never expanded)',
      pos,
    );
  }

  private onBang(lt: number): number {
    const s = this.s;
    if (s.startsWith('<!--', lt)) {
      const close = s.indexOf('-->', lt + 4);
      if (close < 0) throw new Fatal('truncated', 'unterminated comment', lt);
      if (this.depth < 0 && !this.rootDone) this.warnProlog('a comment');
      return close + 3;
    }
    if (s.startsWith('<![CDATA[', lt)) {
      const close = s.indexOf(']]>', lt + 9);
      if (close < 0) throw new Fatal('truncated', 'unterminated CDATA section', lt);
      if (this.depth < 0) throw new Fatal('not-well-formed', 'CDATA outside the root element', lt);
      this.onText(lt + 9, close, true);
      return close + 3;
    }
    if (s.startsWith('<!DOCTYPE', lt)) {
      if (this.depth >= 0 || this.rootDone) {
        throw new Fatal('not-well-formed', 'DOCTYPE inside the document', lt);
      }
      const gt = s.indexOf('>', lt);
      const bracket = s.indexOf('[', lt);
      if (gt < 0) throw new Fatal('truncated', 'unterminated DOCTYPE', lt);
      if ((bracket >= 0 && bracket < gt) || s.slice(lt, gt).includes('ENTITY')) {
        throw new Fatal(
          'doctype-entities',
          'DOCTYPE with an internal subset (entity declarations) is refused: entities are never expanded',
          lt,
        );
      }
      this.issues.warn(
        DOCUMENT_PATH,
        'doctype-ignored',
        'DOCTYPE ignored (eucanetd would reject this document)',
      );
      return gt + 1;
    }
    throw new Fatal('not-well-formed', 'invalid markup after "<!"', lt);
  }

  private onPi(lt: number): number {
    const close = this.s.indexOf('?>', lt + 2);
    if (close < 0) throw new Fatal('truncated', 'unterminated processing instruction', lt);
    const isDecl = /^<\?xml[\s?]/i.test(this.s.slice(lt, lt + 6));
    if (!isDecl && this.depth < 0 && !this.rootDone) this.warnProlog('a processing instruction');
    return close + 2;
  }

  private warnProlog(what: string): void {
    if (this.warnedProlog) return;
    this.warnedProlog = true;
    this.issues.warn(
      DOCUMENT_PATH,
      'prolog-content',
      `${what} before the root element (accepted; eucanetd would reject this document)`,
    );
  }

  private onClose(lt: number): number {
    const s = this.s;
    const d = this.depth;
    if (d < 0) throw new Fatal('not-well-formed', 'closing tag without an open element', lt);
    const name = this.name[d]!;
    let i = lt + 2 + name.length;
    if (!s.startsWith(name, lt + 2)) i = lt + 2;
    while (isWs(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 62 || i === lt + 2) {
      if (i >= s.length) throw new Fatal('truncated', `document ends inside </${name}>`, lt);
      const gt = s.indexOf('>', lt);
      const got = s.slice(lt + 2, gt < 0 ? Math.min(s.length, lt + 40) : gt).trim();
      throw new Fatal('not-well-formed', `expected </${name}> but found </${got}>`, lt);
    }
    this.closeFrame(d);
    this.depth = d - 1;
    if (d === 0) this.rootDone = true;
    if (this.marking) this.markClose(d, i + 1);
    return i + 1;
  }

  private onOpen(lt: number): number {
    const s = this.s;
    const n = s.length;
    let i = lt + 1;
    if (!isNameStart(s.charCodeAt(i))) {
      throw new Fatal(i >= n ? 'truncated' : 'not-well-formed', 'invalid tag', lt);
    }
    let h = 0;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 62 || c === 47 || isWs(c)) break;
      if (i >= n) throw new Fatal('truncated', 'document ends inside a tag', lt);
      if (c === 60 || c === 61 || c === 34 || c === 39) {
        throw new Fatal('not-well-formed', 'invalid character in a tag name', i);
      }
      h = (Math.imul(h, 31) + c) | 0;
      i++;
    }
    const name = knownName(s, lt + 1, i, h) ?? s.slice(lt + 1, i);
    const d = this.depth + 1;
    if (d >= this.limits.maxDepth) {
      throw new Fatal('too-deep', `elements nested deeper than ${this.limits.maxDepth} levels`, lt);
    }
    this.push(d, name, lt);
    this.depth = d;
    // Attributes.
    for (;;) {
      while (isWs(s.charCodeAt(i))) i++;
      const c = s.charCodeAt(i);
      if (c === 62) {
        if (this.marking && d <= 2) this.markOpen(d, i + 1);
        return i + 1;
      }
      if (c === 47) {
        if (s.charCodeAt(i + 1) !== 62) {
          throw new Fatal(
            i + 1 >= n ? 'truncated' : 'not-well-formed',
            'malformed empty-element tag',
            i,
          );
        }
        this.closeFrame(d);
        this.depth = d - 1;
        if (d === 0) this.rootDone = true;
        if (this.marking) {
          if (d <= 2) this.markOpen(d, i + 2);
          this.markClose(d, i + 2);
        }
        return i + 2;
      }
      if (i >= n) throw new Fatal('truncated', `document ends inside <${name}>`, lt);
      i = this.attribute(d, i);
    }
  }

  /** Reads one attribute at `i` and returns the offset after it. */
  private attribute(d: number, i: number): number {
    const s = this.s;
    const start = i;
    if (!isNameStart(s.charCodeAt(i))) throw new Fatal('not-well-formed', 'invalid attribute', i);
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 61 || isWs(c) || c === 62 || c === 47 || Number.isNaN(c)) break;
      i++;
    }
    const attr = s.slice(start, i);
    while (isWs(s.charCodeAt(i))) i++;
    if (s.charCodeAt(i) !== 61) {
      throw new Fatal(
        i >= s.length ? 'truncated' : 'not-well-formed',
        `attribute ${attr} has no value`,
        i,
      );
    }
    i++;
    while (isWs(s.charCodeAt(i))) i++;
    const q = s.charCodeAt(i);
    if (q !== 34 && q !== 39) {
      throw new Fatal(
        i >= s.length ? 'truncated' : 'not-well-formed',
        `attribute ${attr} is not quoted`,
        i,
      );
    }
    const close = s.indexOf(q === 34 ? '"' : "'", i + 1);
    if (close < 0) throw new Fatal('truncated', `unterminated value of attribute ${attr}`, i);
    if (close - i - 1 > this.limits.maxValueLength) {
      throw new Fatal(
        'value-too-large',
        `attribute ${attr} is longer than ${this.limits.maxValueLength} characters`,
        i,
      );
    }
    let value = s.slice(i + 1, close);
    if (value.indexOf('<') >= 0)
      throw new Fatal('not-well-formed', `"<" in the value of attribute ${attr}`, i);
    if (value.indexOf('&') >= 0) {
      const decoded = decodeEntities(value);
      if (decoded === undefined) throw this.badReference(i);
      value = decoded;
    }
    this.onAttribute(d, attr, this.own(value.trim()));
    return close + 1;
  }
}
