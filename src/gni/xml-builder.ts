/**
 * The tree layer of the XML scanner: the concrete `Scanner`, which fills in the tokenizer's
 * hooks by keeping a small stack of frames (one per open element, pooled by depth) and writing
 * each element straight into its plain (§15) object according to `schema.ts`. Unknown
 * elements, attributes and stray text are read past with a warning; only the text of kept
 * values is decoded and capped in size.
 */
import type { IssueSink } from './issues.js';
import { ROOT, ROOT_NAME, type ChildSpec, type ObjSchema, type Plain } from './schema.js';
import type { LayoutRecorder, SectionLayout } from './layout.js';
import { XmlTokenizer, type XmlLimits } from './xml-tokenizer.js';
import { decodeEntities, Fatal } from './xml-text.js';

/**
 * Called when a top-level entity (`vpcs/vpc`, `instances/instance`, …) is complete, with the
 * section name, its plain form and its index; the return value replaces it in the section.
 */
export type ItemHook = (section: string, item: Plain, index: number) => unknown;

// allWs and hasAmp run once per text node. They live here rather than in a shared module:
// when the sources are transformed to CommonJS (tsx under mocha), every call into another
// module goes through an export getter, which measurably slowed large documents.

/** Whether `s[a, b)` is all white space. */
function allWs(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Whether `s[a, b)` contains an `&`. */
function hasAmp(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) if (s.charCodeAt(i) === 38) return true;
  return false;
}

/** Frame kinds. */
const CONFIG = 'configuration';
const OBJ = 0; // an object element: children by schema
const SCALAR = 1; // a leaf assigned to target[key]
const LIST_ITEM = 2; // a leaf pushed onto target (an array)
const WRAP = 3; // a wrapper: `item` children become objects pushed onto target
const VALUES = 4; // a wrapper of `value` leaves pushed onto target
const SKIP = 5; // unknown or ignored: read past

/**
 * Scanner state; one instance per document. The text can be scanned in chunks (`run` once per
 * chunk, each ending at a token boundary); `copyValues` makes the kept values share no memory
 * with the chunks.
 */
export class Scanner extends XmlTokenizer {
  private readonly kind: number[] = [];
  private readonly schema: (ObjSchema | null)[] = [];
  private readonly target: unknown[] = [];
  private readonly key: string[] = [];
  private readonly text: string[] = [];
  private readonly ident: string[] = [];
  private readonly item: string[] = [];
  root: Plain | undefined;

  constructor(
    s: string,
    issues: IssueSink,
    limits: XmlLimits,
    private readonly onItem: ItemHook | undefined,
    copyValues = false,
    private readonly layout?: LayoutRecorder,
  ) {
    super(s, issues, limits, copyValues);
    this.marking = layout !== undefined;
  }

  /** Depth of the innermost open element (-1 outside the root). */
  get level(): number {
    return this.depth;
  }

  /** Whether the scan is inside the wrapper section `name`, between its entities. */
  inWrapper(name: string): boolean {
    return this.depth === 1 && this.name[1] === name && this.kind[1] === WRAP;
  }

  /**
   * Appends entities `entities[from..to)` built from an earlier scan of the same bytes to the
   * open wrapper section, as if they had been scanned (entity i ends at `ends[i] + shift` in
   * the document). False if the scan is not between the entities of a wrapper.
   */
  injectItems(
    entities: readonly unknown[],
    from: number,
    to: number,
    ends: readonly number[],
    shift: number,
  ): boolean {
    if (this.depth !== 1 || this.kind[1] !== WRAP) return false;
    const list = this.target[1] as unknown[];
    for (let i = from; i < to; i++) list.push(entities[i]);
    this.layout?.itemEndsAt(ends, from, to, shift);
    return true;
  }

  /**
   * Sets a whole section of the root from an earlier scan of the same bytes (`value`: its
   * plain form, entities built), as if it had been scanned. False if the scan is not between
   * the root's sections, the root has no such section, or it already has one (a repeated
   * section must be scanned, for its warning).
   */
  injectSection(name: string, value: unknown, section: SectionLayout): boolean {
    const root = this.root;
    if (this.depth !== 0 || root === undefined || root[name] !== undefined) return false;
    if (!ROOT.children.has(name)) return false;
    root[name] = value as Plain[keyof Plain];
    this.layout?.addSection(section);
    return true;
  }

  protected override markOpen(d: number, end: number): void {
    if (d <= 1) this.layout!.openEnd(d, end);
  }

  protected override markClose(d: number, end: number): void {
    if (d === 1) this.layout!.sectionEnd(end);
    else if (d === 2 && this.kind[1] === WRAP && this.kind[2] === OBJ) this.layout!.itemEnd(end);
    else if (d > 2 && this.isNodeList(d)) this.layout!.listEnd(end);
  }

  /** Whether the frame at `d` is a node's `instanceIds` in the configuration. */
  private isNodeList(d: number): boolean {
    return this.kind[d] === VALUES && this.name[d] === 'instanceIds' && this.name[1] === CONFIG;
  }

  /** Records where a node's `instanceIds` starts (`lt`) and its path in the plain root. */
  private markNodeList(d: number, lt: number): void {
    const path: (string | number)[] = [CONFIG];
    for (let k = 2; k <= d; k++) {
      if (this.kind[k - 1] !== OBJ) return;
      const key = this.name[k]!;
      const v = (this.target[k - 1] as Plain)[key];
      path.push(key);
      if (k === d) break;
      if (Array.isArray(v)) {
        if (v[v.length - 1] !== this.target[k]) return;
        path.push(v.length - 1);
      } else if (v !== this.target[k]) return;
    }
    this.layout!.listStart(lt, path);
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

  protected override onText(a: number, b: number, cdata: boolean): void {
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

  protected override onAttribute(d: number, attr: string, value: string): void {
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

  protected override push(d: number, name: string, lt: number): void {
    this.pushFrame(d, name, lt);
    if (this.layout === undefined) return;
    if (d === 1) this.layout.sectionStart(name, lt, this.kind[1] === WRAP);
    else if (d > 2 && this.isNodeList(d)) this.markNodeList(d, lt);
  }

  /** Opens the frame of element `name` at depth `d` according to its parent's frame. */
  private pushFrame(d: number, name: string, lt: number): void {
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

  protected override closeFrame(d: number): void {
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
