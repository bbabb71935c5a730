/**
 * BGP peers and networks, as MidoNet 5 serves them: list and create under a router
 * (`/routers/{id}/bgp_peers`, `/routers/{id}/bgp_networks`), show and delete at the top level
 * (`/bgp_peers/{id}`, `/bgp_networks/{id}`; peers also take PUT). And tenants: MidoNet asks its
 * auth service; we list the tenant ids of the tenant-scoped objects (routers, bridges, chains,
 * port groups).
 */
import { randomUUID } from 'node:crypto';
import type { Kind } from '../../store/index.js';
import {
  commit,
  created,
  getMany,
  mustGet,
  NO_CONTENT,
  param,
  TENANT_KINDS,
  withRetry,
  type ApiRouter,
  type Ctx,
  type Reply,
} from '../context.js';
import { bgpNetworkDto, bgpPeerDto, MT, tenantDto } from '../dto.js';
import { HttpError, validationFailed } from '../http.js';
import { validateRest } from '../validate.js';

/** Registers BGP peers, BGP networks and tenants. */
export function addBgpResources(router: ApiRouter): void {
  router.add('GET', '/routers/:id/bgp_peers', async (ctx) => {
    const r = await mustGet(ctx, 'router', param(ctx, 'id'));
    const body = (await getMany(ctx, 'bgp-peer', r.bgpPeerIds)).map((p) => bgpPeerDto(ctx.base, p));
    return { status: 200, body, media: MT.bgpPeer, collection: true };
  });
  router.add('POST', '/routers/:id/bgp_peers', createPeer);
  router.add('GET', '/bgp_peers/:id', async (ctx) => {
    const p = await mustGet(ctx, 'bgp-peer', param(ctx, 'id'));
    return { status: 200, body: bgpPeerDto(ctx.base, p), media: MT.bgpPeer };
  });
  router.add('PUT', '/bgp_peers/:id', async (ctx) => {
    const id = param(ctx, 'id');
    const raw = await ctx.body(MT.bgpPeer);
    await withRetry(async () => {
      const stored = await mustGet(ctx, 'bgp-peer', id);
      const body = validateRest(
        'bgp-peer',
        raw,
        { id, routerId: stored.routerId },
        bgpPeerDto(ctx.base, stored),
      );
      const op = { op: 'update', kind: 'bgp-peer', object: body, expectedVersion: stored.version };
      await commit(ctx, [op as never], { kind: 'bgp-peer', id });
    });
    return NO_CONTENT;
  });
  addDelete(router, '/bgp_peers/:id', 'bgp-peer');

  router.add('GET', '/routers/:id/bgp_networks', async (ctx) => {
    const r = await mustGet(ctx, 'router', param(ctx, 'id'));
    const body = (await getMany(ctx, 'bgp-network', r.bgpNetworkIds)).map((n) =>
      bgpNetworkDto(ctx.base, n),
    );
    return { status: 200, body, media: MT.bgpNetwork, collection: true };
  });
  router.add('POST', '/routers/:id/bgp_networks', async (ctx) => {
    const routerId = param(ctx, 'id');
    const body = validateRest('bgp-network', await ctx.body(MT.bgpNetwork), { routerId });
    await mustGet(ctx, 'router', routerId);
    const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
    body['id'] = id;
    await commit(ctx, [{ op: 'create', kind: 'bgp-network', object: body as never }], {
      kind: 'router',
      id: routerId,
    });
    return created(`${ctx.base}/bgp_networks/${id}`);
  });
  router.add('GET', '/bgp_networks/:id', async (ctx) => {
    const n = await mustGet(ctx, 'bgp-network', param(ctx, 'id'));
    return { status: 200, body: bgpNetworkDto(ctx.base, n), media: MT.bgpNetwork };
  });
  addDelete(router, '/bgp_networks/:id', 'bgp-network');

  router.add('GET', '/tenants', async (ctx) => {
    const body = (await tenantIds(ctx)).map((t) => tenantDto(ctx.base, t));
    return { status: 200, body, media: MT.tenant, collection: true };
  });
  router.add('GET', '/tenants/:id', async (ctx) => {
    const id = param(ctx, 'id');
    if (!(await tenantIds(ctx)).includes(id)) throw new HttpError(404, `tenant ${id} not found`);
    return { status: 200, body: tenantDto(ctx.base, id), media: MT.tenant };
  });
}

function addDelete(router: ApiRouter, path: string, kind: 'bgp-peer' | 'bgp-network'): void {
  router.add('DELETE', path, async (ctx) => {
    const id = param(ctx, 'id');
    await mustGet(ctx, kind, id);
    await commit(ctx, [{ op: 'delete', kind, id }], { kind, id });
    return NO_CONTENT;
  });
}

/** `POST /routers/{id}/bgp_peers`: 400 when the router has a peer with that address and AS. */
async function createPeer(ctx: Ctx): Promise<Reply> {
  const routerId = param(ctx, 'id');
  const body = validateRest('bgp-peer', await ctx.body(MT.bgpPeer), { routerId });
  const r = await mustGet(ctx, 'router', routerId);
  const peers = await getMany(ctx, 'bgp-peer', r.bgpPeerIds);
  if (peers.some((p) => p.address === body['address'] && p.asNumber === body['asNumber'])) {
    throw validationFailed([
      {
        property: 'address',
        message: `router/${routerId} already has a BGP peer ${String(body['address'])} AS ${String(body['asNumber'])}`,
      },
    ]);
  }
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  await commit(ctx, [{ op: 'create', kind: 'bgp-peer', object: body as never }], {
    kind: 'router',
    id: routerId,
  });
  return created(`${ctx.base}/bgp_peers/${id}`);
}

/** The tenant ids of the tenant-scoped objects, sorted. */
async function tenantIds(ctx: Ctx): Promise<string[]> {
  const ids = new Set<string>();
  for (const kind of TENANT_KINDS as ReadonlySet<Kind>) {
    for (const o of await ctx.store.list(kind)) {
      const t = (o as { tenantId?: string }).tenantId;
      if (t !== undefined && t !== '') ids.add(t);
    }
  }
  return [...ids].sort();
}
