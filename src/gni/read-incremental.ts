/**
 * Incremental reading: a new version of an XML document is read against the last one, and
 * only the bytes that changed are scanned. A daemon cycle typically sees one instance added,
 * its node's instance list and the root's version changed, and 16 MB otherwise unchanged.
 *
 * How: the last read keeps its bytes, the layout of its sections and entities (`layout.ts`)
 * and their built form. One scanner walks the new document. For each section, or each entity
 * of a wrapper section, that is byte-equal, with the white space before it, to the same span
 * of the last document, it takes the built form from the last read instead of scanning it.
 * Everything else (the root start tag, changed sections, new or changed entities, the end) is
 * scanned as usual. The cross-entity checks then look at the entities that changed (the ones
 * this read built and the ones of the last read it left out) with lookups kept in the state
 * (`check-incremental.ts`), or run on the whole view as in a full read when that cannot decide.
 *
 * View identity (docs/gni.md, contract C1): a top-level entity or configuration equal to the
 * last view's is that very object; a changed one (placement included) is a new object; no
 * object of a returned view is written afterwards.
 *
 * Why the result equals a full read: a reused span is scanned by a full read in the same
 * context (same section, between entities) from the same bytes, and the last read reported no
 * issue at all; entities are built without shared state (the build context only collects
 * issues and the invalid set). The last read must therefore be clean (no issue, nothing
 * invalid) and ASCII (so characters are bytes); anything unexpected (an issue while scanning,
 * a fragment that does not end where the walk expects, a missing section) makes the caller
 * read the document in full. Pure: no I/O.
 */
import { isDeepStrictEqual } from 'node:util';
import { BuildContext } from './build-context.js';
import { buildConfig } from './build-config.js';
import { buildItem } from './build-entities.js';
import {
  buildCheckState,
  checkIncremental,
  CheckStateHolder,
  type CheckState,
  type ViewDelta,
} from './check-incremental.js';
import { IssueSink } from './issues.js';
import { LayoutRecorder, type DocLayout, type SectionLayout } from './layout.js';
import {
  asciiText,
  bytesAt,
  commonPrefix,
  commonSuffix,
  CONFIG,
  listsOf,
  moved,
  NODE_ID,
  NODE_LIST,
  shifted,
  withPath,
} from './read-bytes.js';
import {
  CHUNK_BYTES,
  DEFAULT_MAX_BYTES,
  finishView,
  limitsOf,
  readWhole,
  readXmlChunksWith,
  resultOf,
  type ReadOptions,
} from './read.js';
import { checkReferences, type Lookups, type ViewParts } from './references.js';
import { ROOT, ROOT_NAME, type Plain } from './schema.js';
import type { GniConfig, ReadResult } from './types.js';
import { Scanner } from './xml-builder.js';
import { FORBIDDEN_CHARS } from './xml-scanner.js';
import { Fatal } from './xml-text.js';
import { isWs, type XmlLimits } from './xml-tokenizer.js';

/** What an incremental read needs from the last read (kept by the caller between reads). */
export interface GniReadState {
  readonly bytes: Uint8Array;
  readonly layout: DocLayout;
  /** The plain root the view was finished from; its sections hold the built entities. */
  readonly root: Plain;
  readonly maxBytes: number;
  readonly limits: XmlLimits;
  /** The view's configuration (an unchanged one is passed on as the same object). */
  readonly configuration: GniConfig;
  /** The lookups of the incremental checks, once built (see `check-incremental.ts`). */
  readonly checks: CheckStateHolder;
}

/** A read plus the state for the next one. */
export interface StatefulRead {
  readonly result: ReadResult;
  /** Absent when the document cannot serve as a base (issues, not ASCII, not XML…). */
  readonly state: GniReadState | undefined;
  /** Whether unchanged spans were taken from `previous` rather than scanned. */
  readonly incremental: boolean;
  /** How many bytes were scanned (all of them unless `incremental`). */
  readonly scanned: number;
  /** Whether the cross-entity checks looked only at what changed (see `check-incremental.ts`);
   * false when they ran on the whole view. */
  readonly checkedIncrementally: boolean;
}

