/**
 * The API client: a `TopologyStore` over HTTP (axios with a keep-alive agent, p-retry with
 * exponential backoff on connection errors, timeouts and 5xx, never on 4xx). HTTP errors are
 * mapped back to the store error classes, so callers (the reconciler, the datapath agent)
 * behave the same as over an embedded store. `watch` consumes the server-sent event stream and
 * resumes from the last revision it saw after a dropped connection.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse, type Method } from 'axios';
import pRetry, { AbortError } from 'p-retry';
import { TerminalError, silentLogger, type Logger } from '../common/index.js';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  ReferenceConflictError,
  ReferencedError,
  RevisionCompactedError,
  StoreError,
  StoreUnavailableError,
  type ChangeEvent,
  type CommitResult,
  type Kind,
  type ListFilter,
  type ObjectOf,
  type Op,
  type TopologyStore,
} from '../store/index.js';
import { parseSse } from './sse.js';

/** Options of `createApiClient`; defaults in brackets. */
export interface ApiClientOptions {
  /** `http://host:port` (the `/midonet-api` root is added when missing) or `unix:/path.sock`. */
  readonly url: string;
  /** A static or login token. */
  readonly token?: string;
  /** A token file: the server's JSON format (first token, else first user logs in) or a bare token. */
  readonly tokenFile?: string;
  /** Per-request timeout [10000 ms]. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt [4]. */
  readonly retries?: number;
  /** First backoff [100 ms]; doubles up to `maxBackoffMs` [2000 ms]. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Unix socket to connect through (the URL's host is then nominal). */
  readonly socketPath?: string;
  /** Keep-alive sockets per client [32]. */
  readonly maxSockets?: number;
  readonly logger?: Logger;
}

type Credentials =
  { readonly token: string } | { readonly name: string; readonly password: string } | undefined;

function readCredentials(options: ApiClientOptions): Credentials {
  if (options.token !== undefined) return { token: options.token };
  if (options.tokenFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(options.tokenFile, 'utf8').trim();
  } catch (e) {
    throw new TerminalError(`cannot read token file ${options.tokenFile}`, { cause: e });
  }
  if (!text.startsWith('{')) return { token: text };
  const o = JSON.parse(text) as { tokens?: unknown; users?: unknown };
  const token = Array.isArray(o.tokens) ? o.tokens[0] : undefined;
  if (typeof token === 'string') return { token };
  const user = (Array.isArray(o.users) ? o.users[0] : undefined) as
    { name?: unknown; password?: unknown } | undefined;
  if (typeof user?.name === 'string' && typeof user.password === 'string') {
    return { name: user.name, password: user.password };
  }
  throw new TerminalError(`token file ${options.tokenFile}: no token and no user`);
}

function baseOf(options: ApiClientOptions): { baseURL: string; socketPath?: string } {
  let url = options.url;
  let socketPath = options.socketPath;
  if (url.startsWith('unix:')) {
    socketPath = url.slice(5);
    url = 'http://localhost';
  }
  url = url.replace(/\/+$/, '');
  if (!url.endsWith('/midonet-api')) url += '/midonet-api';
  return socketPath !== undefined ? { baseURL: url, socketPath } : { baseURL: url };
}

interface ErrorBody {
  readonly message?: string;
  readonly error?: string;
  readonly kind?: string;
  readonly id?: string;
}

/** Rebuilds the store error a server response stands for. */
export function storeErrorFromResponse(status: number, data: unknown): StoreError {
  const body = (typeof data === 'object' && data !== null ? data : {}) as ErrorBody;
  const message = body.message ?? `HTTP ${status}`;
  const kind = body.kind as Kind;
  switch (body.error) {
    case 'NotFoundError':
      return new NotFoundError(kind, body.id ?? '', message);
    case 'AlreadyExistsError':
      return body.kind !== undefined && body.id !== undefined
        ? new AlreadyExistsError(kind, body.id)
        : new ReferenceConflictError(message);
    case 'ReferenceConflictError':
      return new ReferenceConflictError(message);
    case 'ReferencedError':
      return new ReferencedError(message);
    case 'ConcurrentModificationError':
      return new ConcurrentModificationError(message);
    case 'InvalidFieldError':
      return new InvalidFieldError(message);
    case 'RevisionCompactedError':
      return new RevisionCompactedError(message);
  }
  if (status === 410) return new RevisionCompactedError(message);
  if (status === 400) return new InvalidFieldError(message);
  if (status >= 500) return new StoreUnavailableError(`API server error ${status}: ${message}`);
  return new StoreError(`API refused the request (${status}): ${message}`);
}

