/**
 * Desired host state: what the Linux side of one host must look like for its share of the
 * topology (bridges, router namespaces with their links, addresses, routes and neighbors,
 * the instance ports' masters, DHCP servers and the nftables tables). Pure.
 */
import type { Issue } from '../common/index.js';
import type { Port } from '../store/index.js';
import type { HostTopology } from './topology.js';
import {
  bridgeDev,
  conntrackZone,
  idTag,
  NFT_TABLE,
  routerLinkHostDev,
  routerLinkNsDev,
  routerNamespace,
} from './names.js';
import { buildNftTables } from './nft-model.js';
import { dhcpConfig, type DesiredDhcp } from './dhcp.js';
import { networkOf } from './addr.js';

/** A veth between a subnet bridge (host end) and a router namespace (router end). */
export interface DesiredRouterLink {
  readonly routerPortId: string;
  readonly hostDev: string;
  readonly nsDev: string;
  readonly master: string;
  readonly mac?: string;
  /** `a.b.c.d/len` */
  readonly address?: string;
}

/** A route in a router namespace (`dst` is a CIDR or `default`). */
export interface DesiredRoute {
  readonly type: 'unicast' | 'blackhole' | 'unreachable';
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly metric: number;
}

/** A permanent neighbor entry in a router namespace (from the bridge ARP table). */
export interface DesiredNeighbor {
  readonly ip: string;
  readonly mac: string;
  readonly dev: string;
}

/** One router's helper namespace. */
export interface DesiredRouterNs {
  readonly ns: string;
  readonly routerId: string;
  readonly links: readonly DesiredRouterLink[];
  readonly routes: readonly DesiredRoute[];
  readonly neighbors: readonly DesiredNeighbor[];
}

/** Everything the host should hold. */
export interface DesiredHost {
  /** Linux bridges: dev → topology bridge id. */
  readonly bridges: ReadonlyMap<string, string>;
  /** Bound interfaces (`vn_<eni>`) → the bridge dev they belong to. */
  readonly slaves: ReadonlyMap<string, string>;
  readonly routerNamespaces: readonly DesiredRouterNs[];
  readonly dhcp: readonly DesiredDhcp[];
  readonly nft: ReturnType<typeof buildNftTables>;
  /** Unsupported rule fields (warning) and objects not realized yet (`not_realized`). */
  readonly issues: readonly Issue[];
}

/** Options of the planner. */
export interface DesiredOptions {
  /** Prefix of the helper namespaces. */
  readonly netnsPrefix: string;
  /** Directory of the DHCP servers' config and pid files. */
  readonly stateDir: string;
}

/** Computes the desired host state from the host's topology. */
export function desiredHost(topo: HostTopology, options: DesiredOptions): DesiredHost {
  const issues: Issue[] = [];
  const bridges = new Map<string, string>();
  for (const b of topo.bridges) bridges.set(bridgeDev(b.id), b.id);
  const slaves = new Map<string, string>();
  for (const p of topo.boundPorts) {
    if (p.interfaceName !== undefined && p.bridgeId !== undefined && p.adminStateUp) {
      slaves.set(p.interfaceName, bridgeDev(p.bridgeId));
    }
  }
  const portDevs = new Map<string, string>();
  for (const p of topo.boundPorts) {
    if (p.interfaceName !== undefined) portDevs.set(p.id, p.interfaceName);
  }
  const routerNamespaces = topo.routers.map((router) => {
    const links: DesiredRouterLink[] = [];
    for (const rp of topo.ports.values()) {
      if (rp.routerId !== router.id || rp.peerId === undefined) continue;
      const bp = topo.ports.get(rp.peerId);
      if (bp?.bridgeId === undefined || !bridges.has(bridgeDev(bp.bridgeId))) continue;
      portDevs.set(bp.id, routerLinkHostDev(rp.id));
      links.push(routerLink(rp, bridgeDev(bp.bridgeId)));
    }
    links.sort((a, b) => a.nsDev.localeCompare(b.nsDev));
    return {
      ns: routerNamespace(options.netnsPrefix, router.id),
      routerId: router.id,
      links,
      routes: routesOf(topo, router.id, links, issues),
      neighbors: neighborsOf(topo, links),
    };
  });
  for (const r of topo.routers) {
    if (r.inboundFilterId !== undefined || r.outboundFilterId !== undefined) {
      issues.push(notRealized(`router/${r.id}`, 'router filter chains (NAT, issue 8)'));
    }
  }
  const dhcp = topo.bridges.flatMap((b) => {
    const subnets = topo.dhcpSubnets.filter((d) => d.bridgeId === b.id && d.enabled);
    if (subnets.length === 0) return [];
    const ns = routerNamespaces.find((r) => r.links.some((l) => l.master === bridgeDev(b.id)));
    const link = ns?.links.find((l) => l.master === bridgeDev(b.id));
    if (!ns || !link) {
      issues.push(notRealized(`bridge/${b.id}`, 'DHCP without a router port on the bridge'));
      return [];
    }
    return [dhcpConfig(idTag(b.id), ns.ns, link.nsDev, subnets, options.stateDir)];
  });
  const zones = new Map([...bridges].map(([dev, id]) => [dev, conntrackZone(id)]));
  const nft = buildNftTables(topo, {
    portDevs,
    routerDevs: routerNamespaces.flatMap((r) => r.links.map((l) => l.hostDev)),
    routerAddrs: routerNamespaces.flatMap((r) =>
      r.links.flatMap((l) => (l.address ? [l.address.split('/')[0]!] : [])),
    ),
    zones,
    table: NFT_TABLE,
    issues,
  });
  return { bridges, slaves, routerNamespaces, dhcp, nft, issues };
}

