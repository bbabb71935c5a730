/**
 * Hosts and their port bindings (HostInterfacePort), tunnel zones and their members, port
 * groups and their members. Membership and binding endpoints update the owning object with an
 * optimistic version check; PUT on the parent keeps the members.
 */
import {
  addCrud,
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
import {
  hostDto,
  hostInterfaceDto,
  hostInterfacePortDto,
  MT,
  portGroupDto,
  portGroupPortDto,
  tunnelZoneDto,
  tunnelZoneHostDto,
} from '../dto.js';
import { HttpError } from '../http.js';
import { validateSmall } from '../validate.js';

const conflict = (message: string, error = 'ReferenceConflictError'): HttpError =>
  new HttpError(409, message, { error });

/** A referenced object named in a body that does not exist: 400. */
async function mustGetRef<K extends 'port' | 'host'>(ctx: Ctx, kind: K, id: string) {
  const o = await ctx.store.get(kind, id);
  if (o === undefined)
    throw new HttpError(400, `${kind}/${id} not found`, { error: 'NotFoundError', kind, id });
  return o;
}

/** Registers hosts, bindings, tunnel zones and port groups. */
export function addHostResources(router: ApiRouter): void {
  addCrud(router, {
    kind: 'host',
    path: '/hosts',
    mt: MT.host,
    dto: hostDto,
    beforeDelete: async (_ctx, h) => {
      if (h.portIds.length > 0) {
        throw conflict(
          `Cannot delete host ${h.id} because it has ${h.portIds.length} binding(s).`,
          'ReferencedError',
        );
      }
    },
  });
  addBindingResources(router);
  addInterfaceResources(router);

  addCrud(router, {
    kind: 'tunnel-zone',
    path: '/tunnel_zones',
    mt: MT.tunnelZone,
    dto: tunnelZoneDto,
    keep: ['hosts'],
    check: async (ctx, body, id) => {
      const zones = await ctx.store.list('tunnel-zone');
      if (zones.some((z) => z.name === body['name'] && z.id !== id)) {
        throw conflict('Tunnel zone name already exists.', 'AlreadyExistsError');
      }
    },
  });
  addTunnelZoneMembers(router);

  addCrud(router, {
    kind: 'port-group',
    path: '/port_groups',
    mt: MT.portGroup,
    dto: portGroupDto,
    filter: (ctx, groups) => {
      const portId = ctx.query.get('port_id');
      return portId === null ? groups : groups.filter((g) => g.portIds.includes(portId));
    },
  });
  addPortGroupMembers(router);
}

function addInterfaceResources(router: ApiRouter): void {
  // what the host's agent last reported (read-only, as in MidoNet)
  router.add('GET', '/hosts/:id/interfaces', async (ctx) => {
    const h = await mustGet(ctx, 'host', param(ctx, 'id'));
    const body = (h.interfaces ?? []).map((i) => hostInterfaceDto(ctx.base, h, i));
    return { status: 200, body, media: MT.hostInterface, collection: true };
  });
  router.add('GET', '/hosts/:id/interfaces/:name', async (ctx) => {
    const h = await mustGet(ctx, 'host', param(ctx, 'id'));
    const name = param(ctx, 'name');
    const i = (h.interfaces ?? []).find((x) => x.name === name);
    if (!i)
      throw new HttpError(404, `host/${h.id} has no interface ${name}`, { kind: 'host', id: h.id });
    return { status: 200, body: hostInterfaceDto(ctx.base, h, i), media: MT.hostInterface };
  });
}

function addBindingResources(router: ApiRouter): void {
  router.add('GET', '/hosts/:id/ports', async (ctx) => {
    const h = await mustGet(ctx, 'host', param(ctx, 'id'));
    const ports = (await getMany(ctx, 'port', h.portIds)).filter(
      (p) => p.interfaceName !== undefined,
    );
    const body = ports.map((p) => hostInterfacePortDto(ctx.base, p));
    return { status: 200, body, media: MT.hostInterfacePort, collection: true };
  });
  router.add('POST', '/hosts/:id/ports', bindPort);
  router.add('GET', '/hosts/:id/ports/:portId', async (ctx) => {
    const port = await boundPort(ctx);
    return { status: 200, body: hostInterfacePortDto(ctx.base, port), media: MT.hostInterfacePort };
  });
  router.add('DELETE', '/hosts/:id/ports/:portId', async (ctx) => {
    await withRetry(async () => {
      const port = await boundPort(ctx);
      const op = updateOp('port', port, { hostId: undefined, interfaceName: undefined });
      await commit(ctx, [op], { kind: 'port', id: port.id });
    });
    return NO_CONTENT;
  });
}

/** `POST /hosts/{id}/ports {"portId","interfaceName"}`: binds a port to a host interface. */
async function bindPort(ctx: Ctx): Promise<Reply> {
  const hostId = param(ctx, 'id');
  const { portId, interfaceName } = validateSmall(await ctx.body(MT.hostInterfacePort), {
    portId: 'id',
    interfaceName: 'str',
  }) as { portId: string; interfaceName: string };
  await withRetry(async () => {
    const host = await mustGet(ctx, 'host', hostId);
    if (host.tunnelZoneIds.length === 0)
      throw conflict('The specified host is not in any tunnel zone.');
    const port = await mustGetRef(ctx, 'port', portId);
    if (port.interfaceName !== undefined || port.hostId !== undefined) {
      throw conflict(`Port ${portId} is already bound to an interface`);
    }
    const others = await getMany(ctx, 'port', host.portIds);
    if (others.some((p) => p.interfaceName === interfaceName)) {
      throw conflict(`Interface ${interfaceName} on host ${hostId} is already bound to a port`);
    }
    await commit(ctx, [updateOp('port', port, { hostId, interfaceName })], {
      kind: 'host',
      id: hostId,
    });
  });
  return created(`${ctx.base}/hosts/${hostId}/ports/${portId}`);
}

async function boundPort(ctx: Ctx) {
  const hostId = param(ctx, 'id');
  await mustGet(ctx, 'host', hostId);
  const port = await ctx.store.get('port', param(ctx, 'portId'));
  if (port?.hostId !== hostId) {
    throw new HttpError(404, `no binding of port/${param(ctx, 'portId')} on host/${hostId}`);
  }
  return port;
}

function addTunnelZoneMembers(router: ApiRouter): void {
  const members = '/tunnel_zones/:id/hosts';
  router.add('GET', members, async (ctx) => {
    const z = await mustGet(ctx, 'tunnel-zone', param(ctx, 'id'));
    const body = z.hosts.map((h) => tunnelZoneHostDto(ctx.base, z.id, h));
    return { status: 200, body, media: MT.tunnelZoneHost, collection: true };
  });
  router.add('POST', members, async (ctx) => {
    const id = param(ctx, 'id');
    const member = validateSmall(await ctx.body(MT.tunnelZoneHost), {
      hostId: 'id',
      ipAddress: 'ip',
    }) as {
      hostId: string;
      ipAddress: string;
    };
    await changeMembers(ctx, `tunnel-zone/${id}`, async () => {
      const z = await mustGet(ctx, 'tunnel-zone', id);
      await mustGetRef(ctx, 'host', member.hostId);
      if (z.hosts.some((h) => h.hostId === member.hostId)) {
        throw conflict(
          `host/${member.hostId} is already a member of tunnel-zone/${id}`,
          'AlreadyExistsError',
        );
      }
      const hosts = [...z.hosts, { hostId: member.hostId, ipAddress: member.ipAddress }];
      await commit(ctx, [updateOp('tunnel-zone', z, { hosts })], { kind: 'tunnel-zone', id });
    });
    return created(`${ctx.base}/tunnel_zones/${id}/hosts/${member.hostId}`);
  });
  router.add('GET', `${members}/:hostId`, async (ctx) => {
    const z = await mustGet(ctx, 'tunnel-zone', param(ctx, 'id'));
    const h = z.hosts.find((m) => m.hostId === param(ctx, 'hostId'));
    if (!h)
      throw new HttpError(
        404,
        `host/${param(ctx, 'hostId')} is not a member of tunnel-zone/${z.id}`,
      );
    return { status: 200, body: tunnelZoneHostDto(ctx.base, z.id, h), media: MT.tunnelZoneHost };
  });
  router.add('DELETE', `${members}/:hostId`, async (ctx) => {
    const hostId = param(ctx, 'hostId');
    await withRetry(async () => {
      const z = await mustGet(ctx, 'tunnel-zone', param(ctx, 'id'));
      if (!z.hosts.some((m) => m.hostId === hostId)) {
        throw new HttpError(404, `host/${hostId} is not a member of tunnel-zone/${z.id}`);
      }
      const hosts = z.hosts.filter((m) => m.hostId !== hostId);
      await commit(ctx, [updateOp('tunnel-zone', z, { hosts })], { kind: 'tunnel-zone', id: z.id });
    });
    return NO_CONTENT;
  });
}

function addPortGroupMembers(router: ApiRouter): void {
  const members = '/port_groups/:id/ports';
  router.add('GET', members, async (ctx) => {
    const g = await mustGet(ctx, 'port-group', param(ctx, 'id'));
    const body = g.portIds.map((p) => portGroupPortDto(ctx.base, g.id, p));
    return { status: 200, body, media: MT.portGroupPort, collection: true };
  });
  router.add('POST', members, async (ctx) => {
    const id = param(ctx, 'id');
    const { portId } = validateSmall(await ctx.body(MT.portGroupPort), { portId: 'id' }) as {
      portId: string;
    };
    // the member list is kept through the port's forward reference: the port is what changes
    await changeMembers(ctx, `port/${portId}`, async () => {
      await mustGet(ctx, 'port-group', id);
      const port = await mustGetRef(ctx, 'port', portId);
      if (port.portGroupIds.includes(id)) {
        throw conflict(
          `port/${portId} is already a member of port-group/${id}`,
          'AlreadyExistsError',
        );
      }
      const op = updateOp('port', port, { portGroupIds: [...port.portGroupIds, id] });
      await commit(ctx, [op], { kind: 'port-group', id });
    });
    return created(`${ctx.base}/port_groups/${id}/ports/${portId}`);
  });
  router.add('GET', `${members}/:portId`, async (ctx) => {
    const g = await mustGet(ctx, 'port-group', param(ctx, 'id'));
    const portId = param(ctx, 'portId');
    if (!g.portIds.includes(portId))
      throw new HttpError(404, `port/${portId} is not in port-group/${g.id}`);
    return { status: 200, body: portGroupPortDto(ctx.base, g.id, portId), media: MT.portGroupPort };
  });
  router.add('DELETE', `${members}/:portId`, async (ctx) => {
    const id = param(ctx, 'id');
    const portId = param(ctx, 'portId');
    await withRetry(async () => {
      await mustGet(ctx, 'port-group', id);
      const port = await ctx.store.get('port', portId);
      if (!port?.portGroupIds.includes(id))
        throw new HttpError(404, `port/${portId} is not in port-group/${id}`);
      const op = updateOp('port', port, {
        portGroupIds: port.portGroupIds.filter((g) => g !== id),
      });
      await commit(ctx, [op], { kind: 'port', id: portId });
    });
    return NO_CONTENT;
  });
}
