/**
 * The etcd backend's spec string, key layout, value codec and error mapping.
 * Layout under a root `/<prefix>`: `<root>/o/<kind>/<id>` → JSON of the stored object,
 * `<root>/rev` → the store revision (decimal) written by every commit, and
 * `<root>/lock/controller` → the holder of the controller lock (leased).
 */
import { StoreError, StoreUnavailableError } from './errors.js';
import type { AnyObject, Kind } from './types.js';
import { isKind } from './validate.js';

/** A parsed `etcd://host:port[,host:port…]/prefix` spec. */
export interface EtcdSpec {
  /** `host:port` of every endpoint. */
  readonly hosts: readonly string[];
  /** Key root without a trailing slash, e.g. `/eucanetd` (default when the spec has none). */
  readonly root: string;
}

/** Parses a store spec `etcd://host:port[,host:port…][/prefix]` (prefix default `eucanetd`). */
export function parseEtcdSpec(spec: string): EtcdSpec {
  const m = /^etcd:(?:\/\/)?([^/]*)(\/.*)?$/.exec(spec);
  const hostList = m?.[1] ?? '';
  const hosts = hostList.split(',').filter((h) => h !== '');
  if (!m || hosts.length === 0) {
    throw new StoreError(`store spec ${JSON.stringify(spec)}: expected etcd://host:port/prefix`);
  }
  for (const h of hosts) {
    if (!/^[^:\s]+:\d{1,5}$/.test(h) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(h)) {
      throw new StoreError(`store spec ${JSON.stringify(spec)}: bad endpoint ${h} (host:port)`);
    }
  }
  const path = (m[2] ?? '').replace(/\/+$/, '');
  return { hosts, root: path === '' ? '/eucanetd' : path };
}

/** Keys of one store root. */
export class EtcdKeys {
  /** Every key of the store starts with this (`<root>/`). */
  readonly prefix: string;
  readonly revision: string;
  readonly lock: string;
  private readonly objectPrefix: string;

  constructor(readonly root: string) {
    this.prefix = root + '/';
    this.revision = root + '/rev';
    this.lock = root + '/lock/controller';
    this.objectPrefix = root + '/o/';
  }

  /** The key of one object. */
  object(kind: Kind, id: string): string {
    return this.objectPrefix + kind + '/' + id;
  }

  /** Kind and id of an object key, or undefined for any other key. */
  parseObject(key: string): { kind: Kind; id: string } | undefined {
    if (!key.startsWith(this.objectPrefix)) return undefined;
    const rest = key.slice(this.objectPrefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    const kind = rest.slice(0, slash);
    if (!isKind(kind)) return undefined;
    return { kind, id: rest.slice(slash + 1) };
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** Decodes a stored object (frozen, as readers get it); throws StoreError on bad JSON. */
export function decodeObject(key: string, value: Buffer): AnyObject {
  try {
    return deepFreeze(JSON.parse(value.toString('utf8')) as AnyObject);
  } catch (e) {
    throw new StoreError(`etcd key ${key} holds no valid object`, { cause: e });
  }
}

/** Encodes a stored object. */
export function encodeObject(obj: AnyObject): Buffer {
  return Buffer.from(JSON.stringify(obj), 'utf8');
}

const UNAVAILABLE =
  /GRPCUnavailable|\b14 UNAVAILABLE\b|GRPCDeadlineExceeded|BrokenCircuit|circuit breaker is open|ClientClosed|EtcdWatchStreamEnded|GRPCCancelled|ECONNREFUSED|ECONNRESET|No connection established|connect|timed out|deadline|leader|unhealthy/i;

/** How etcd (or gRPC) says a request is over its size limits. */
const SIZE_REFUSAL = /too many operations in txn|request is too large|message larger than max/i;

/** True for the `StoreError` `toStoreError` makes of etcd refusing a request for its size. */
export function isEtcdSizeRefusal(e: unknown): boolean {
  if (!(e instanceof StoreError) || !(e.cause instanceof Error)) return false;
  return SIZE_REFUSAL.test(`${e.cause.name} ${e.cause.message}`);
}

/**
 * Maps an etcd3/gRPC failure of `what` onto the store errors: connection loss, timeouts and
 * leader elections become `StoreUnavailableError` (retryable); anything else `StoreError`.
 * Store errors pass through unchanged.
 */
export function toStoreError(e: unknown, what: string, endpoints: string): StoreError {
  if (e instanceof StoreError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const text = `${err.name} ${err.message}`;
  if (SIZE_REFUSAL.test(text)) {
    return new StoreError(
      `etcd ${endpoints}: ${what} refused (${err.message}); raise etcd's --max-txn-ops / ` +
        `--max-request-bytes (see docs/etcd.md)`,
      { cause: err },
    );
  }
  if (UNAVAILABLE.test(text)) {
    return new StoreUnavailableError(`etcd ${endpoints}: ${what} failed: ${err.message}`, {
      cause: err,
    });
  }
  return new StoreError(`etcd ${endpoints}: ${what} failed: ${err.message}`, { cause: err });
}
