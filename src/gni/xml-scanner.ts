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
 */
import { DOCUMENT_PATH, type IssueSink } from './issues.js';
import { ROOT, ROOT_NAME, type ChildSpec, type ObjSchema, type Plain } from './schema.js';

/**
 * Called when a top-level entity (`vpcs/vpc`, `instances/instance`, …) is complete, with the
 * section name, its plain form and its index; the return value replaces it in the section.
 */
export type ItemHook = (section: string, item: Plain, index: number) => unknown;

/** Limits of the XML scanner. */
export interface XmlLimits {
  /** Deepest element nesting accepted (default 64). */
  readonly maxDepth: number;
  /** Longest text or attribute value in characters (default 1 MiB). */
  readonly maxValueLength: number;
}

/** Default scanner limits. */
export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64, maxValueLength: 1 << 20 };

/** Frame kinds. */
const OBJ = 0; // an object element: children by schema
const SCALAR = 1; // a leaf assigned to target[key]
const LIST_ITEM = 2; // a leaf pushed onto target (an array)
const WRAP = 3; // a wrapper: `item` children become objects pushed onto target
const VALUES = 4; // a wrapper of `value` leaves pushed onto target
const SKIP = 5; // unknown or ignored: read past

/** Thrown inside the scanner to stop at a fatal problem; caught in `scanXml`. */
class Fatal {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly pos: number,
  ) {}
}

/** Line and column (1-based) of a character offset, for messages. */
export function lineColumn(s: string, pos: number): string {
  let line = 1;
  let last = -1;
  for (let i = s.indexOf('\n'); i >= 0 && i < pos; i = s.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `line ${line}, column ${pos - last}`;
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

function allWs(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (!isWs(s.charCodeAt(i))) return false;
  return true;
}

function hasAmp(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === 38) return true;
  return false;
}

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c > 127;
}

const PREDEFINED: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** Decodes the predefined entities and character references; `undefined` on any other `&`. */
export function decodeEntities(text: string): string | undefined {
  let out = '';
  let from = 0;
  for (let amp = text.indexOf('&'); amp >= 0; amp = text.indexOf('&', from)) {
    const semi = text.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) return undefined;
    const ref = text.slice(amp + 1, semi);
    let decoded: string | undefined;
    if (ref.charCodeAt(0) === 35) {
      const hex = ref.charCodeAt(1) === 120;
      const digits = ref.slice(hex ? 2 : 1);
      const valid = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits);
      const cp = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
      const allowed =
        cp === 9 ||
        cp === 10 ||
        cp === 13 ||
        (cp >= 32 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
      if (!allowed) return undefined;
      decoded = String.fromCodePoint(cp);
    } else {
      decoded = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
    }
    if (decoded === undefined) return undefined;
    out += text.slice(from, amp) + decoded;
    from = semi + 1;
  }
  return out + text.slice(from);
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

/** The interned schema name equal to `s[a, b)`, if there is one. */
function knownName(s: string, a: number, b: number, h: number): string | undefined {
  const list = KNOWN_NAMES.get(h);
  if (list === undefined) return undefined;
  for (const n of list) if (n.length === b - a && s.startsWith(n, a)) return n;
  return undefined;
}

/** Shortest string V8 slices instead of copying (`SlicedString::kMinLength`). */
const MIN_SLICE = 13;

/**
 * Scanner state; one instance per document. The text can be scanned in chunks (`run` once per
 * chunk, each ending at a token boundary); `copyValues` makes the kept values share no memory
 * with the chunks.
 */
class Scanner {
  private readonly kind: number[] = [];
  private readonly schema: (ObjSchema | null)[] = [];
  private readonly target: unknown[] = [];
  private readonly key: string[] = [];
  private readonly text: string[] = [];
  private readonly name: string[] = [];
  private readonly ident: string[] = [];
  private readonly item: string[] = [];
  private depth = -1;
  private rootDone = false;
  private warnedProlog = false;
  root: Plain | undefined;
  /** Values of `MIN_SLICE` characters or more already copied, by content (chunked mode). */
  private readonly interned: Map<string, string> | undefined;

