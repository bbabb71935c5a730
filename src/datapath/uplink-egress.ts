/**
 * Private-source egress at the uplink (as AWS's internet gateway does): on a gateway host,
 * the core router's namespace drops every forwarded packet that leaves through a bound
 * uplink with a source address the core router has no route back into the cloud for. The
 * allowed sources are the core router's host routes (/32) through its internal ports (the
 * elastic IPs and NAT gateway public addresses, already translated by the VPC and NAT
 * gateway routers) and the core router's own port addresses; an instance without a public
 * address in a subnet routed to the internet gateway would otherwise leak its private
 * source address to the upstream network. Pure.
 */
import type { Router } from '../store/index.js';
import type { NftChainSpec, NftSetSpec, NftTableSpec } from './nft.js';
import { CORE_ROUTER, isBoundRouterPort, type HostTopology } from './topology.js';

/** The set of source addresses allowed out of the uplinks. */
export const UPLINK_SOURCES = 'uplink_sources';

/** The base chain that drops the rest (forward hook, filter). */
export const UPLINK_EGRESS_CHAIN = 'eucanetd-uplink-out';

/**
 * The core router's table with the uplink egress filter added (on the host's bound uplinks);
 * any other router's table, or a core router without a bound uplink here, is returned as is.
 */
export function withUplinkEgress(
  table: NftTableSpec,
  router: Router,
  topo: HostTopology,
  devOf: (portId: string) => string | undefined,
): NftTableSpec {
  if (router.name !== CORE_ROUTER) return table;
  const uplinks = new Set<string>();
  const devs: string[] = [];
  for (const p of topo.ports.values()) {
    if (p.routerId !== router.id || !isBoundRouterPort(p)) continue;
    uplinks.add(p.id);
    const dev = p.hostId === topo.hostId ? devOf(p.id) : undefined;
    if (dev !== undefined) devs.push(dev);
  }
  if (devs.length === 0) return table;
  const allowed = new Set<string>();
  for (const p of topo.ports.values()) {
    if (p.routerId === router.id && p.portAddress !== undefined) allowed.add(p.portAddress);
  }
  for (const r of topo.routes) {
    if (r.routerId !== router.id || r.dstNetworkLength !== 32 || r.type !== 'Normal') continue;
    if (r.nextHopPort === undefined || uplinks.has(r.nextHopPort)) continue;
    allowed.add(r.dstNetworkAddr);
  }
  const set: NftSetSpec = {
    name: UPLINK_SOURCES,
    type: 'ipv4_addr',
    isVerdictMap: false,
    elements: new Map([...allowed].sort().map((a) => [a, ''])),
  };
  const chain: NftChainSpec = {
    name: UPLINK_EGRESS_CHAIN,
    hook: { hook: 'forward', priority: 0 },
    rules: [
      `oifname { ${devs
        .sort()
        .map((d) => JSON.stringify(d))
        .join(', ')} } ip saddr != @${UPLINK_SOURCES} drop`,
    ],
  };
  return {
    ...table,
    sets: [...table.sets, set].sort((a, b) => a.name.localeCompare(b.name)),
    chains: [...table.chains, chain],
  };
}
