/**
 * HTTP plumbing of the API server: a small method + path router, request bodies with a size
 * limit, media-type negotiation and the MidoNet error shape (`{message, code}`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  ReferenceConflictError,
  ReferencedError,
  RevisionCompactedError,
  StoreError,
} from '../store/index.js';

/** One violation of a validation error, as MidoNet reports it. */
export interface Violation {
  readonly property: string;
  readonly message: string;
}

/** An error with an HTTP status; `error` names the store error class for our client. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: {
      readonly error?: string;
      readonly kind?: string;
      readonly id?: string;
      readonly violations?: readonly Violation[];
      readonly headers?: Readonly<Record<string, string>>;
    } = {},
  ) {
    super(message);
  }
}

/** A 400 carrying a violation list (MidoNet's "Validation error(s) found"). */
export function validationFailed(violations: readonly Violation[]): HttpError {
  const first = violations[0];
  const message = first ? `${first.property}: ${first.message}` : 'Validation error(s) found';
  return new HttpError(400, message, { error: 'InvalidFieldError', violations });
}

/**
 * Maps a store error to an HTTP error. A `NotFoundError` is a 404 when it names `target` (the
 * object the URI addresses) and a 400 otherwise (a reference inside the body).
 */
export function fromStoreError(e: unknown, target?: { kind: string; id: string }): HttpError {
  if (e instanceof HttpError) return e;
  if (!(e instanceof StoreError)) {
    const message = e instanceof Error ? e.message : String(e);
    return new HttpError(500, message, { error: 'InternalError' });
  }
  const base = { error: e.name };
  if (e instanceof NotFoundError) {
    const isTarget = target !== undefined && target.kind === e.kind && target.id === e.id;
    return new HttpError(isTarget ? 404 : 400, e.message, { ...base, kind: e.kind, id: e.id });
  }
  if (e instanceof AlreadyExistsError) {
    return new HttpError(409, e.message, { ...base, kind: e.kind, id: e.id });
  }
  if (
    e instanceof ReferenceConflictError ||
    e instanceof ReferencedError ||
    e instanceof ConcurrentModificationError
  ) {
    return new HttpError(409, e.message, base);
  }
  if (e instanceof InvalidFieldError) return new HttpError(400, e.message, base);
  if (e instanceof RevisionCompactedError) return new HttpError(410, e.message, base);
  return new HttpError(500, e.message, base);
}

/** Error media type (MidoNet `Error-v1`). */
export const ERROR_MEDIA_TYPE = 'application/vnd.org.midonet.Error-v1+json';

/** Writes an error as `{message, code, …}`. */
export function sendError(res: ServerResponse, err: HttpError): void {
  const { error, kind, id, violations, headers } = err.extra;
  const body: Record<string, unknown> = { message: err.message, code: err.status };
  if (error !== undefined) body['error'] = error;
  if (kind !== undefined) body['kind'] = kind;
  if (id !== undefined) body['id'] = id;
  if (violations !== undefined) body['violations'] = violations;
  sendJson(res, err.status, body, ERROR_MEDIA_TYPE, headers);
}

/** Writes a JSON body with a media type. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  mediaType = 'application/json',
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': `${mediaType}; charset=utf-8`,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes an empty response (201 with Location, 204). */
export function sendEmpty(
  res: ServerResponse,
  status: number,
  headers: Readonly<Record<string, string>> = {},
): void {
  res.writeHead(status, { ...headers, 'content-length': 0 });
  res.end();
}

/**
 * Reads a request body up to `limit` bytes. Beyond the limit the rest is drained and discarded
 * (so the client sees the 413 instead of a reset) up to 4x the limit, after which the socket is
 * destroyed.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        if (size > limit * 4) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) reject(new HttpError(413, `request body larger than ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/** Parses a JSON body; 400 on malformed JSON. An empty body is `undefined`. */
export function parseJson(buf: Buffer): unknown {
  if (buf.length === 0) return undefined;
  try {
    return JSON.parse(buf.toString('utf8')) as unknown;
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new HttpError(400, `malformed JSON body: ${detail}`, { error: 'InvalidFieldError' });
  }
}

/** The media-type name of a resource (`Router` in `application/vnd.org.midonet.Router-v3+json`). */
export interface MediaType {
  readonly name: string;
  readonly version: number;
}

const VENDOR_RE = /^application\/vnd\.org\.midonet\.(collection\.)?([A-Za-z0-9]+)-v(\d+)\+json$/;