/** Entities compared ahead of the walk's position to recognize removed ones. */
const LOOKAHEAD = 8;

/**
 * Reads a GNI document like `readGni`; with `previous` (the state of the last read), scans
 * only what changed since (see the module comment). The result is the same either way.
 */
export function readGniWithState(
  input: Uint8Array,
  options: ReadOptions = {},
  previous?: GniReadState,
): StatefulRead {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const limits = limitsOf(options);
  if (input.byteLength > maxBytes) {
    const result = readWhole(input, options);
    return {
      result,
      state: undefined,
      incremental: false,
      scanned: 0,
      checkedIncrementally: false,
    };
  }
  if (
    previous !== undefined &&
    previous.maxBytes === maxBytes &&
    previous.limits.maxDepth === limits.maxDepth &&
    previous.limits.maxValueLength === limits.maxValueLength
  ) {
    const read = new IncrementalRead(input, previous).read();
    if (read !== undefined) return { ...read, incremental: true };
  }
  const recorder = new LayoutRecorder();
  const full = readXmlChunksWith(input, options, CHUNK_BYTES, recorder);
  const scanned = input.byteLength;
  if (full === undefined) {
    const result = readWhole(input, options);
    return { result, state: undefined, incremental: false, scanned, checkedIncrementally: false };
  }
  const layout = recorder.layout();
  const { result, root, lookups } = full;
  const state = stateOf(input, result, root, layout, maxBytes, limits, undefined, lookups);
  return { result, state, incremental: false, scanned, checkedIncrementally: false };
}

/** The state a clean read leaves for the next one (none after issues or without a layout). */
function stateOf(
  bytes: Uint8Array,
  result: ReadResult,
  root: Plain | undefined,
  layout: DocLayout | undefined,
  maxBytes: number,
  limits: XmlLimits,
  checks: CheckState | undefined,
  lookups?: Lookups,
): GniReadState | undefined {
  const view = result.view;
  if (view === undefined || root === undefined || layout === undefined) return undefined;
  if (result.issues.length > 0 || view.invalid.size > 0) return undefined;
  const configuration = view.configuration;
  // built now rather than by the next read, whose time it is meant to save; from the lookups
  // of the whole-view check that found this view clean, when there was one
  checks ??= buildCheckState(viewParts({ root, configuration }), lookups);
  return {
    bytes,
    layout,
    root,
    maxBytes,
    limits,
    configuration,
    checks: new CheckStateHolder(checks),
  };
}

/** The walk over a new document; `undefined` from `read` means "read it in full". */
class IncrementalRead {
  private readonly issues = new IssueSink();
  private readonly ctx = new BuildContext(this.issues);
  private readonly recorder = new LayoutRecorder();
  private readonly scanner: Scanner;
  private readonly o: Buffer;
  private readonly n: Buffer;
  /** Entities built by this read and entities of the last read left out, by section. */
  private readonly added = new Map<string, unknown[]>();
  private readonly removed = new Map<string, unknown[]>();
  private configReused = false;

  constructor(
    private readonly input: Uint8Array,
    private readonly prev: GniReadState,
  ) {
    this.o = Buffer.from(prev.bytes.buffer, prev.bytes.byteOffset, prev.bytes.byteLength);
    this.n = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const ctx = this.ctx;
    const added = this.added;
    this.scanner = new Scanner(
      '',
      this.issues,
      prev.limits,
      (section: string, item: Plain, index: number): unknown => {
        const entity = buildItem(section, item, index, ctx);
        push(added, section, [entity]);
        return entity;
      },
      true,
      this.recorder,
    );
  }

  /** Bytes scanned so far. */
  private scanned = 0;