function routerLink(rp: Port, master: string): DesiredRouterLink {
  return {
    routerPortId: rp.id,
    hostDev: routerLinkHostDev(rp.id),
    nsDev: routerLinkNsDev(rp.id),
    master,
    ...(rp.portMac !== undefined ? { mac: rp.portMac.toLowerCase() } : {}),
    ...(rp.portAddress !== undefined && rp.networkLength !== undefined
      ? { address: `${rp.portAddress}/${rp.networkLength}` }
      : {}),
  };
}

function notRealized(path: string, what: string): Issue {
  return {
    path,
    code: 'not_realized',
    message: `${what} not realized by the agent yet`,
    severity: 'warning',
  };
}

function routesOf(
  topo: HostTopology,
  routerId: string,
  links: readonly DesiredRouterLink[],
  issues: Issue[],
): DesiredRoute[] {
  const out: DesiredRoute[] = [];
  for (const r of topo.routes) {
    if (r.routerId !== routerId) continue;
    if (r.type === 'Local') continue; // the kernel adds local routes for the port addresses
    if (r.srcNetworkLength !== 0) {
      issues.push(notRealized(`route/${r.id}`, 'source-based route'));
      continue;
    }
    const dst = r.dstNetworkLength === 0 ? 'default' : `${r.dstNetworkAddr}/${r.dstNetworkLength}`;
    if (r.type === 'BlackHole' || r.type === 'Reject') {
      const type = r.type === 'BlackHole' ? 'blackhole' : 'unreachable';
      out.push({ type, dst, metric: r.weight });
      continue;
    }
    const link = links.find((l) => l.routerPortId === r.nextHopPort);
    if (!link) {
      issues.push(notRealized(`route/${r.id}`, 'route through a port not on this host (uplink)'));
      continue;
    }
    const gw =
      r.nextHopGateway !== undefined && r.nextHopGateway !== '0.0.0.0'
        ? r.nextHopGateway
        : undefined;
    if (gw === undefined && link.address !== undefined && isConnected(dst, link.address)) continue;
    out.push({
      type: 'unicast',
      dst,
      dev: link.nsDev,
      metric: r.weight,
      ...(gw ? { via: gw } : {}),
    });
  }
  return out;
}

/** True when `dst` is the network of the interface address (the kernel's connected route). */
function isConnected(dst: string, address: string): boolean {
  const [addr, len] = address.split('/') as [string, string];
  return dst === `${networkOf(addr, Number(len))}/${len}`;
}

function neighborsOf(topo: HostTopology, links: readonly DesiredRouterLink[]): DesiredNeighbor[] {
  const out: DesiredNeighbor[] = [];
  for (const e of topo.arpEntries) {
    const link = links.find((l) => l.master === bridgeDev(e.bridgeId));
    if (!link || link.address?.split('/')[0] === e.ip || link.mac === e.mac.toLowerCase()) continue;
    out.push({ ip: e.ip, mac: e.mac.toLowerCase(), dev: link.nsDev });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}
