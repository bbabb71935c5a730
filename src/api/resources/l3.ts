/**
 * Router routes and bridge DHCP subnets with their static hosts. A subnet is addressed by
 * `a.b.c.d_len`, a host by its MAC (dashes or colons); each host write rewrites the whole
 * subnet object, as MidoNet does.
 */
import { randomUUID } from 'node:crypto';
import type { DhcpHost, DhcpSubnet } from '../../store/index.js';
import {
  commit,
  created,
  getMany,
  mustGet,
  NO_CONTENT,
  param,
  updateOp,
  changeMembers,
  withRetry,
  type ApiRouter,
  type Ctx,
  type Reply,
} from '../context.js';
import { dhcpHostDto, dhcpSubnetDto, MT, routeDto, subnetKey } from '../dto.js';
import { HttpError, validationFailed } from '../http.js';
import { validateDhcpHost, validateRest } from '../validate.js';

/** Registers routes and DHCP resources. */
export function addL3Resources(router: ApiRouter): void {
  router.add('GET', '/routers/:id/routes', async (ctx) => {
    const r = await mustGet(ctx, 'router', param(ctx, 'id'));
    const routes = await getMany(ctx, 'route', r.routeIds);
    return {
      status: 200,
      body: routes.map((x) => routeDto(ctx.base, x)),
      media: MT.route,
      collection: true,
    };
  });
  router.add('POST', '/routers/:id/routes', createRoute);
  router.add('GET', '/routes/:id', async (ctx) => {
    const route = await mustGet(ctx, 'route', param(ctx, 'id'));
    return { status: 200, body: routeDto(ctx.base, route), media: MT.route };
  });
  router.add('DELETE', '/routes/:id', async (ctx) => {
    const id = param(ctx, 'id');
    await mustGet(ctx, 'route', id);
    await commit(ctx, [{ op: 'delete', kind: 'route', id }], { kind: 'route', id });
    return NO_CONTENT;
  });

  const subnets = '/bridges/:id/dhcp';
  const subnet = `${subnets}/:subnet`;
  router.add('GET', subnets, async (ctx) => {
    const b = await mustGet(ctx, 'bridge', param(ctx, 'id'));
    const all = await getMany(ctx, 'dhcp-subnet', b.dhcpIds);
    const body = all.map((s) => dhcpSubnetDto(ctx.base, s));
    return { status: 200, body, media: MT.dhcpSubnet, collection: true };
  });
  router.add('POST', subnets, createSubnet);
  router.add('GET', subnet, async (ctx) => {
    const s = await findSubnet(ctx);
    return { status: 200, body: dhcpSubnetDto(ctx.base, s), media: MT.dhcpSubnet };
  });
  router.add('PUT', subnet, async (ctx) => {
    const raw = await ctx.body(MT.dhcpSubnet);
    await withRetry(async () => {
      const s = await findSubnet(ctx);
      const keep = {
        id: s.id,
        bridgeId: s.bridgeId,
        subnetPrefix: s.subnetPrefix,
        subnetLength: s.subnetLength,
        hosts: s.hosts,
      };
      const body = validateRest('dhcp-subnet', raw, keep);
      const op = { op: 'update', kind: 'dhcp-subnet', object: body, expectedVersion: s.version };
      await commit(ctx, [op as never], { kind: 'dhcp-subnet', id: s.id });
    });
    return NO_CONTENT;
  });
  router.add('DELETE', subnet, async (ctx) => {
    const s = await findSubnet(ctx);
    await commit(ctx, [{ op: 'delete', kind: 'dhcp-subnet', id: s.id }], {
      kind: 'dhcp-subnet',
      id: s.id,
    });
    return NO_CONTENT;
  });
  addDhcpHostResources(router, `${subnet}/hosts`);
}