  read(): Omit<StatefulRead, 'incremental'> | undefined {
    const { layout, root: oldRoot } = this.prev;
    const scanner = this.scanner;
    let pos = this.same(0, 0, layout.rootOpenEnd) ? layout.rootOpenEnd : this.rootOpenEnd();
    if (pos < 0 || !this.scan(0, pos, false) || scanner.level !== 0) return undefined;
    let oldEnd = layout.rootOpenEnd; // where the last section of the old document ended
    let spliced: number;
    for (const s of layout.sections) {
      const len = s.end - oldEnd;
      if (this.same(oldEnd, pos, len)) {
        const value = reuseSection(oldRoot[s.name]);
        if (!scanner.injectSection(s.name, value, shifted(s, pos - oldEnd))) return undefined;
        if (s.name === CONFIG) {
          this.configReused = true;
          for (const l of listsOf(layout, s)) this.recorder.lists.push(moved(l, pos - oldEnd));
        }
        pos += len;
      } else if (s.name === CONFIG && (spliced = this.spliceConfig(s, oldEnd, pos)) >= 0) {
        pos = spliced;
      } else if (s.itemEnds !== undefined) {
        pos = this.walkWrapper(s, oldEnd, pos, oldRoot[s.name]);
        if (pos < 0) return undefined;
      } else {
        const old = oldRoot[s.name];
        if (Array.isArray(old)) push(this.removed, s.name, old);
        const close = this.n.indexOf(`</${s.name}>`, pos, 'latin1');
        if (close < 0) return undefined;
        const end = close + s.name.length + 3;
        if (!this.scan(pos, end, false) || scanner.level !== 0) return undefined;
        pos = end;
      }
      oldEnd = s.end;
    }
    if (!this.scan(pos, this.n.length, true)) return undefined;
    const root = scanner.root;
    if (root === undefined) return undefined;
    let checks: CheckState | undefined;
    const view = finishView(root, this.ctx, {
      configuration: (plain, ctx) => this.configuration(plain, ctx),
      check: (parts, ctx) => {
        checks = this.check(parts, ctx);
      },
    });
    if (view !== undefined) this.keepUnchanged(root);
    const result = resultOf(view, this.issues, this.input.byteLength, 'xml');
    const { maxBytes, limits } = this.prev;
    const recorded = this.recorder.layout();
    const state = stateOf(this.input, result, root, recorded, maxBytes, limits, checks);
    const checkedIncrementally = checks !== undefined;
    return { result, state, scanned: this.scanned, checkedIncrementally };
  }

  /** The configuration: the last view's object when its section was reused or it built equal. */
  private configuration(plain: Plain, ctx: BuildContext): GniConfig {
    const last = this.prev.configuration;
    if (this.configReused) return last; // same bytes, and the last read built them cleanly
    const built = buildConfig(plain, ctx);
    return isDeepStrictEqual(built, last) ? last : built;
  }

  /**
   * The cross-entity checks: incremental when the read is clean so far, else (or when the
   * incremental checks find anything) `checkReferences` on the whole view. Returns the
   * updated lookups after a clean incremental check.
   */
  private check(parts: ViewParts, ctx: BuildContext): CheckState | undefined {
    if (this.issues.list.length === 0 && !ctx.rejected) {
      const s = this.prev.checks.take() ?? buildCheckState(viewParts(this.prev));
      const delta: ViewDelta = { added: this.added, removed: this.removed };
      const changed = parts.configuration !== this.prev.configuration;
      if (s !== undefined && checkIncremental(s, parts, delta, changed)) return s;
    }
    checkReferences(parts, ctx);
    return undefined;
  }

  /**
   * Puts back the last view's object for each rebuilt entity that came out equal to it (same
   * section and id, placement included), so that unchanged entities keep their identity
   * (docs/gni.md, "View identity").
   */
  private keepUnchanged(root: Plain): void {
    for (const [section, added] of this.added) {
      const removed = this.removed.get(section);
      const items = root[section];
      if (removed === undefined || !Array.isArray(items)) continue;
      const byId = new Map<unknown, unknown>();
      for (const old of removed) byId.set(idOf(old), old);
      const swap = new Map<unknown, unknown>();
      for (const entity of added) {
        const old = byId.get(idOf(entity));
        if (old !== undefined && isDeepStrictEqual(old, entity)) swap.set(entity, old);
      }
      if (swap.size === 0) continue;
      for (let i = 0; i < items.length; i++) {
        const old = swap.get(items[i]);
        if (old !== undefined) items[i] = old;
      }
    }
  }

