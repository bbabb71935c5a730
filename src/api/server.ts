/**
 * The API server: plain `node:http` over a `TopologyStore`, rooted at `/midonet-api`, on a TCP
 * address (loopback unless remote access is allowed explicitly) or a unix socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { silentLogger, TerminalError, type Logger } from '../common/index.js';
import type { TopologyStore } from '../store/index.js';
import { Authenticator, type AuthConfig } from './auth.js';
import type { ApiRouter, Ctx, Handler, Reply } from './context.js';
import { MT } from './dto.js';
import { addExtensions } from './extensions.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  checkContentType,
  HttpError,
  negotiate,
  parseJson,
  pathSegments,
  readBody,
  Router,
  sendEmpty,
  sendError,
  sendJson,
  vendorType,
  type MediaType,
} from './http.js';
import { addChainResources } from './resources/chains.js';
import { addDeviceResources } from './resources/devices.js';
import { addBgpResources } from './resources/bgp.js';
import { addHostResources } from './resources/hosts.js';
import { addL3Resources } from './resources/l3.js';
import { addRootResources } from './resources/root.js';

/** The root path of the API. */
export const API_ROOT = '/midonet-api';

/** Where the server listens: a TCP address or a unix socket path. */
export type ListenTarget =
  { readonly host: string; readonly port: number } | { readonly path: string };

/** Options of the API server; defaults in brackets. */
export interface ApiServerOptions {
  readonly store: TopologyStore;
  /** Credentials and tokens, or `'none'` to accept every call (local testing only). */
  readonly auth: AuthConfig | 'none';
  readonly listen: ListenTarget;
  /** Accept a non-loopback TCP address [false]. */
  readonly allowRemote?: boolean;
  readonly logger?: Logger;
  /** Largest request body [1 MiB]. */
  readonly bodyLimit?: number;
  /** Largest transaction body [32 MiB]. */
  readonly transactionBodyLimit?: number;
  /** SSE heartbeat interval of the watch endpoint [15000 ms]. */
  readonly heartbeatMs?: number;
  /** Clock for login token expiry [Date.now]. */
  readonly now?: () => number;
}

/** A listening API server. */
export interface RunningApiServer {
  /** Base URI of the API, e.g. `http://127.0.0.1:8181/midonet-api`. */
  readonly url: string;
  /** Set when listening on a unix socket (the URL's host is then nominal). */
  readonly socketPath?: string;
  /** Stops accepting, ends open watch streams and closes every connection. */
  close(): Promise<void>;
}

/** Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` or `unix:/path/to.sock`. */
export function parseListen(spec: string): ListenTarget {
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (path === '') throw new TerminalError('--listen unix: needs a socket path');
    return { path };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    throw new TerminalError(`--listen ${spec}: expected HOST:PORT or unix:/path`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

/** Returns true for a loopback host (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Builds the router with every resource registered. */
export function buildRouter(options: { heartbeatMs?: number } = {}): ApiRouter {
  const router = new Router<Handler>();
  addRootResources(router);
  addDeviceResources(router);
  addChainResources(router);
  addL3Resources(router);
  addHostResources(router);
  addBgpResources(router);
  addExtensions(
    router,
    options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {},
  );
  return router;
}

/** Starts the API server. Refuses a non-loopback address unless `allowRemote`. */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const { listen } = options;
  if ('host' in listen && !isLoopback(listen.host) && !options.allowRemote) {
    throw new TerminalError(
      `refusing to listen on ${listen.host}: not a loopback address (pass --allow-remote to expose the API)`,
    );
  }
  const logger = options.logger ?? silentLogger();
  const auth = options.auth === 'none' ? undefined : new Authenticator(options.auth, options.now);
  const router = buildRouter(
    options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {},
  );
  const stopping = new AbortController();
  const locks = new KeyedMutex();
  const limits = {
    body: options.bodyLimit ?? 1 << 20,
    transaction: options.transactionBodyLimit ?? 32 << 20,
  };
  const server = createServer((req, res) => {
    handle({
      req,
      res,
      router,
      auth,
      store: options.store,
      logger,
      limits,
      stopping: stopping.signal,
      locks,
    }).catch((e: unknown) => {
      logger.error('api request failed', { error: String(e) });
      if (!res.headersSent) sendError(res, new HttpError(500, 'internal error'));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65000;
  if ('path' in listen) rmSync(listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in listen) server.listen(listen.path, done);
    else server.listen(listen.port, listen.host, done);
  });
  const url = baseUrl(server, listen);
  logger.info('api listening', { url, socket_path: 'path' in listen ? listen.path : undefined });
  return {
    url,
    ...('path' in listen ? { socketPath: listen.path } : {}),
    close: () => stop(server, stopping),
  };
}

function baseUrl(server: Server, listen: ListenTarget): string {
  if ('path' in listen) return `http://localhost${API_ROOT}`;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return `http://${host}:${port}${API_ROOT}`;
}

async function stop(server: Server, stopping: AbortController): Promise<void> {
  stopping.abort();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // open watch streams end when `stopping` aborts; anything still open after that is cut
  setImmediate(() => server.closeAllConnections());
  await closed;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly router: ApiRouter;
  readonly auth: Authenticator | undefined;
  readonly store: TopologyStore;
  readonly logger: Logger;
  readonly limits: { readonly body: number; readonly transaction: number };
  readonly stopping: AbortSignal;
  readonly locks: KeyedMutex;
}

/**
 * The request target (origin-form only, `/…`): its path as sent (not normalised: `%2e%2e`
 * must not become `..` and climb a level) and its query; undefined when it is not one.
 */
function requestUrl(
  target: string | undefined,
): { pathname: string; searchParams: URLSearchParams } | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  return { pathname, searchParams: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)) };
}

