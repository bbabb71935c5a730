/**
 * Gateway hosts (several router hosts). Every host with a bound uplink port of the core router
 * is a gateway: it realizes the whole north-south part (every router, with the router filters
 * and NAT) and its own uplinks. A distributed router whose public addresses are all elastic IPs
 * (stateless 1:1 NAT on every gateway) is _per-flow_: compute hosts spread its north-south
 * flows over the live gateways (a resilient nexthop group) and every gateway advertises its
 * /32s. Any other distributed router (a NAT gateway router: stateful many-to-one SNAT) is
 * _pinned_: served by one live gateway, chosen by rendezvous hashing of the router id over the
 * live gateways; compute hosts send that router's north-south traffic to it and only it
 * advertises the router's public /32s, so both directions of every flow cross the same gateway
 * and its conntrack state. When a gateway dies only the routers it served move (to the
 * next-highest score); when it returns they move back. Pure, except for the liveness source
 * the agent is given.
 */
import { publicAddresses } from './elastic-ips.js';
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
 * True when the router's north-south flows are spread over the live gateways by flow hash
 * (BGP gateways, and every public address of the router is an elastic IP that every gateway
 * translates statelessly: elastic-ips.ts, classified by `readHostTopology`); false when it is
 * pinned to its serving gateway (a NAT gateway's stateful many-to-one SNAT, or static-route
 * gateways).
 */
export function isPerFlowRouter(topo: HostTopology, routerId: string): boolean {
  return topo.perFlowRouters?.has(routerId) ?? false;
}

/**
 * The public /32 addresses this gateway advertises: those of every per-flow router (each live
 * gateway advertises every elastic IP, the upstream spreads them by its own ECMP) and those of
 * the pinned routers this gateway serves (a NAT gateway's public address).
 */
export function servedPublicRoutes(topo: HostTopology): string[] {
  const pub = publicAddresses(topo);
  const out = new Set<string>();
  for (const [routerId, p] of pub) {
    if (isPerFlowRouter(topo, routerId) || servingGateway(topo, routerId) === topo.hostId)
      for (const a of p.addresses) out.add(`${a}/32`);
  }
  return [...out];
}