  /**
   * Walks the changed wrapper section `s` (its old span starts at `oldStart`, its new one at
   * `pos`): byte-equal entities are taken from `items`, the rest is scanned. Returns where the
   * section ends in the new document, or -1.
   */
  private walkWrapper(s: SectionLayout, oldStart: number, pos: number, items: unknown): number {
    const ends = s.itemEnds!;
    const spec = ROOT.children.get(s.name);
    if (spec?.k !== 'wrapper' || !Array.isArray(items) || items.length !== ends.length) return -1;
    const head = s.openEnd - oldStart; // white space and start tag
    if (!this.same(oldStart, pos, head) || !this.scan(pos, pos + head, false)) return -1;
    if (!this.scanner.inWrapper(s.name)) return -1;
    pos += head;
    const endTag = `</${spec.item}>`;
    for (let k = 0; ;) {
      if (k < ends.length) {
        const from = k === 0 ? s.openEnd : ends[k - 1]!;
        const len = ends[k]! - from;
        if (this.same(from, pos, len)) {
          // take the run of byte-equal entities that starts here, found by doubling steps
          let m = k + 1; // entities k..m-1 are equal
          for (let step = 1; m < ends.length;) {
            const to = Math.min(ends.length, m + step);
            const a = ends[m - 1]!;
            if (this.same(a, pos + (a - from), ends[to - 1]! - a)) {
              m = to;
              step *= 2;
            } else if (step > 1) step = 1;
            else break;
          }
          if (!this.scanner.injectItems(items, k, m, ends, pos - from)) return -1;
          pos += ends[m - 1]! - from;
          k = m;
          continue;
        }
        let j = k + 1;
        const last = Math.min(ends.length, k + 1 + LOOKAHEAD);
        while (j < last && !this.same(ends[j - 1]!, pos, ends[j]! - ends[j - 1]!)) j++;
        if (j < last) {
          push(this.removed, s.name, items.slice(k, j)); // entities k..j-1 were removed
          k = j;
          continue;
        }
      }
      let lt = pos;
      while (lt < this.n.length && isWs(this.n[lt]!)) lt++;
      if (bytesAt(this.n, lt, `</${s.name}`)) {
        push(this.removed, s.name, items.slice(k));
        const gt = this.n.indexOf(62, lt);
        if (gt < 0 || !this.scan(pos, gt + 1, false) || this.scanner.level !== 0) return -1;
        return gt + 1;
      }
      // New or changed entities: scan up to the next entity end tag, and on while that one
      // was an inner element of the same name (a NAT gateway's <vpc> inside a <vpc>).
      do {
        const close = this.n.indexOf(endTag, pos, 'latin1');
        if (close < 0) return -1;
        const end = close + endTag.length;
        if (!this.scan(pos, end, false) || this.scanner.level < 1) return -1;
        pos = end;
      } while (!this.scanner.inWrapper(s.name));
    }
  }

