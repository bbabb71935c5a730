/**
 * The part of the topology one host realizes, read from the store in one pass: the bridge
 * ports bound to the host, their bridges, the routers those bridges link to, and the chains,
 * rules and IP address groups reachable from the filters of those objects.
 */
import type {
  ArpEntry,
  Bridge,
  Chain,
  DhcpSubnet,
  IpAddrGroup,
  MacEntry,
  Port,
  Route,
  Router,
  Rule,
  TopologyReader,
} from '../store/index.js';

/** A snapshot of what one host needs (plain data; the planner is pure over it). */
export interface HostTopology {
  readonly hostId: string;
  /** Bridge ports bound to this host (interface name set). */
  readonly boundPorts: readonly Port[];
  /** The bridges of those ports. */
  readonly bridges: readonly Bridge[];
  /** Every port of those bridges plus the router ports they are linked to. */
  readonly ports: ReadonlyMap<string, Port>;
  /** Routers linked to those bridges. */
  readonly routers: readonly Router[];
  readonly routes: readonly Route[];
  readonly chains: ReadonlyMap<string, Chain>;
  readonly rules: ReadonlyMap<string, Rule>;
  readonly ipAddrGroups: ReadonlyMap<string, IpAddrGroup>;
  readonly dhcpSubnets: readonly DhcpSubnet[];
  readonly arpEntries: readonly ArpEntry[];
  readonly macEntries: readonly MacEntry[];
}

/** Reads the host's share of the topology from a store. */
export async function readHostTopology(
  reader: TopologyReader,
  hostId: string,
): Promise<HostTopology> {
  const boundPorts = (await reader.list('port', { hostId })).filter(
    (p) => p.type === 'Bridge' && p.bridgeId !== undefined && p.interfaceName !== undefined,
  );
  const ports = new Map<string, Port>();
  const bridges: Bridge[] = [];
  const bridgeIds = [...new Set(boundPorts.map((p) => p.bridgeId as string))].sort();
  const routerIds = new Set<string>();
  const dhcpSubnets: DhcpSubnet[] = [];
  const arpEntries: ArpEntry[] = [];
  const macEntries: MacEntry[] = [];
  for (const bridgeId of bridgeIds) {
    const bridge = await reader.get('bridge', bridgeId);
    if (!bridge) continue;
    bridges.push(bridge);
    for (const p of await reader.list('port', { bridgeId })) {
      ports.set(p.id, p);
      if (p.peerId === undefined) continue;
      const peer = await reader.get('port', p.peerId);
      if (peer?.type === 'Router' && peer.routerId !== undefined) {
        ports.set(peer.id, peer);
        routerIds.add(peer.routerId);
      }
    }
    dhcpSubnets.push(...(await reader.list('dhcp-subnet', { bridgeId })));
    arpEntries.push(...(await reader.list('arp-entry', { bridgeId })));
    macEntries.push(...(await reader.list('mac-entry', { bridgeId })));
  }
  const routers: Router[] = [];
  const routes: Route[] = [];
  for (const routerId of [...routerIds].sort()) {
    const router = await reader.get('router', routerId);
    if (!router) continue;
    routers.push(router);
    routes.push(...(await reader.list('route', { routerId })));
  }
  const { chains, rules, ipAddrGroups } = await readChains(reader, [
    ...bridges.flatMap((b) => [b.inboundFilterId, b.outboundFilterId]),
    ...[...ports.values()].flatMap((p) =>
      p.type === 'Bridge' ? [p.inboundFilterId, p.outboundFilterId] : [],
    ),
  ]);
  return {
    hostId,
    boundPorts,
    bridges,
    ports,
    routers,
    routes,
    chains,
    rules,
    ipAddrGroups,
    dhcpSubnets,
    arpEntries,
    macEntries,
  };
}

/** Reads the chains named by `roots` and everything their rules jump to or reference. */
async function readChains(
  reader: TopologyReader,
  roots: readonly (string | undefined)[],
): Promise<{
  chains: Map<string, Chain>;
  rules: Map<string, Rule>;
  ipAddrGroups: Map<string, IpAddrGroup>;
}> {
  const chains = new Map<string, Chain>();
  const rules = new Map<string, Rule>();
  const ipAddrGroups = new Map<string, IpAddrGroup>();
  const queue = roots.filter((id): id is string => id !== undefined);
  while (queue.length > 0) {
    const chainId = queue.pop() as string;
    if (chains.has(chainId)) continue;
    const chain = await reader.get('chain', chainId);
    if (!chain) continue;
    chains.set(chainId, chain);
    for (const rule of await reader.list('rule', { chainId })) {
      rules.set(rule.id, rule);
      if (rule.jumpChainId !== undefined) queue.push(rule.jumpChainId);
      for (const g of [rule.ipAddrGroupSrc, rule.ipAddrGroupDst]) {
        if (g === undefined || ipAddrGroups.has(g)) continue;
        const group = await reader.get('ip-addr-group', g);
        if (group) ipAddrGroups.set(g, group);
      }
    }
  }
  return { chains, rules, ipAddrGroups };
}