/** Connection errors, timeouts and 5xx are retried; this marks them. */
class Retryable extends Error {
  constructor(readonly storeError: StoreError) {
    super(storeError.message);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A `TopologyStore` backed by a remote eucanetd API. */
class ApiClient implements TopologyStore {
  private readonly http: AxiosInstance;
  private readonly agent: Agent;
  private readonly credentials: Credentials;
  private readonly watches = new Set<AbortController>();
  private token: string | undefined;
  private closed = false;
  private readonly retries: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly logger: Logger;

  constructor(options: ApiClientOptions) {
    this.credentials = readCredentials(options);
    if (this.credentials && 'token' in this.credentials) this.token = this.credentials.token;
    this.retries = options.retries ?? 4;
    this.minBackoff = options.minBackoffMs ?? 100;
    this.maxBackoff = options.maxBackoffMs ?? 2000;
    this.logger = options.logger ?? silentLogger();
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 });
    this.http = axios.create({
      ...baseOf(options),
      timeout: options.timeoutMs ?? 10000,
      httpAgent: this.agent,
      proxy: false,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      validateStatus: () => true,
    });
  }

  async get<K extends Kind>(kind: K, id: string): Promise<ObjectOf<K> | undefined> {
    try {
      return await this.call<ObjectOf<K>>(
        'GET',
        `/eucanetd/objects/${kind}/${encodeURIComponent(id)}`,
      );
    } catch (e) {
      if (e instanceof NotFoundError && e.kind === kind && e.id === id) return undefined;
      throw e;
    }
  }

  async getByName<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K> | undefined> {
    const list = await this.call<ObjectOf<K>[]>('GET', `/eucanetd/objects/${kind}`, undefined, {
      name,
    });
    return list[0];
  }

  async list<K extends Kind>(kind: K, filter?: ListFilter): Promise<readonly ObjectOf<K>[]> {
    const params =
      filter && Object.keys(filter).length > 0 ? { filter: JSON.stringify(filter) } : undefined;
    return this.call<ObjectOf<K>[]>('GET', `/eucanetd/objects/${kind}`, undefined, params);
  }

  async revision(): Promise<number> {
    return (await this.call<{ revision: number }>('GET', '/eucanetd/revision')).revision;
  }

  async transaction(ops: readonly Op[]): Promise<CommitResult> {
    // one request id for every attempt: a retry of a commit that did land returns its result
    const headers = { 'x-request-id': randomUUID() };
    return this.call<CommitResult>('POST', '/eucanetd/transaction', { ops }, undefined, headers);
  }

  watch(fromRevision: number, signal?: AbortSignal): AsyncIterable<ChangeEvent> {
    return this.watchStream(fromRevision, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.watches) w.abort();
    this.agent.destroy();
  }

