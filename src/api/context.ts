/**
 * What a resource handler gets (the store, path parameters, the body) and returns (a status,
 * a JSON body with its media type, headers), plus the helpers every resource uses: read or
 * 404, commit with error mapping, optimistic retry, generic CRUD.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Logger } from '../common/index.js';
import {
  BACK_REFERENCE_FIELDS,
  ConcurrentModificationError,
  type Kind,
  type ObjectOf,
  type Op,
  type TopologyStore,
} from '../store/index.js';
import { writablePart, type Dto } from './dto.js';
import { HttpError, fromStoreError, type MediaType, type Params, type Router } from './http.js';
import { validateRest } from './validate.js';

/** The request as a handler sees it. */
export interface Ctx {
  readonly store: TopologyStore;
  readonly logger: Logger;
  readonly params: Params;
  readonly query: URLSearchParams;
  /** Absolute base URI, e.g. `http://127.0.0.1:8181/midonet-api`. */
  readonly base: string;
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal;
  /** Request headers (lower-case names). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Reads and parses the JSON body; checks its content type against `mt`. */
  body(mt: MediaType): Promise<unknown>;
  /** Runs `fn` after every earlier `exclusive` call of `key` in this server has settled. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** What a handler returns. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly media?: MediaType;
  readonly collection?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** A streamed response (server-sent events): writes status, headers and body itself. */
  readonly stream?: (res: ServerResponse) => Promise<void>;
}

/** A resource handler. */
export type Handler = (ctx: Ctx) => Promise<Reply>;

/** The router type resources register on. */
export type ApiRouter = Router<Handler>;

/** A path parameter (always present when the route matched). */
export function param(ctx: Ctx, name: string): string {
  const v = ctx.params[name];
  if (v === undefined) throw new HttpError(500, `missing path parameter ${name}`);
  return decodeURIComponent(v);
}

/** Reads an object or throws 404. */
export async function mustGet<K extends Kind>(ctx: Ctx, kind: K, id: string): Promise<ObjectOf<K>> {
  const o = await ctx.store.get(kind, id);
  if (o === undefined) throw new HttpError(404, `${kind}/${id} not found`, { kind, id });
  return o;
}

/** Reads several objects by id (missing ones are skipped: a back-reference may be in flux). */
export async function getMany<K extends Kind>(
  ctx: Ctx,
  kind: K,
  ids: readonly string[],
): Promise<ObjectOf<K>[]> {
  const objs = await Promise.all(ids.map((id) => ctx.store.get(kind, id)));
  return objs.filter((o): o is Awaited<ObjectOf<K>> => o !== undefined) as ObjectOf<K>[];
}

/** Commits ops; store errors become HTTP errors (`target` = the object the URI names). */
export async function commit(
  ctx: Ctx,
  ops: readonly Op[],
  target?: { kind: Kind; id: string },
): Promise<number> {
  try {
    return (await ctx.store.transaction(ops)).revision;
  } catch (e) {
    throw fromStoreError(e, target);
  }
}

/**
 * Runs a read-modify-write up to `attempts` (3) times while it fails with a concurrent
 * modification (as MidoNet's `tryTransaction` does); the last failure is a 409.
 */
export async function withRetry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const conflict =
        e instanceof ConcurrentModificationError ||
        (e instanceof HttpError && e.extra.error === 'ConcurrentModificationError');
      if (!conflict || attempt >= attempts) throw e;
    }
  }
}

/**
 * A change of a member list (add or remove one member) of the object `key` names: such
 * changes commute, so the server runs them one at a time per object (they never fail each
 * other's version check) and retries a conflict with another writer up to 20 times. A
 * conflict that outlasts that is still a 409.
 */
export async function changeMembers<T>(ctx: Ctx, key: string, fn: () => Promise<T>): Promise<T> {
  return ctx.exclusive(key, () => withRetry(fn, 20));
}

/** The writable fields of a stored object (for an update that changes a few of them). */
export function writableOf<K extends Kind>(kind: K, o: ObjectOf<K>): Record<string, unknown> {
  return writablePart(o, BACK_REFERENCE_FIELDS[kind]);
}

/** An update op of an object with `changes` applied, checked against the stored version. */
export function updateOp<K extends Kind>(
  kind: K,
  o: ObjectOf<K>,
  changes: Readonly<Record<string, unknown>>,
): Op {
  const object: Record<string, unknown> = { ...writableOf(kind, o) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete object[k];
    else object[k] = v;
  }
  return { op: 'update', kind, object: object as never, expectedVersion: o.version };
}

