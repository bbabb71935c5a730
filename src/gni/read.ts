/**
 * `readGni`: bytes or text in, a typed view and a list of issues out. Detects XML or JSON by
 * the first non-whitespace character after an optional byte-order mark, enforces the size
 * limit, and never throws on input.
 */
import type { GlobalView, GniConfig, ReadResult } from './types.js';
import { BuildContext } from './build-context.js';
import { buildConfig } from './build-config.js';
import { buildItem } from './build-entities.js';
import { DOCUMENT_PATH, IssueSink } from './issues.js';
import { readJson } from './json-normalize.js';
import { checkReferences, type Lookups, type ViewParts } from './references.js';
import { str, type Mutable } from './build-context.js';
import type { Plain } from './schema.js';
import type { LayoutRecorder } from './layout.js';
import { chunkEnd, DEFAULT_XML_LIMITS, scanXml, XmlChunkScanner } from './xml-scanner.js';

/** Options of `readGni`. */
export interface ReadOptions {
  /** Largest accepted document in bytes (default 256 MiB). */
  readonly maxBytes?: number;
  /** Deepest accepted XML element nesting (default 64). */
  readonly maxDepth?: number;
  /** Longest accepted text or attribute value in characters (default 1 MiB). */
  readonly maxValueLength?: number;
}

/** Default `maxBytes`: 256 MiB, five times the largest GNI documents seen (about 50 MB). */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * XML bytes are decoded and scanned in chunks of about this many bytes, so the whole document
 * never exists as one string next to the view being built (see `readXmlChunks`).
 */
export const CHUNK_BYTES = 64 * 1024;

function reject(
  issues: IssueSink,
  bytes: number,
  format: 'xml' | 'json',
  code: string,
  message: string,
): ReadResult {
  issues.error(DOCUMENT_PATH, code, message);
  return { issues: issues.done(), bytes, format };
}

/**
 * Reads a GNI document (XML or its JSON form) into a `GlobalView`. `view` is absent when the
 * document is rejected as a whole; entity-level problems leave it present and list the
 * entities in `view.invalid`. Pure: no I/O, never throws on input.
 */
export function readGni(input: string | Uint8Array, options: ReadOptions = {}): ReadResult {
  return readGniInChunks(input, options, CHUNK_BYTES);
}

/**
 * `readGni` with XML bytes decoded and scanned in chunks of about `chunkBytes` bytes; the
 * result is the same whatever the chunk size (tests use tiny chunks to check that).
 */
export function readGniInChunks(
  input: string | Uint8Array,
  options: ReadOptions,
  chunkBytes: number,
): ReadResult {
  if (typeof input !== 'string' && input.byteLength <= (options.maxBytes ?? DEFAULT_MAX_BYTES)) {
    const chunked = readXmlChunks(input, options, Math.max(1, chunkBytes));
    if (chunked !== undefined) return chunked;
  }
  return readWhole(input, options);
}

/** Decodes strict UTF-8; `undefined` if the bytes are not valid UTF-8. */
export function decode(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined; // TextDecoder throws TypeError on malformed UTF-8
  }
}

/**
 * Reads an XML document from bytes chunk by chunk (each chunk ends after a close tag, see
 * `chunkEnd`), so the peak heap is the view plus one chunk rather than the view plus the whole
 * document string. `undefined` when the bytes are not a usable XML document or a chunk did not
 * scan cleanly (bad UTF-8, a fatal XML problem, a chunk end inside a comment…): `readWhole`
 * then reads the document as before and reports exactly what is wrong.
 */
function readXmlChunks(
  input: Uint8Array,
  options: ReadOptions,
  chunkBytes: number,
): ReadResult | undefined {
  return readXmlChunksWith(input, options, chunkBytes)?.result;
}

/**
 * `readXmlChunks`, also returning the plain root the view was finished from; with `layout`,
 * records where the document's sections and entities lie (see `layout.ts`).
 */
export function readXmlChunksWith(
  input: Uint8Array,
  options: ReadOptions,
  chunkBytes: number,
  layout?: LayoutRecorder,
): { result: ReadResult; root: Plain | undefined; lookups?: Lookups } | undefined {
  const bytes = input.byteLength;
  let end = chunkEnd(input, chunkBytes);
  let text = decode(input.subarray(0, end));
  if (text === undefined) return undefined;
  if (layout !== undefined) layout.ascii &&= text.length === end;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start < text.length && /\s/.test(text[start]!)) start++;
  if (start >= text.length || text.charCodeAt(start) !== 60) return undefined;
  const issues = new IssueSink();
  try {
    const ctx = new BuildContext(issues);
    const onItem = (section: string, item: Plain, index: number): unknown =>
      buildItem(section, item, index, ctx);
    const scanner = new XmlChunkScanner(issues, limitsOf(options), onItem, layout);
    for (;;) {
      const final = end === bytes;
      if (!scanner.feed(text, start, final)) return undefined;
      if (final) break;
      const from = end;
      end = chunkEnd(input, from + chunkBytes);
      text = decode(input.subarray(from, end));
      if (text === undefined) return undefined;
      if (layout !== undefined) {
        layout.base = from;
        layout.ascii &&= text.length === end - from;
      }
      start = 0;
    }
    const plain = scanner.root;
    const view = plain === undefined ? undefined : finishView(plain, ctx);
    const result = resultOf(view, issues, bytes, 'xml');
    return { result, root: plain, ...(ctx.lookups ? { lookups: ctx.lookups } : {}) };
  } catch (e) {
    return { result: internalError(issues, bytes, 'xml', e), root: undefined };
  }
}

