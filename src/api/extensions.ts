/**
 * Our extensions under `/midonet-api/eucanetd/`, used by the API client (`src/api/client.ts`)
 * to offer the full `TopologyStore` interface over HTTP:
 * - `POST transaction` `{ops}` → `{revision}` (atomic; an `X-Request-Id` makes a retried request
 *   return the first result instead of applying twice);
 * - `GET watch?from=REV` → server-sent events, one `change` event per commit with the revision
 *   as the SSE `id`; 410 when the history is compacted;
 * - `GET objects/{kind}` (`?name=` or `?filter=<JSON>`), `GET objects/{kind}/{id}` → raw objects;
 * - `GET revision` → `{revision}`.
 */
import type { ServerResponse } from 'node:http';
import type { ChangeEvent, ListFilter } from '../store/index.js';
import { commit, param, type ApiRouter, type Ctx, type Reply } from './context.js';
import { fromStoreError, HttpError } from './http.js';
import { parseKind, validateOps } from './validate.js';

const JSON_MT = { name: 'Json', version: 1 } as const;

/** Options of the extensions; defaults in brackets. */
export interface ExtensionOptions {
  /** Interval of SSE comment heartbeats [15000 ms]. */
  readonly heartbeatMs?: number;
  /** How many transaction results are remembered by request id [1000]. */
  readonly requestIdCache?: number;
}

/** Registers the extension endpoints. */
export function addExtensions(router: ApiRouter, options: ExtensionOptions = {}): void {
  const done = new Map<string, number>();
  const cacheSize = options.requestIdCache ?? 1000;
  router.add('POST', '/eucanetd/transaction', async (ctx) => {
    const ops = validateOps(await ctx.body(JSON_MT));
    const requestId = header(ctx, 'x-request-id');
    const previous = requestId === undefined ? undefined : done.get(requestId);
    if (previous !== undefined) return json({ revision: previous });
    const revision = await commit(ctx, ops);
    if (requestId !== undefined) {
      done.set(requestId, revision);
      if (done.size > cacheSize) done.delete(done.keys().next().value!);
    }
    return json({ revision });
  });
  router.add('GET', '/eucanetd/revision', async (ctx) =>
    json({ revision: await ctx.store.revision() }),
  );
  router.add('GET', '/eucanetd/objects/:kind', async (ctx) => {
    const kind = parseKind(param(ctx, 'kind'));
    const name = ctx.query.get('name');
    if (name !== null) {
      const o = await ctx.store.getByName(kind, name);
      return json(o === undefined ? [] : [o]);
    }
    const filter = parseFilter(ctx.query.get('filter'));
    return json(await (filter ? ctx.store.list(kind, filter) : ctx.store.list(kind)));
  });
  router.add('GET', '/eucanetd/objects/:kind/:id', async (ctx) => {
    const kind = parseKind(param(ctx, 'kind'));
    const id = param(ctx, 'id');
    const o = await ctx.store.get(kind, id);
    if (o === undefined)
      throw new HttpError(404, `${kind}/${id} not found`, { error: 'NotFoundError', kind, id });
    return json(o);
  });
  router.add('GET', '/eucanetd/watch', (ctx) => watch(ctx, options.heartbeatMs ?? 15000));
}

function json(body: unknown): Reply {
  return { status: 200, body, media: JSON_MT };
}

function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function parseFilter(text: string | null): ListFilter | undefined {
  if (text === null) return undefined;
  let f: unknown;
  try {
    f = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'filter must be a JSON object', { error: 'InvalidFieldError' });
  }
  const ok =
    typeof f === 'object' &&
    f !== null &&
    !Array.isArray(f) &&
    Object.values(f).every((v) => ['string', 'number', 'boolean'].includes(typeof v));
  if (!ok)
    throw new HttpError(400, 'filter must map field names to scalars', {
      error: 'InvalidFieldError',
    });
  return f as ListFilter;
}

type Next = { ok: IteratorResult<ChangeEvent> } | { err: unknown };

/** Resolves after the current I/O turn: a compacted watch fails before this, a live one waits. */
function settleWindow(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(() => setImmediate(() => resolve(undefined))));
}

async function watch(ctx: Ctx, heartbeatMs: number): Promise<Reply> {
  const fromText = ctx.query.get('from');
  const from = fromText === null ? await ctx.store.revision() : Number(fromText);
  if (!Number.isInteger(from) || from < 0) {
    throw new HttpError(400, 'from must be a revision (integer >= 0)', {
      error: 'InvalidFieldError',
    });
  }
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  ctx.signal.addEventListener('abort', stop, { once: true });
  const it = ctx.store.watch(from, abort.signal)[Symbol.asyncIterator]();
  const pull = (): Promise<Next> =>
    it.next().then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    );
  let next = pull();
  // A compacted history must be a 410 status, so look for an immediate failure before the
  // headers go out. The store rejects `next()` at once in that case; live streams just wait.
  const early = await Promise.race([next, settleWindow()]);
  if (early !== undefined && 'err' in early) {
    stop();
    throw fromStoreError(early.err);
  }
  const stream = async (res: ServerResponse): Promise<void> => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    res.write(`: watching from revision ${from}\n\n`);
    res.on('close', stop);
    const beat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
    try {
      for (;;) {
        const r = await next;
        if ('err' in r) {
          const e = fromStoreError(r.err);
          res.write(
            `event: error\ndata: ${JSON.stringify({ error: e.extra.error, message: e.message, code: e.status })}\n\n`,
          );
          break;
        }
        if (r.ok.done) break;
        const ev = r.ok.value;
        const ok = res.write(`id: ${ev.revision}\nevent: change\ndata: ${JSON.stringify(ev)}\n\n`);
        if (!ok) {
          await new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
        if (res.destroyed) break;
        next = pull();
      }
    } finally {
      clearInterval(beat);
      stop();
      ctx.signal.removeEventListener('abort', stop);
      res.end();
    }
  };
  return { status: 200, stream };
}