/** 201 Created with a Location header. */
export function created(location: string): Reply {
  return { status: 201, headers: { location } };
}

/** 204 No Content. */
export const NO_CONTENT: Reply = { status: 204 };

/** Definition of a top-level resource with generic list/get/create/update/delete. */
export interface CrudDef<K extends Kind> {
  readonly kind: K;
  /** Collection path under the root, e.g. `/routers`. */
  readonly path: string;
  readonly mt: MediaType;
  readonly dto: (base: string, o: ObjectOf<K>) => Dto;
  /** Fields a PUT keeps from the stored copy (managed through sub-collections). */
  readonly keep?: readonly string[];
  /** Adds POST on the collection; default true. */
  readonly create?: boolean;
  /** Adds PUT on the object; default true. */
  readonly update?: boolean;
  /** Checks before a delete (throw HttpError to refuse). */
  readonly beforeDelete?: (ctx: Ctx, o: ObjectOf<K>) => Promise<void>;
  /** Narrows a list by query parameters (beyond `?tenant_id=`). */
  readonly filter?: (ctx: Ctx, objs: readonly ObjectOf<K>[]) => readonly ObjectOf<K>[];
  /** Extra checks of a validated body before create or update (throw HttpError). */
  readonly check?: (ctx: Ctx, body: Record<string, unknown>, id: string) => Promise<void>;
}

/** The kinds MidoNet scopes by tenant: only their lists honour `?tenant_id=`. */
export const TENANT_KINDS: ReadonlySet<Kind> = new Set<Kind>([
  'router',
  'bridge',
  'chain',
  'port-group',
]);

/** Keeps the objects whose `tenantId` equals `?tenant_id=` when given (tenant-scoped kinds). */
function byTenant<T>(ctx: Ctx, kind: Kind, objs: readonly T[]): readonly T[] {
  const tenant = ctx.query.get('tenant_id');
  if (tenant === null || !TENANT_KINDS.has(kind)) return objs;
  return objs.filter((o) => (o as { tenantId?: string }).tenantId === tenant);
}

/** Registers GET/POST on the collection and GET/PUT/DELETE on `/{id}`. */
export function addCrud<K extends Kind>(router: ApiRouter, def: CrudDef<K>): void {
  const { kind, path, mt } = def;
  const one = `${path}/:id`;
  router.add('GET', path, async (ctx) => {
    let objs = byTenant(ctx, kind, await ctx.store.list(kind));
    if (def.filter) objs = def.filter(ctx, objs);
    return {
      status: 200,
      body: objs.map((o) => def.dto(ctx.base, o)),
      media: mt,
      collection: true,
    };
  });
  router.add('GET', one, async (ctx) => {
    const o = await mustGet(ctx, kind, param(ctx, 'id'));
    return { status: 200, body: def.dto(ctx.base, o), media: mt };
  });
  router.add('DELETE', one, async (ctx) => {
    const id = param(ctx, 'id');
    const o = await mustGet(ctx, kind, id);
    await def.beforeDelete?.(ctx, o);
    await commit(ctx, [{ op: 'delete', kind, id }], { kind, id });
    return NO_CONTENT;
  });
  if (def.create !== false) {
    router.add('POST', path, async (ctx) => {
      const body = validateRest(kind, await ctx.body(mt));
      const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
      body['id'] = id;
      await def.check?.(ctx, body, id);
      await commit(ctx, [{ op: 'create', kind, object: body as never }]);
      return created(`${ctx.base}${path}/${id}`);
    });
  }
  if (def.update !== false) {
    router.add('PUT', one, async (ctx) => {
      const id = param(ctx, 'id');
      const raw = await ctx.body(mt);
      await withRetry(async () => {
        const stored = await mustGet(ctx, kind, id);
        const current = def.dto(ctx.base, stored);
        const body = validateRest(kind, raw, { ...keptFields(stored, def.keep), id }, current);
        await def.check?.(ctx, body, id);
        const op: Op = {
          op: 'update',
          kind,
          object: body as never,
          expectedVersion: stored.version,
        };
        await commit(ctx, [op], { kind, id });
      });
      return NO_CONTENT;
    });
  }
}

/** The `keep` fields of a stored object (absent ones as undefined, so they stay unset). */
function keptFields(stored: object, keep: readonly string[] = []): Record<string, unknown> {
  const from = stored as Record<string, unknown>;
  return Object.fromEntries(keep.map((f) => [f, from[f]]));
}