/** Reads the whole document as one string (text input, JSON, and anything chunks refuse). */
export function readWhole(input: string | Uint8Array, options: ReadOptions): ReadResult {
  const issues = new IssueSink();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  // string length counts UTF-16 code units: a cheap stand-in that never undercounts ASCII
  const bytes = typeof input === 'string' ? input.length : input.byteLength;
  if (bytes > maxBytes)
    return reject(
      issues,
      bytes,
      'xml',
      'too-large',
      `document is ${bytes} bytes, over the ${maxBytes}-byte limit`,
    );
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch {
      // TextDecoder throws TypeError on malformed UTF-8: that is bad input, reported here.
      return reject(
        issues,
        bytes,
        'xml',
        'invalid-utf8',
        'not a GNI document: the bytes are not valid UTF-8 (binary data?)',
      );
    }
  }
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start < text.length && /\s/.test(text[start]!)) start++;
  if (start >= text.length)
    return reject(issues, bytes, 'xml', 'empty-document', 'the document is empty');
  const first = text.charCodeAt(start);
  const format = first === 123 ? 'json' : 'xml';
  if (first !== 60 && first !== 123) {
    return reject(
      issues,
      bytes,
      format,
      'not-gni',
      'not a GNI document: expected XML ("<") or JSON ("{") at the start',
    );
  }
  try {
    // Entities are built as soon as each one is read, so the plain form never exists whole.
    const ctx = new BuildContext(issues);
    const onItem = (section: string, item: Plain, index: number): unknown =>
      buildItem(section, item, index, ctx);
    const plain =
      format === 'json'
        ? readJson(text.slice(start), issues, onItem)
        : scanXml(text, start, issues, limitsOf(options), onItem);
    if (plain === undefined) return { issues: issues.done(), bytes, format };
    return resultOf(finishView(plain, ctx), issues, bytes, format);
  } catch (e) {
    return internalError(issues, bytes, format, e);
  }
}

/** The result of a read that got as far as building the view (absent: rejected). */
export function resultOf(
  view: GlobalView | undefined,
  issues: IssueSink,
  bytes: number,
  format: 'xml' | 'json',
): ReadResult {
  return view === undefined
    ? { issues: issues.done(), bytes, format }
    : { view, issues: issues.done(), bytes, format };
}

/** Only a bug can get here; report it as a rejection rather than crash the caller. */
function internalError(
  issues: IssueSink,
  bytes: number,
  format: 'xml' | 'json',
  e: unknown,
): ReadResult {
  const detail = e instanceof Error ? e.message : String(e);
  return reject(
    issues,
    bytes,
    format,
    'internal-error',
    `internal error while reading the document: ${detail}`,
  );
}

/** The scanner limits of `options`. */
export function limitsOf(options: ReadOptions): typeof DEFAULT_XML_LIMITS {
  return {
    maxDepth: options.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxValueLength: options.maxValueLength ?? DEFAULT_XML_LIMITS.maxValueLength,
  };
}

/** A section of already-built entities (absent = empty). */
function section<T>(plain: Plain, name: string): T[] {
  const v = plain[name];
  return Array.isArray(v) ? (v as T[]) : [];
}

/** How `finishView` gets the configuration and checks references (an incremental read's). */
export interface FinishHooks {
  /** The configuration, built from `plain` through `ctx` (default `buildConfig`). */
  readonly configuration?: (plain: Plain, ctx: BuildContext) => GniConfig;
  /** The cross-entity checks (default `checkReferences`). */
  readonly check?: (parts: ViewParts, ctx: BuildContext) => void;
}

/**
 * Completes the view from the plain root whose sections already hold built entities: builds
 * the configuration, checks references, cascades invalidity. `undefined` if rejected.
 */
export function finishView(
  plain: Plain,
  ctx: BuildContext,
  hooks: FinishHooks = {},
): GlobalView | undefined {
  const parts: ViewParts = {
    configuration: (hooks.configuration ?? buildConfig)(plain, ctx),
    vpcs: section(plain, 'vpcs'),
    instances: section(plain, 'instances'),
    dhcpOptionSets: section(plain, 'dhcpOptionSets'),
    internetGateways: section(plain, 'internetGateways'),
    securityGroups: section(plain, 'securityGroups'),
  };
  const version = str(plain, 'version');
  const appliedVersion = str(plain, 'applied-version');
  const appliedTime = str(plain, 'applied-time');
  if (version !== undefined && !/^[0-9a-f]{8}$/.test(version)) {
    ctx.warn('network-data/@version', 'unusual-version', 'version is not 8 lower-case hex digits');
  }
  if (ctx.rejected) return undefined;
  if (hooks.check !== undefined) hooks.check(parts, ctx);
  else ctx.lookups = checkReferences(parts, ctx);
  const view: Mutable<GlobalView> = { ...parts, invalid: ctx.invalid };
  if (version !== undefined) view.version = version;
  if (appliedVersion !== undefined) view.appliedVersion = appliedVersion;
  if (appliedTime !== undefined) view.appliedTime = appliedTime;
  return view;
}
