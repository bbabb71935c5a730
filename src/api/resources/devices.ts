/**
 * Routers, bridges and their ports; port linking (`/ports/{id}/link`). Router port create also
 * adds the port's LOCAL /32 route in the same transaction, as MidoNet does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Op, Port } from '../../store/index.js';
import {
  addCrud,
  commit,
  created,
  getMany,
  mustGet,
  NO_CONTENT,
  param,
  updateOp,
  withRetry,
  type ApiRouter,
  type Ctx,
  type Reply,
} from '../context.js';
import { bridgeDto, MT, portDto, portGroupPortDto, routerDto } from '../dto.js';
import { HttpError, validationFailed } from '../http.js';
import { isIpv4, validateRest, validateSmall } from '../validate.js';

/** Port fields a PUT never changes: device, binding and link have their own endpoints. */
const PORT_KEEP = [
  'type',
  'routerId',
  'bridgeId',
  'hostId',
  'interfaceName',
  'peerId',
  'portGroupIds',
];

/** Registers routers, bridges, ports and linking. */
export function addDeviceResources(router: ApiRouter): void {
  addCrud(router, { kind: 'router', path: '/routers', mt: MT.router, dto: routerDto });
  addCrud(router, { kind: 'bridge', path: '/bridges', mt: MT.bridge, dto: bridgeDto });
  addCrud(router, {
    kind: 'port',
    path: '/ports',
    mt: MT.port,
    dto: portDto,
    keep: PORT_KEEP,
    create: false,
  });
  for (const device of ['router', 'bridge'] as const) {
    const path = `/${device}s/:id`;
    router.add('GET', `${path}/ports`, async (ctx) => {
      const owner = await mustGet(ctx, device, param(ctx, 'id'));
      return portList(ctx, await getMany(ctx, 'port', owner.portIds));
    });
    router.add('GET', `${path}/peer_ports`, async (ctx) => {
      const owner = await mustGet(ctx, device, param(ctx, 'id'));
      const ports = await getMany(ctx, 'port', owner.portIds);
      const peers = ports.flatMap((p) => (p.peerId === undefined ? [] : [p.peerId]));
      return portList(ctx, await getMany(ctx, 'port', peers));
    });
  }
  router.add('POST', '/routers/:id/ports', createRouterPort);
  router.add('POST', '/bridges/:id/ports', createBridgePort);
  router.add('POST', '/ports/:id/link', link);
  router.add('DELETE', '/ports/:id/link', unlink);
  router.add('GET', '/ports/:id/port_groups', async (ctx) => {
    const port = await mustGet(ctx, 'port', param(ctx, 'id'));
    const body = port.portGroupIds.map((g) => portGroupPortDto(ctx.base, g, port.id));
    return { status: 200, body, media: MT.portGroupPort, collection: true };
  });
}

function portList(ctx: Ctx, ports: readonly Port[]): Reply {
  return {
    status: 200,
    body: ports.map((p) => portDto(ctx.base, p)),
    media: MT.port,
    collection: true,
  };
}

function checkPortType(raw: unknown, type: 'Router' | 'Bridge'): void {
  const sent = (raw as { type?: unknown } | null)?.type;
  if (sent !== undefined && sent !== null && sent !== type) {
    throw validationFailed([{ property: 'type', message: `must be ${type} for a ${type} port` }]);
  }
}

/** A random locally administered unicast MAC. */
function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

