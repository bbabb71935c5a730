/**
 * Builders shared by the per-kind mappers: router ports, bridge ports, peer links and routes,
 * with the stable keys `port:<device name>:<role>` and
 * `route:<router name>:<src>:<dst>:<role>`.
 */
import type { DesiredOf } from './types.js';
import { NONE, type TopologyBuilder } from './builder.js';
import { formatIp, type Cidr } from './ip.js';
import { SLOT } from './slots.js';

type Mutable<T> = { -readonly [P in keyof T]: T[P] };
/** A port under construction (filters and peer are filled in by the mapper). */
export type DraftPort = Mutable<DesiredOf<'port'>>;

/**
 * A deterministic, locally administered MAC for a router port, taken from its id (MidoNet
 * would pick a random one; a stable MAC keeps the .2 ARP entry and diffs stable).
 */
export function portMacFromId(id: string): string {
  return `02:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}:${id.slice(6, 8)}:${id.slice(9, 11)}`;
}

/** Adds a router port `port:<routerName>:<role>` with address `addr` on network `net`. */
export function addRouterPort(
  b: TopologyBuilder,
  owner: string,
  routerName: string,
  routerId: string,
  role: string,
  addr: string,
  net: Cidr,
  mac?: string,
): DraftPort {
  const id = b.id(`port:${routerName}:${role}`);
  const port: DraftPort = {
    id,
    owner,
    type: 'Router',
    routerId,
    adminStateUp: true,
    portAddress: addr,
    networkAddress: formatIp(net.addr),
    networkLength: net.len,
    portMac: mac ?? portMacFromId(id),
    portGroupIds: NONE,
    routeIds: SLOT,
    macEntryIds: SLOT,
    version: 0,
  };
  b.put('port', port);
  return port;
}

/** Adds a bridge port `port:<bridgeName>:<role>`. */
export function addBridgePort(
  b: TopologyBuilder,
  owner: string,
  bridgeName: string,
  bridgeId: string,
  role: string,
): DraftPort {
  const port: DraftPort = {
    id: b.id(`port:${bridgeName}:${role}`),
    owner,
    type: 'Bridge',
    bridgeId,
    adminStateUp: true,
    portGroupIds: NONE,
    routeIds: SLOT,
    macEntryIds: SLOT,
    version: 0,
  };
  b.put('port', port);
  return port;
}

/** Links two ports: both ends carry `peerId`, as the store's symmetric binding leaves them. */
export function link(a: DraftPort, z: DraftPort): void {
  a.peerId = z.id;
  z.peerId = a.id;
}

const ANY: Cidr = { addr: 0, len: 0 };

/** Adds a Normal route on a router through `port`, optionally via `gateway`. */
export function addRoute(
  b: TopologyBuilder,
  owner: string,
  routerName: string,
  routerId: string,
  dst: Cidr,
  port: string,
  role: string,
  opts: {
    readonly src?: Cidr;
    readonly gateway?: string;
    readonly weight?: number;
    /** Overrides the key, for routes whose destination is an allocated number. */
    readonly key?: string;
  } = {},
): void {
  const src = opts.src ?? ANY;
  const srcText = formatIp(src.addr);
  const dstText = formatIp(dst.addr);
  const route: Mutable<DesiredOf<'route'>> = {
    id: b.id(opts.key ?? `route:${routerName}:${srcText}/${src.len}:${dstText}/${dst.len}:${role}`),
    owner,
    routerId,
    type: 'Normal',
    srcNetworkAddr: srcText,
    srcNetworkLength: src.len,
    dstNetworkAddr: dstText,
    dstNetworkLength: dst.len,
    nextHopPort: port,
    weight: opts.weight ?? 0,
    version: 0,
  };
  if (opts.gateway !== undefined) route.nextHopGateway = opts.gateway;
  b.put('route', route);
}