const HOST_RE = /^[A-Za-z0-9.\-:[\]]{1,255}$/;

async function handle(r: Request): Promise<void> {
  const { req, res } = r;
  const started = performance.now();
  const method = req.method ?? 'GET';
  const url = requestUrl(req.url);
  res.on('finish', () => {
    if (!r.logger.isLevelEnabled('debug')) return;
    r.logger.debug('api request', {
      method,
      path: url?.pathname ?? req.url,
      status: res.statusCode,
      duration_ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
  try {
    if (!url) throw new HttpError(400, `bad request target ${String(req.url)}`);
    const reply = await dispatch(r, url, method);
    if (reply) await send(r, reply);
  } catch (e) {
    const err =
      e instanceof HttpError ? e : new HttpError(500, e instanceof Error ? e.message : String(e));
    if (err.status >= 500)
      r.logger.error('api request error', { method, path: url?.pathname, error: err.message });
    if (res.headersSent) res.destroy();
    else sendError(res, err);
  }
}

async function dispatch(
  r: Request,
  url: { pathname: string; searchParams: URLSearchParams },
  method: string,
): Promise<Reply | undefined> {
  const { req } = r;
  const path = url.pathname;
  if (path !== API_ROOT && !path.startsWith(`${API_ROOT}/`))
    throw new HttpError(404, `no resource at ${path}`);
  const segments = pathSegments(path.slice(API_ROOT.length));
  if (segments.length === 1 && segments[0] === 'login') return login(r, method);
  if (r.auth && !r.auth.check(headerOf(req, 'x-auth-token'))) {
    throw new HttpError(401, 'authentication required: X-Auth-Token missing, unknown or expired', {
      headers: { 'www-authenticate': 'Basic realm="midonet-api"' },
    });
  }
  const match = r.router.match(method, segments);
  if (!match) throw new HttpError(404, `no resource at ${path}`);
  if ('allowed' in match) {
    throw new HttpError(405, `${method} not allowed on ${path}`, {
      headers: { allow: match.allowed.join(', ') },
    });
  }
  const host = headerOf(req, 'host');
  const base = `http://${host !== undefined && HOST_RE.test(host) ? host : 'localhost'}${API_ROOT}`;
  // created on first use only (the watch endpoint): an abort per request would cost a
  // DOMException with a stack trace on every response
  let requestAbort: AbortController | undefined;
  const signal = (): AbortSignal => {
    if (requestAbort) return requestAbort.signal;
    const ac = (requestAbort = new AbortController());
    const abort = (): void => ac.abort();
    if (r.res.closed || r.stopping.aborted) abort();
    r.res.once('close', abort);
    r.stopping.addEventListener('abort', abort, { once: true });
    r.res.once('close', () => r.stopping.removeEventListener('abort', abort));
    return ac.signal;
  };
  const limit = path.endsWith('/eucanetd/transaction') ? r.limits.transaction : r.limits.body;
  const ctx: Ctx = {
    store: r.store,
    logger: r.logger,
    params: match.params,
    query: url.searchParams,
    base,
    get signal() {
      return signal();
    },
    headers: req.headers,
    body: async (mt: MediaType) => {
      const buf = await readBody(req, limit);
      checkContentType(headerOf(req, 'content-type'), mt, buf.length);
      return parseJson(buf);
    },
    exclusive: (key, fn) => r.locks.run(key, fn),
  };
  return match.handler(ctx);
}

async function send(r: Request, reply: Reply): Promise<void> {
  const { req, res } = r;
  if (reply.stream) return reply.stream(res);
  if (reply.body === undefined) return sendEmpty(res, reply.status, reply.headers);
  const mt = reply.media ?? { name: 'Json', version: 1 };
  const type = negotiate(headerOf(req, 'accept'), mt, reply.collection ?? false);
  if (type === undefined) {
    throw new HttpError(
      406,
      `not acceptable: this resource is ${vendorType(mt, reply.collection ?? false)}`,
    );
  }
  sendJson(res, reply.status, reply.body, type, reply.headers);
}

function login(r: Request, method: string): Reply {
  if (method !== 'POST')
    throw new HttpError(405, 'login takes POST', { headers: { allow: 'POST' } });
  const token = r.auth
    ? r.auth.login(headerOf(r.req, 'authorization'))
    : { key: 'no-auth', expires: new Date(Date.now() + 86400000).toISOString() };
  if (!token) {
    throw new HttpError(401, 'invalid credentials', {
      headers: { 'www-authenticate': 'Basic realm="midonet-api"' },
    });
  }
  const cookie = `sessionId=${token.key}; Expires=${new Date(token.expires).toUTCString()}; Path=${API_ROOT}; HttpOnly`;
  return { status: 200, body: token, media: MT.token, headers: { 'set-cookie': cookie } };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}
