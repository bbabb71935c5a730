/**
 * Gateway hosts (several router hosts). Every host with a bound uplink port of the core router
 * is a gateway: it realizes the whole north-south part (every router, with the router filters
 * and NAT) and its own uplinks. Each distributed router (VPC router, NAT gateway router) is
 * served by one live gateway, chosen by rendezvous hashing of the router id over the live
 * gateways: compute hosts send that router's north-south traffic to it, and it advertises the
 * router's public /32 addresses by BGP, so both directions of every flow of a public address
 * (elastic IP, NAT gateway) cross the same gateway and its conntrack state. When a gateway
 * dies only the routers it served move (to the next-highest score); when it returns they move
 * back. Pure, except for the liveness source the agent is given.
 */
import type { Port, Route } from '../store/index.js';
import { shortHash } from './names.js';
import type { GatewayLiveness, HostTopology } from './topology.js';

export type { GatewayLiveness } from './topology.js';

/** Liveness when nothing reports it: every gateway is taken as alive (no failover). */
export const ALL_LIVE: GatewayLiveness = {
  liveHosts: (candidates) => Promise.resolve(new Set(candidates)),
};

/** True when this host realizes the north-south part (it has a bound core uplink). */
export function isGatewayHost(topo: HostTopology): boolean {
  return (topo.gatewayHostIds ?? []).includes(topo.hostId);
}

/**
 * The gateway serving a router. BGP gateways: the live gateway with the highest rendezvous
 * score (`shortHash(router|host)`). Static-route gateways (the upstream routes the public range
 * to one gateway's address): the first live gateway in uplink port order, for every router.
 * Every gateway counts when none is known to be alive (a guess beats dropping). Undefined when
 * there is no gateway.
 */
export function servingGateway(topo: HostTopology, routerId: string): string | undefined {
  const all = topo.gatewayHostIds ?? [];
  const live = all.filter((h) => topo.liveGatewayIds?.includes(h) ?? true);
  if (topo.isBgpGateways !== true) return live[0] ?? all[0];
  let best: string | undefined;
  let bestScore = -1;
  for (const h of live.length > 0 ? live : all) {
    const score = parseInt(shortHash(`${routerId}|${h}`), 16);
    if (score > bestScore || (score === bestScore && best !== undefined && h < best)) {
      best = h;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The public /32 addresses this gateway advertises: the core router's host routes through its
 * internal port whose next hop is the uplink address of a router this gateway serves (elastic
 * IPs of a VPC, the public address of a NAT gateway).
 */
export function servedPublicRoutes(topo: HostTopology, coreRouterId: string): string[] {
  const routerOfAddress = new Map<string, string>();
  for (const p of topo.ports.values()) {
    if (p.type === 'Router' && p.routerId !== undefined && p.portAddress !== undefined)
      routerOfAddress.set(p.portAddress, p.routerId);
  }
  const out = new Set<string>();
  for (const r of topo.routes) {
    if (!isPublicHostRoute(r, coreRouterId, topo.ports)) continue;
    const router = routerOfAddress.get(r.nextHopGateway!);
    if (router !== undefined && servingGateway(topo, router) === topo.hostId)
      out.add(`${r.dstNetworkAddr}/32`);
  }
  return [...out];
}

function isPublicHostRoute(
  r: Route,
  coreRouterId: string,
  ports: ReadonlyMap<string, Port>,
): boolean {
  if (r.routerId !== coreRouterId || r.dstNetworkLength !== 32 || r.type !== 'Normal') return false;
  if (r.nextHopGateway === undefined || r.nextHopGateway === '0.0.0.0') return false;
  const port = r.nextHopPort === undefined ? undefined : ports.get(r.nextHopPort);
  // through the internal (eucabr-facing) port, not an uplink
  return port !== undefined && port.hostId === undefined;
}