/** Formats the vendor media type of a resource or collection. */
export function vendorType(mt: MediaType, collection: boolean): string {
  return `application/vnd.org.midonet.${collection ? 'collection.' : ''}${mt.name}-v${mt.version}+json`;
}

/**
 * Negotiates a response media type from an `Accept` header: the vendor type of this resource
 * (any version), plain JSON or a wildcard. Returns undefined when nothing acceptable (406).
 */
export function negotiate(
  accept: string | undefined,
  mt: MediaType,
  collection: boolean,
): string | undefined {
  if (accept === undefined || accept.trim() === '') return vendorType(mt, collection);
  for (const part of accept.split(',')) {
    const type = (part.split(';')[0] ?? '').trim().toLowerCase();
    if (type === '*/*' || type === 'application/*') return vendorType(mt, collection);
    if (type === 'application/json') return 'application/json';
    const m = VENDOR_RE.exec(type);
    if (m && m[2]?.toLowerCase() === mt.name.toLowerCase() && Boolean(m[1]) === collection) {
      return part.split(';')[0]!.trim();
    }
  }
  return undefined;
}

/**
 * Checks the `Content-Type` of a body: plain JSON or this resource's vendor type
 * (`application/vnd.org.midonet.<Name>-v<N>+json`, any version, as MidoNet clients send), else
 * 415. A non-empty body without a content type is 415 too; an empty one needs none.
 */
export function checkContentType(
  contentType: string | undefined,
  mt: MediaType,
  bodyLength: number,
): void {
  if (contentType === undefined || contentType.trim() === '') {
    if (bodyLength === 0) return;
    throw new HttpError(
      415,
      `request body without a content type (expected application/json or ${vendorType(mt, false)})`,
      { error: 'UnsupportedMediaType' },
    );
  }
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/json') return;
  const m = VENDOR_RE.exec(type);
  if (m && !m[1] && m[2]?.toLowerCase() === mt.name.toLowerCase()) return;
  throw new HttpError(
    415,
    `unsupported content type ${type} (expected application/json or ${vendorType(mt, false)})`,
    { error: 'UnsupportedMediaType' },
  );
}

/**
 * Splits a request path (below the API root) into its raw segments, checking each: malformed
 * percent-encoding, and segments that decode to `.`, `..`, or hold `/` or a control character,
 * are a 400 naming the segment. Handlers decode the raw segments they capture.
 */
export function pathSegments(path: string): string[] {
  const segments = path.split('/').filter(Boolean);
  for (const [i, raw] of segments.entries()) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in path segment ${i + 1}: ${raw}`, {
        error: 'BadRequest',
      });
    }
    // eslint-disable-next-line no-control-regex
    if (decoded === '.' || decoded === '..' || /[/\u0000-\u001f\u007f]/.test(decoded)) {
      throw new HttpError(400, `bad path segment ${i + 1}: ${raw}`, { error: 'BadRequest' });
    }
  }
  return segments;
}

/** Path parameters captured by the router. */
export type Params = Readonly<Record<string, string>>;

/** A compiled route: method, segments (`:name` captures one segment). */
interface Route<H> {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: H;
}

/** A method + path router over `/`-separated segments. */
export class Router<H> {
  /** Routes by segment count: a request is only compared with routes of its length. */
  private readonly byLength = new Map<number, Route<H>[]>();

  /** Adds a route, e.g. `add('GET', '/routers/:id/ports', h)`. */
  add(method: string, path: string, handler: H): this {
    const segments = path.split('/').filter(Boolean);
    const list = this.byLength.get(segments.length) ?? [];
    list.push({ method, segments, handler });
    this.byLength.set(segments.length, list);
    return this;
  }

  /**
   * Finds the handler for a method and path. Returns `{allowed}` with the methods the path
   * supports when only the method is wrong (405), or undefined when nothing matches (404).
   */
  match(
    method: string,
    segments: readonly string[],
  ): { handler: H; params: Params } | { allowed: readonly string[] } | undefined {
    const allowed: string[] = [];
    for (const route of this.byLength.get(segments.length) ?? []) {
      if (!matchesStatic(route.segments, segments)) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.segments.forEach((p, i) => {
        if (p.startsWith(':')) params[p.slice(1)] = segments[i]!;
      });
      return { handler: route.handler, params };
    }
    return allowed.length > 0 ? { allowed } : undefined;
  }
}

function matchesStatic(pattern: readonly string[], segments: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.charCodeAt(0) !== 58 /* : */ && p !== segments[i]) return false;
  }
  return true;
}