function networkOf(address: string, length: number): string {
  const n = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
  const net = (n & mask) >>> 0;
  return [24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.');
}

/** MidoNet's legacy input: `portSubnet: ["10.0.0.1/24"]` sets address and length. */
function applyPortSubnet(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null) return raw;
  const subnet = (raw as { portSubnet?: unknown }).portSubnet;
  if (!Array.isArray(subnet) || subnet.length === 0) return raw;
  if (subnet.length > 1) {
    throw validationFailed([
      { property: 'portSubnet', message: 'only one address per router port is supported' },
    ]);
  }
  const first = subnet[0];
  const m = typeof first === 'string' ? /^([\d.]+)\/(\d{1,2})$/.exec(first) : null;
  if (!m || !isIpv4(m[1]!) || Number(m[2]) > 32) {
    throw validationFailed([{ property: 'portSubnet[0]', message: 'must be an IPv4 CIDR' }]);
  }
  return { ...raw, portAddress: m[1], networkLength: Number(m[2]) };
}

async function createRouterPort(ctx: Ctx): Promise<Reply> {
  const routerId = param(ctx, 'id');
  const raw = applyPortSubnet(await ctx.body(MT.port));
  checkPortType(raw, 'Router');
  const body = validateRest('port', raw, { type: 'Router', routerId, bridgeId: undefined });
  await mustGet(ctx, 'router', routerId);
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  body['portMac'] ??= randomMac();
  const address = body['portAddress'];
  const length = body['networkLength'];
  if (typeof address === 'string' && typeof length === 'number') {
    body['networkAddress'] ??= networkOf(address, length);
  }
  const ops: Op[] = [{ op: 'create', kind: 'port', object: body as never }];
  if (typeof address === 'string') {
    const route = {
      id: randomUUID(),
      routerId,
      type: 'Local',
      srcNetworkAddr: '0.0.0.0',
      srcNetworkLength: 0,
      dstNetworkAddr: address,
      dstNetworkLength: 32,
      nextHopPort: id,
      weight: 0,
    };
    ops.push({ op: 'create', kind: 'route', object: route as never });
  }
  await commit(ctx, ops, { kind: 'router', id: routerId });
  return created(`${ctx.base}/ports/${id}`);
}

async function createBridgePort(ctx: Ctx): Promise<Reply> {
  const bridgeId = param(ctx, 'id');
  const raw = await ctx.body(MT.port);
  checkPortType(raw, 'Bridge');
  const body = validateRest('port', raw, { type: 'Bridge', bridgeId, routerId: undefined });
  await mustGet(ctx, 'bridge', bridgeId);
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  await commit(ctx, [{ op: 'create', kind: 'port', object: body as never }], {
    kind: 'bridge',
    id: bridgeId,
  });
  return created(`${ctx.base}/ports/${id}`);
}

/** `POST /ports/{id}/link {"peerId"}`: links two unlinked ports (else 409). */
async function link(ctx: Ctx): Promise<Reply> {
  const id = param(ctx, 'id');
  const { peerId } = validateSmall(await ctx.body(MT.portLink), { peerId: 'id' }) as {
    peerId: string;
  };
  if (peerId === id)
    throw validationFailed([{ property: 'peerId', message: 'cannot link a port to itself' }]);
  await withRetry(async () => {
    const port = await mustGet(ctx, 'port', id);
    const peer = await ctx.store.get('port', peerId);
    if (peer === undefined) {
      throw new HttpError(400, `port/${peerId} not found`, {
        error: 'NotFoundError',
        kind: 'port',
        id: peerId,
      });
    }
    if (port.peerId !== undefined || peer.peerId !== undefined) {
      throw new HttpError(409, 'Ports are not linkable.', { error: 'ReferenceConflictError' });
    }
    await commit(ctx, [updateOp('port', port, { peerId })], { kind: 'port', id });
  });
  return created(`${ctx.base}/ports/${id}/link`);
}

/** `DELETE /ports/{id}/link`: unlinks both ends (the binding clears the peer). */
async function unlink(ctx: Ctx): Promise<Reply> {
  const id = param(ctx, 'id');
  await withRetry(async () => {
    const port = await mustGet(ctx, 'port', id);
    if (port.peerId === undefined) return;
    await commit(ctx, [updateOp('port', port, { peerId: undefined })], { kind: 'port', id });
  });
  return NO_CONTENT;
}