function addDhcpHostResources(router: ApiRouter, hosts: string): void {
  router.add('GET', hosts, async (ctx) => {
    const s = await findSubnet(ctx);
    const body = s.hosts.map((h) => dhcpHostDto(ctx.base, s, h));
    return { status: 200, body, media: MT.dhcpHost, collection: true };
  });
  router.add('POST', hosts, async (ctx) => {
    const host = validateDhcpHost(await ctx.body(MT.dhcpHost)) as unknown as DhcpHost;
    const s = await rewriteHosts(ctx, (list) => {
      if (list.some((h) => h.macAddr === host.macAddr)) {
        throw new HttpError(409, `DHCP host ${host.macAddr} already exists`, {
          error: 'AlreadyExistsError',
        });
      }
      return [...list, host];
    });
    return created(dhcpHostDto(ctx.base, s, host)['uri'] as string);
  });
  router.add('GET', `${hosts}/:mac`, async (ctx) => {
    const s = await findSubnet(ctx);
    const mac = macParam(ctx);
    const host = s.hosts.find((h) => h.macAddr === mac);
    if (!host) throw new HttpError(404, `DHCP host ${mac} not found`);
    return { status: 200, body: dhcpHostDto(ctx.base, s, host), media: MT.dhcpHost };
  });
  router.add('PUT', `${hosts}/:mac`, async (ctx) => {
    const mac = macParam(ctx);
    const raw = (await ctx.body(MT.dhcpHost)) as Record<string, unknown> | null;
    const host = validateDhcpHost({ ...raw, macAddr: mac }) as unknown as DhcpHost;
    await rewriteHosts(ctx, (list) => {
      if (!list.some((h) => h.macAddr === mac))
        throw new HttpError(404, `DHCP host ${mac} not found`);
      return list.map((h) => (h.macAddr === mac ? host : h));
    });
    return NO_CONTENT;
  });
  router.add('DELETE', `${hosts}/:mac`, async (ctx) => {
    const mac = macParam(ctx);
    await rewriteHosts(ctx, (list) => {
      if (!list.some((h) => h.macAddr === mac))
        throw new HttpError(404, `DHCP host ${mac} not found`);
      return list.filter((h) => h.macAddr !== mac);
    });
    return NO_CONTENT;
  });
}

async function createRoute(ctx: Ctx): Promise<Reply> {
  const routerId = param(ctx, 'id');
  const body = validateRest('route', await ctx.body(MT.route), { routerId });
  await mustGet(ctx, 'router', routerId);
  if (body['type'] === 'Normal') {
    const hop = body['nextHopPort'];
    const port = typeof hop === 'string' ? await ctx.store.get('port', hop) : undefined;
    if (port?.routerId !== routerId) {
      throw validationFailed([
        {
          property: 'nextHopPort',
          message: 'This type of route requires a next hop port that is a port on the same router.',
        },
      ]);
    }
  }
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  await commit(ctx, [{ op: 'create', kind: 'route', object: body as never }], {
    kind: 'router',
    id: routerId,
  });
  return created(`${ctx.base}/routes/${id}`);
}

async function createSubnet(ctx: Ctx): Promise<Reply> {
  const bridgeId = param(ctx, 'id');
  const body = validateRest('dhcp-subnet', await ctx.body(MT.dhcpSubnet), { bridgeId });
  const b = await mustGet(ctx, 'bridge', bridgeId);
  const existing = await getMany(ctx, 'dhcp-subnet', b.dhcpIds);
  const key = subnetKey(body as { subnetPrefix: string; subnetLength: number });
  if (existing.some((s) => subnetKey(s) === key)) {
    throw new HttpError(409, `bridge/${bridgeId} already has DHCP subnet ${key}`, {
      error: 'AlreadyExistsError',
    });
  }
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  await commit(ctx, [{ op: 'create', kind: 'dhcp-subnet', object: body as never }], {
    kind: 'bridge',
    id: bridgeId,
  });
  return created(`${ctx.base}/bridges/${bridgeId}/dhcp/${key}`);
}

function macParam(ctx: Ctx): string {
  return param(ctx, 'mac').toLowerCase().replaceAll('-', ':');
}

async function findSubnet(ctx: Ctx): Promise<DhcpSubnet> {
  const b = await mustGet(ctx, 'bridge', param(ctx, 'id'));
  const key = param(ctx, 'subnet').replace('/', '_');
  const all = await getMany(ctx, 'dhcp-subnet', b.dhcpIds);
  const s = all.find((x) => subnetKey(x) === key);
  if (!s) throw new HttpError(404, `bridge/${b.id} has no DHCP subnet ${key}`);
  return s;
}

/** Rewrites the subnet's host list in one update (retried on a concurrent change). */
async function rewriteHosts(
  ctx: Ctx,
  change: (hosts: readonly DhcpHost[]) => readonly DhcpHost[],
): Promise<DhcpSubnet> {
  const key = `bridge/${param(ctx, 'id')}/dhcp/${param(ctx, 'subnet')}`;
  return changeMembers(ctx, key, async () => {
    const s = await findSubnet(ctx);
    const hosts = change(s.hosts);
    await commit(ctx, [updateOp('dhcp-subnet', s, { hosts })], { kind: 'dhcp-subnet', id: s.id });
    return s;
  });
}