  /** One API call with retries; returns the JSON body or throws a store error. */
  private async call<T>(
    method: Method,
    url: string,
    data?: unknown,
    params?: Readonly<Record<string, string>>,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<T> {
    if (this.closed) throw new StoreError(`${method} ${url}: the API client is closed`);
    let relogged = false;
    const attempt = async (): Promise<T> => {
      if (this.token === undefined && this.credentials && 'name' in this.credentials)
        await this.login();
      const res = await this.send(() =>
        this.http.request({
          method,
          url,
          data,
          params,
          headers: { ...headers, ...this.authHeader() },
        }),
      );
      if (res.status === 401 && !relogged && this.credentials && 'name' in this.credentials) {
        relogged = true;
        this.token = undefined;
        return attempt();
      }
      if (res.status >= 500) throw new Retryable(storeErrorFromResponse(res.status, res.data));
      if (res.status >= 400) throw new AbortError(storeErrorFromResponse(res.status, res.data));
      return deepFreeze(res.data) as T;
    };
    return this.retrying(attempt);
  }

  private retrying<T>(fn: () => Promise<T>): Promise<T> {
    return pRetry(fn, {
      retries: this.retries,
      factor: 2,
      minTimeout: this.minBackoff,
      maxTimeout: this.maxBackoff,
      randomize: true,
      onFailedAttempt: ({ error, attemptNumber }) => {
        this.logger.debug('api call failed', { attempt: attemptNumber, error: error.message });
      },
    }).catch((e: unknown) => {
      throw e instanceof Retryable ? e.storeError : e;
    });
  }

  /** Sends a request; connection errors and timeouts become retryable unavailability. */
  private async send(request: () => Promise<AxiosResponse>): Promise<AxiosResponse> {
    try {
      return await request();
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      throw new Retryable(new StoreUnavailableError(`API unreachable: ${detail}`, { cause: e }));
    }
  }

  private authHeader(): Record<string, string> {
    return this.token === undefined ? {} : { 'x-auth-token': this.token };
  }

  private async login(): Promise<void> {
    const c = this.credentials as { name: string; password: string };
    const res = await this.send(() =>
      this.http.post('/login', undefined, { auth: { username: c.name, password: c.password } }),
    );
    if (res.status >= 500) throw new Retryable(storeErrorFromResponse(res.status, res.data));
    const key = (res.data as { key?: unknown } | undefined)?.key;
    if (res.status !== 200 || typeof key !== 'string') {
      throw new AbortError(storeErrorFromResponse(res.status, res.data));
    }
    this.token = key;
  }

  private async *watchStream(
    fromRevision: number,
    signal?: AbortSignal,
  ): AsyncGenerator<ChangeEvent> {
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    signal?.addEventListener('abort', stop, { once: true });
    this.watches.add(abort);
    let last = fromRevision;
    let failures = 0;
    try {
      while (!abort.signal.aborted) {
        let stream: Readable | undefined;
        try {
          if (this.token === undefined && this.credentials && 'name' in this.credentials)
            await this.login();
          const res = await this.http.get<Readable>('/eucanetd/watch', {
            params: { from: String(last) },
            headers: { accept: 'text/event-stream', ...this.authHeader() },
            responseType: 'stream',
            timeout: 0,
            signal: abort.signal,
          });
          stream = res.data;
          if (res.status >= 400) {
            const body = await readJson(stream);
            const err = storeErrorFromResponse(res.status, body);
            if (res.status < 500 && !(res.status === 401 && this.relogin())) throw err;
            throw new Retryable(err);
          }
          failures = 0;
          for await (const ev of parseSse(stream)) {
            if (ev.event === 'change') {
              const change = deepFreeze(JSON.parse(ev.data)) as ChangeEvent;
              last = change.revision;
              yield change;
            } else if (ev.event === 'error') {
              const body = JSON.parse(ev.data) as ErrorBody & { code?: number };
              throw storeErrorFromResponse(body.code ?? 500, body);
            }
          }
          this.logger.debug('api watch stream ended', { revision: last });
        } catch (e) {
          if (abort.signal.aborted) return;
          if (e instanceof StoreError) throw e;
          if (e instanceof AbortError) throw e.originalError;
          failures++;
          if (failures > this.retries) {
            const detail = e instanceof Error ? e.message : String(e);
            throw new StoreUnavailableError(`API watch failed ${failures} times: ${detail}`, {
              cause: e,
            });
          }
          this.logger.debug('api watch reconnecting', { revision: last, attempt: failures });
        } finally {
          stream?.destroy();
        }
        await sleep(
          Math.min(this.maxBackoff, this.minBackoff * 2 ** Math.max(0, failures - 1)),
          abort.signal,
        );
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      this.watches.delete(abort);
    }
  }

  /** Forgets a login token so the next attempt logs in again; false for static tokens. */
  private relogin(): boolean {
    if (!(this.credentials && 'name' in this.credentials)) return false;
    this.token = undefined;
    return true;
  }
}

async function readJson(stream: Readable): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined; // a non-JSON error body: the status alone decides the error
  }
}

/** Freezes a parsed JSON value (objects handed out are immutable, as the embedded store's). */
function deepFreeze(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Creates a `TopologyStore` that talks to a eucanetd API server. */
export function createApiClient(options: ApiClientOptions): TopologyStore {
  return new ApiClient(options);
}