  /**
   * The changed configuration section `s` (old span from `oldStart`, new one from `pos`) when
   * only one node's instance list changed: that list is read from the new bytes and the rest
   * of the section taken from the last read. Returns where the section ends in the new
   * document (the section and its layout set), or -1 (nothing done: then it is scanned).
   */
  private spliceConfig(s: SectionLayout, oldStart: number, pos: number): number {
    const close = this.n.indexOf(`</${CONFIG}>`, pos, 'latin1');
    if (close < 0) return -1;
    const end = close + CONFIG.length + 3;
    const oldLen = s.end - oldStart;
    const newLen = end - pos;
    const p = commonPrefix(this.o, oldStart, this.n, pos, Math.min(oldLen, newLen));
    const q = commonSuffix(this.o, s.end, this.n, end, Math.min(oldLen, newLen) - p);
    const lists = listsOf(this.prev.layout, s);
    const k = lists.findIndex((l) => l.start - oldStart <= p && s.end - l.end <= q);
    const l = lists[k];
    if (l === undefined) return -1;
    const a = pos + (l.start - oldStart);
    const b = end - (s.end - l.end);
    const text = a < b ? asciiText(this.input, a, b) : undefined;
    if (text === undefined || !NODE_LIST.test(text)) return -1;
    const ids = [...text.matchAll(NODE_ID)].map((m) => m[1]!);
    const conf = withPath(this.prev.root[CONFIG], l.path.slice(1), ids);
    if (conf === undefined) return -1;
    const shift = pos - oldStart;
    const layout = { ...shifted(s, shift), end };
    if (!this.scanner.injectSection(CONFIG, conf, layout)) return -1;
    lists.forEach((x, i) => {
      if (i < k) this.recorder.lists.push(moved(x, shift));
      else if (i > k) this.recorder.lists.push(moved(x, shift + newLen - oldLen));
      else this.recorder.lists.push({ start: a, end: b, path: x.path });
    });
    this.scanned += b - a;
    return end;
  }

  /** Scans the new document's bytes `[a, b)`; false on anything but a clean scan. */
  private scan(a: number, b: number, final: boolean): boolean {
    const text = asciiText(this.input, a, b);
    if (text === undefined || FORBIDDEN_CHARS.test(text)) return false;
    this.scanned += b - a;
    this.recorder.base = a;
    try {
      this.scanner.run(text, 0, final);
    } catch (e) {
      if (e instanceof Fatal) return false;
      throw e; // a bug, not bad input
    }
    return this.issues.list.length === 0;
  }

  /** Whether the old bytes `[oa, oa + len)` equal the new bytes `[na, na + len)`. */
  private same(oa: number, na: number, len: number): boolean {
    if (len <= 0 || oa + len > this.o.length || na + len > this.n.length) return false;
    return this.o.compare(this.n, na, na + len, oa, oa + len) === 0;
  }

  /** Just after the root start tag of the new document, or -1. */
  private rootOpenEnd(): number {
    const n = this.n;
    const lt = n.indexOf(`<${ROOT_NAME}`, 0, 'latin1');
    if (lt < 0) return -1;
    let quote = 0;
    const limit = Math.min(n.length, lt + 65536);
    for (let i = lt; i < limit; i++) {
      const c = n[i]!;
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 34 || c === 39) quote = c;
      else if (c === 62) return i + 1;
    }
    return -1;
  }
}

/** Appends `items` to `map`'s list for `key`. */
function push(map: Map<string, unknown[]>, key: string, items: readonly unknown[]): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [...items]);
  else for (const x of items) list.push(x);
}

/** The id of a built entity (every top-level entity has one). */
function idOf(entity: unknown): unknown {
  return (entity as { id?: unknown }).id;
}

/** A read's view as the checks see it (its sections from the plain root). */
function viewParts(prev: Pick<GniReadState, 'root' | 'configuration'>): ViewParts {
  const section = <T>(name: string): T[] => {
    const v = prev.root[name];
    return Array.isArray(v) ? (v as T[]) : [];
  };
  return {
    configuration: prev.configuration,
    vpcs: section('vpcs'),
    instances: section('instances'),
    dhcpOptionSets: section('dhcpOptionSets'),
    internetGateways: section('internetGateways'),
    securityGroups: section('securityGroups'),
  };
}

/** A section's built form for a new root: wrapper lists copied (the entities are shared),
 * anything else shared (nothing changes a built section afterwards). Reused instances keep
 * the placement (node, cluster) of the last read: the checks replace one whose placement
 * changed by a copy (never writing the shared object), so the result is the full read's
 * without a copy of every instance per read. */
function reuseSection(value: unknown): unknown {
  return Array.isArray(value) ? [...value] : value;
}
