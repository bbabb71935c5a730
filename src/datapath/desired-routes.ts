/**
 * Routing of a router namespace: its routes (main table plus one table per source prefix of
 * the source-based routes), the policy rules selecting those tables, and its permanent
 * neighbors from the bridge ARP tables. Pure.
 */
import type { Issue } from '../common/index.js';
import type { HostTopology } from './topology.js';
import { bridgeDev, TRANSIT_GW } from './names.js';
import { networkOf } from './addr.js';
import type {
  DesiredNeighbor,
  DesiredRoute,
  DesiredRouterLink,
  DesiredRule,
} from './desired-types.js';
import { notRealized } from './desired-helpers.js';

/** Computes the routes and policy rules of router `routerId` over its links on this host;
 * routes through the transit use the nexthop `transitGroup` when given. */
export function routesOf(
  topo: HostTopology,
  routerId: string,
  links: readonly DesiredRouterLink[],
  isRouterHost: boolean,
  issues: Issue[],
  transitGroup?: number,
): { routes: DesiredRoute[]; rules: DesiredRule[] } {
  const out: DesiredRoute[] = [];
  const transit = links.find((l) => l.kind === 'transit');
  const own = routerOwnRoutes(topo, routerId);
  // source-based routes (route-table entries) go to one table per source prefix, looked up
  // after the main table (which holds the routes of any source)
  const sources = [
    ...new Set(
      own
        .filter((r) => r.srcNetworkLength !== 0)
        .map((r) => `${r.srcNetworkAddr}/${r.srcNetworkLength}`),
    ),
  ].sort();
  const rules = sources.map((src, i) => ({ pref: RULE_PREF + i, src, table: RULE_TABLE + i }));
  const tableOf = new Map(rules.map((r) => [r.src, r.table]));
  for (const r of own) {
    if (r.type === 'Local') continue; // the kernel adds local routes for the port addresses
    const table =
      r.srcNetworkLength === 0
        ? undefined
        : tableOf.get(`${r.srcNetworkAddr}/${r.srcNetworkLength}`);
    const t = table === undefined ? {} : { table };
    // as `ip -json route` prints it (a host route without its /32)
    const dst =
      r.dstNetworkLength === 0
        ? 'default'
        : r.dstNetworkLength === 32
          ? r.dstNetworkAddr
          : `${r.dstNetworkAddr}/${r.dstNetworkLength}`;
    if (r.type === 'BlackHole' || r.type === 'Reject') {
      const type = r.type === 'BlackHole' ? 'blackhole' : 'unreachable';
      out.push({ type, dst, metric: r.weight, ...t });
      continue;
    }
    const link = links.find((l) => l.routerPortId === r.nextHopPort);
    if (!link) {
      if (transit && !isRouterHost) {
        // a port only the router host has (uplink, metadata uplink): hand the packet to the
        // router's copy there, which routes it again with the full table (per-flow routers:
        // to the copy on one of the live gateways, by flow hash)
        out.push({
          type: 'unicast',
          dst,
          ...(transitGroup !== undefined
            ? { nhid: transitGroup }
            : { via: TRANSIT_GW, dev: transit.nsDev }),
          metric: r.weight,
          ...t,
        });
      } else {
        issues.push(notRealized(`route/${r.id}`, 'route through a port not on this host'));
      }
      continue;
    }
    const gw =
      r.nextHopGateway !== undefined && r.nextHopGateway !== '0.0.0.0'
        ? r.nextHopGateway
        : undefined;
    if (
      gw === undefined &&
      table === undefined &&
      link.address !== undefined &&
      isConnected(dst, link.address)
    )
      continue;
    out.push({
      type: 'unicast',
      dst,
      dev: link.nsDev,
      metric: r.weight,
      ...(gw ? { via: gw } : {}),
      ...t,
    });
  }
  return { routes: out, rules };
}

/** First preference and table number of the source-route rules. */
export const RULE_PREF = 32800;
export const RULE_TABLE = 100;

function routerOwnRoutes(topo: HostTopology, routerId: string): HostTopology['routes'] {
  return topo.routes
    .filter((r) => r.routerId === routerId)
    .slice()
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** True when `dst` is the network of the interface address (the kernel's connected route). */
function isConnected(dst: string, address: string): boolean {
  const [addr, len] = address.split('/') as [string, string];
  return dst === `${networkOf(addr, Number(len))}/${len}`;
}

/** Computes the permanent neighbors of a router namespace from the bridge ARP tables. */
export function neighborsOf(
  topo: HostTopology,
  links: readonly DesiredRouterLink[],
): DesiredNeighbor[] {
  const out: DesiredNeighbor[] = [];
  for (const e of topo.arpEntries) {
    const link = links.find((l) => l.master === bridgeDev(e.bridgeId));
    if (!link || link.address?.split('/')[0] === e.ip || link.mac === e.mac.toLowerCase()) continue;
    out.push({ ip: e.ip, mac: e.mac.toLowerCase(), dev: link.nsDev });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}
