/**
 * The part of the topology one host realizes, read from the store in one pass: the bridge
 * ports bound to the host, their bridges, the routers those bridges link to, and the chains,
 * rules and IP address groups reachable from the filters of those objects.
 */
import type {
  Bridge,
  Chain,
  IpAddrGroup,
  Port,
  Route,
  ObjectOf,
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
  readonly dhcpSubnets: readonly ObjectOf<'dhcp-subnet'>[];
  readonly arpEntries: readonly ObjectOf<'arp-entry'>[];
  readonly macEntries: readonly ObjectOf<'mac-entry'>[];
}

function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Reads the host's share of the topology from a store. Each kind is listed once and indexed
 * in memory (one scan per kind, not one filtered scan per bridge or chain).
 */
export async function readHostTopology(
  reader: TopologyReader,
  hostId: string,
): Promise<HostTopology> {
  const [allPorts, allBridges, allRouters, allRoutes, allChains, allRules, allGroups] =
    await Promise.all([
      reader.list('port'),
      reader.list('bridge'),
      reader.list('router'),
      reader.list('route'),
      reader.list('chain'),
      reader.list('rule'),
      reader.list('ip-addr-group'),
    ]);
  const [allDhcp, allArp, allMac] = await Promise.all([
    reader.list('dhcp-subnet'),
    reader.list('arp-entry'),
    reader.list('mac-entry'),
  ]);
  const portById = new Map(allPorts.map((p) => [p.id, p]));
  const portsByBridge = groupBy(allPorts, (p) => p.bridgeId);
  const bridgeById = new Map(allBridges.map((b) => [b.id, b]));
  const routerById = new Map(allRouters.map((r) => [r.id, r]));
  const boundPorts = allPorts.filter(
    (p) =>
      p.hostId === hostId &&
      p.type === 'Bridge' &&
      p.bridgeId !== undefined &&
      p.interfaceName !== undefined,
  );
  const ports = new Map<string, Port>();
  const bridges: Bridge[] = [];
  const routerIds = new Set<string>();
  const bridgeIds = [...new Set(boundPorts.map((p) => p.bridgeId as string))].sort();
  for (const bridgeId of bridgeIds) {
    const bridge = bridgeById.get(bridgeId);
    if (!bridge) continue;
    bridges.push(bridge);
    for (const p of portsByBridge.get(bridgeId) ?? []) {
      ports.set(p.id, p);
      const peer = p.peerId === undefined ? undefined : portById.get(p.peerId);
      if (peer?.type === 'Router' && peer.routerId !== undefined) {
        ports.set(peer.id, peer);
        routerIds.add(peer.routerId);
      }
    }
  }
  const inBridges = (x: { bridgeId: string }): boolean => bridgeIds.includes(x.bridgeId);
  const routers = [...routerIds]
    .sort()
    .flatMap((id) => (routerById.has(id) ? [routerById.get(id)!] : []));
  const routes = allRoutes.filter((r) => routerIds.has(r.routerId));
  const { chains, rules, ipAddrGroups } = closeChains(
    [
      ...bridges.flatMap((b) => [b.inboundFilterId, b.outboundFilterId]),
      ...[...ports.values()].flatMap((p) =>
        p.type === 'Bridge' ? [p.inboundFilterId, p.outboundFilterId] : [],
      ),
    ],
    new Map(allChains.map((c) => [c.id, c])),
    groupBy(allRules, (r) => r.chainId),
    new Map(allGroups.map((g) => [g.id, g])),
  );
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
    dhcpSubnets: allDhcp.filter(inBridges),
    arpEntries: allArp.filter(inBridges),
    macEntries: allMac.filter(inBridges),
  };
}

/** The chains named by `roots` and everything their rules jump to or reference. */
function closeChains(
  roots: readonly (string | undefined)[],
  allChains: ReadonlyMap<string, Chain>,
  rulesByChain: ReadonlyMap<string, readonly Rule[]>,
  allGroups: ReadonlyMap<string, IpAddrGroup>,
): {
  chains: Map<string, Chain>;
  rules: Map<string, Rule>;
  ipAddrGroups: Map<string, IpAddrGroup>;
} {
  const chains = new Map<string, Chain>();
  const rules = new Map<string, Rule>();
  const ipAddrGroups = new Map<string, IpAddrGroup>();
  const queue = roots.filter((id): id is string => id !== undefined);
  while (queue.length > 0) {
    const chainId = queue.pop() as string;
    if (chains.has(chainId)) continue;
    const chain = allChains.get(chainId);
    if (!chain) continue;
    chains.set(chainId, chain);
    for (const rule of rulesByChain.get(chainId) ?? []) {
      rules.set(rule.id, rule);
      if (rule.jumpChainId !== undefined) queue.push(rule.jumpChainId);
      for (const g of [rule.ipAddrGroupSrc, rule.ipAddrGroupDst]) {
        const group = g === undefined ? undefined : allGroups.get(g);
        if (group) ipAddrGroups.set(group.id, group);
      }
    }
  }
  return { chains, rules, ipAddrGroups };
}