  constructor(
    private s: string,
    private readonly issues: IssueSink,
    private readonly limits: XmlLimits,
    private readonly onItem: ItemHook | undefined,
    copyValues = false,
  ) {
    this.interned = copyValues ? new Map() : undefined;
  }

  /**
   * A value to keep in the plain form. In chunked mode, a value long enough to be a V8 sliced
   * string would keep its whole chunk alive: it is replaced by one flat copy per distinct
   * content (shorter strings are already copies).
   */
  private own(v: string): string {
    const interned = this.interned;
    if (interned === undefined || v.length < MIN_SLICE) return v;
    let c = interned.get(v);
    if (c === undefined) {
      c = JSON.parse(JSON.stringify(v)) as string; // a flat copy, sharing nothing with `v`
      interned.set(c, c);
    }
    return c;
  }

  /** The element path of the current frame, for issues (`vpcs/vpc[vpc-1]/subnets`). */
  private path(extra?: string): string {
    const parts: string[] = [];
    for (let d = 1; d <= this.depth; d++) {
      const id = this.ident[d] ?? '';
      parts.push(id === '' ? this.name[d]! : `${this.name[d]!}[${id}]`);
    }
    if (extra !== undefined) parts.push(extra);
    return this.depth <= 0 ? [ROOT_NAME, ...parts].join('/') : parts.join('/');
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

  private onText(a: number, b: number, cdata: boolean): void {
    const d = this.depth;
    if (d < 0) {
      if (!allWs(this.s, a, b)) {
        throw new Fatal('not-well-formed', 'text outside the root element', a);
      }
      return;
    }
    const k = this.kind[d]!;
    if (k === SCALAR || k === LIST_ITEM) {
      let chunk = this.s.slice(a, b);
      if (!cdata && chunk.indexOf('&') >= 0) {
        const decoded = decodeEntities(chunk);
        if (decoded === undefined) throw this.badReference(a);
        chunk = decoded;
      }
      const prev = this.text[d]!;
      const text = prev === '' ? chunk : prev + chunk;
      if (text.length > this.limits.maxValueLength) {
        throw new Fatal(
          'value-too-large',
          `text of <${this.name[d]!}> is longer than ${this.limits.maxValueLength} characters`,
          a,
        );
      }
      this.text[d] = text;
    } else if (!allWs(this.s, a, b)) {
      // Ignored text must still be well-formed: an undefined entity is refused everywhere.
      if (!cdata && hasAmp(this.s, a, b) && decodeEntities(this.s.slice(a, b)) === undefined) {
        throw this.badReference(a);
      }
      if (k !== SKIP) {
        this.issues.warn(
          this.path(),
          'unexpected-text',
          `text inside <${this.name[d]!}> is ignored`,
        );
      }
    }
  }

  private badReference(pos: number): Fatal {
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
      if (c === 62) return i + 1;
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

  private onAttribute(d: number, attr: string, value: string): void {
    const k = this.kind[d]!;
    if (k === SKIP || attr.startsWith('xmlns') || attr.indexOf(':') >= 0) return;
    if (k === OBJ && this.schema[d]!.attrs.has(attr)) {
      (this.target[d] as Plain)[attr] = value;
      if (attr === 'name' || attr === 'number') this.ident[d] = value;
      return;
    }
    this.issues.warn(
      this.path(`@${attr}`),
      'unknown-attribute',
      `unknown attribute ${attr} on <${this.name[d]!}> ignored`,
    );
  }

  /** Opens the frame of element `name` at depth `d` according to its parent's frame. */
  private push(d: number, name: string, lt: number): void {
    this.name[d] = name;
    this.ident[d] = '';
    this.text[d] = '';
    this.schema[d] = null;
    if (d === 0) {
      if (this.rootDone) throw new Fatal('not-well-formed', 'more than one root element', lt);
      if (name !== ROOT_NAME) {
        throw new Fatal('wrong-root', `root element is <${name}>, expected <${ROOT_NAME}>`, lt);
      }
      this.root = {};
      this.setObj(d, this.root, ROOT);
      return;
    }
    const p = d - 1;
    const pk = this.kind[p]!;
    this.kind[d] = SKIP;
    if (pk === SKIP) return;
    if (name.indexOf(':') >= 0) return; // namespaced extension elements are ignored (§12.2)
    if (pk === OBJ) {
      const spec = this.schema[p]!.children.get(name);
      if (spec !== undefined) this.pushChild(d, name, spec, this.target[p] as Plain);
      else this.unknown(name);
    } else if (pk === WRAP && name === this.item[p]) {
      const o: Plain = {};
      const list = this.target[p] as Plain[];
      this.ident[d] = String(list.length);
      list.push(o);
      this.setObj(d, o, this.schema[p]!);
    } else if (pk === VALUES && name === 'value') {
      this.kind[d] = LIST_ITEM;
      this.target[d] = this.target[p];
    } else {
      this.unknown(name);
    }
  }

  /** Warns about an unknown child; called while `depth` is still the parent's. */
  private unknown(name: string): void {
    this.issues.warn(this.path(name), 'unknown-element', `unknown element <${name}> ignored`);
  }

  private setObj(d: number, o: Plain, schema: ObjSchema): void {
    this.kind[d] = OBJ;
    this.target[d] = o;
    this.schema[d] = schema;
  }

  private pushChild(d: number, name: string, spec: ChildSpec, parent: Plain): void {
    switch (spec.k) {
      case 'scalar':
        if (parent[name] !== undefined) this.duplicate(name);
        this.kind[d] = SCALAR;
        this.target[d] = parent;
        this.key[d] = name;
        return;
      case 'scalarList': {
        let list = parent[name] as string[] | undefined;
        if (list === undefined) parent[name] = list = [];
        this.kind[d] = LIST_ITEM;
        this.target[d] = list;
        return;
      }
      case 'obj': {
        if (parent[name] !== undefined) this.duplicate(name);
        const o: Plain = {};
        parent[name] = o;
        this.setObj(d, o, spec.schema);
        return;
      }
      case 'objList': {
        let list = parent[name] as Plain[] | undefined;
        if (list === undefined) parent[name] = list = [];
        const o: Plain = {};
        this.ident[d] = String(list.length);
        list.push(o);
        this.setObj(d, o, spec.schema);
        return;
      }
      case 'wrapper':
      case 'values': {
        if (parent[name] !== undefined) this.duplicate(name);
        const list: unknown[] = [];
        parent[name] = list;
        this.target[d] = list;
        if (spec.k === 'wrapper') {
          this.kind[d] = WRAP;
          this.item[d] = spec.item;
          this.schema[d] = spec.schema;
        } else {
          this.kind[d] = VALUES;
        }
        return;
      }
      case 'ignore':
        return;
    }
  }

  /** Warns about a repeated child; called while `depth` is still the parent's. */
  private duplicate(name: string): void {
    this.issues.warn(
      this.path(name),
      'duplicate-element',
      `<${name}> appears more than once; the last one wins`,
    );
  }

  private closeFrame(d: number): void {
    const k = this.kind[d]!;
    if (k === OBJ && d === 2 && this.onItem !== undefined && this.kind[1] === WRAP) {
      // A top-level entity is complete: hand it over now so its plain form can be dropped.
      const list = this.target[1] as unknown[];
      const index = list.length - 1;
      list[index] = this.onItem(this.name[1]!, this.target[d] as Plain, index);
    } else if (k === SCALAR) {
      (this.target[d] as Plain)[this.key[d]!] = this.own(this.text[d]!.trim());
    } else if (k === LIST_ITEM) {
      (this.target[d] as string[]).push(this.own(this.text[d]!.trim()));
    }
  }
}

/** Characters XML forbids anywhere in a document (C0 controls except tab, LF, CR; U+FFFE/F). */
const FORBIDDEN_CHARS = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;

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

  constructor(issues: IssueSink, limits: XmlLimits = DEFAULT_XML_LIMITS, onItem?: ItemHook) {
    this.scanner = new Scanner('', issues, limits, onItem, true);
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
