/**
 * The part of the topology one host realizes, read from the store in one pass: the bridge
 * ports bound to the host, their bridges, the routers those bridges link to, and the chains,
 * rules and IP address groups reachable from the filters of those objects.
 */
import { networkOf } from './addr.js';
import { elasticIps, publicAddresses } from './elastic-ips.js';
import type {
  Bridge,
  Chain,
  Host,
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
  /** BGP peers and advertised networks of the routers above (gateway hosts speak BGP). */
  readonly bgpPeers?: readonly ObjectOf<'bgp-peer'>[];
  readonly bgpNetworks?: readonly ObjectOf<'bgp-network'>[];
  /** Underlay address of every host that has one: tunnel-zone membership first, else the
   * host object's first address (the address equal to its name when it has several). */
  readonly underlay?: ReadonlyMap<string, string>;
  /** The bridges (of `bridges`) that another host realizes too: they span hosts, so this
   * host needs their VXLAN device even when all their bound ports are local. */
  readonly sharedBridges?: ReadonlySet<string>;
  /** A host that realizes the north-south part: this host when it is a gateway, else the
   * first live gateway; undefined when the topology has no bound uplink. */
  readonly routerHostId?: string;
  /** Every gateway host (hosts of `eucart`'s bound uplink ports, in uplink port id order). */
  readonly gatewayHostIds?: readonly string[];
  /** True when every gateway speaks BGP (routers are spread over them, gateways.ts); false:
   * static-route gateways, the first live one serves everything. */
  readonly isBgpGateways?: boolean;
  /** The gateway hosts known to be alive; undefined: all of them. */
  readonly liveGatewayIds?: readonly string[];
  /** The realized routers whose north-south flows are spread over the gateways by flow hash
   * (BGP gateways, every public address an elastic IP: elastic-ips.ts), with their elastic
   * IPs (public → private). Classified from the whole store: a compute host's share lacks the
   * core router's routes and the routers' chains. */
  readonly perFlowRouters?: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** What `readHostTopology` tells a liveness source besides the candidates. */
export interface LivenessContext {
  /** Every host object of the store (with the agents' stored heartbeats). */
  readonly hosts: readonly Host[];
  /** This host's id. */
  readonly me: string;
}

/** Where the agent learns which gateway hosts are alive (agent heartbeats; gateways.ts). */
export interface GatewayLiveness {
  /** Host ids (of `candidates`) whose agents are alive now; `context`: the store's host
   * objects (their stored heartbeats) and this host's id. */
  liveHosts(candidates: readonly string[], context?: LivenessContext): Promise<ReadonlySet<string>>;
  /** Sees every topology the agent read (who the gateways are, their underlay addresses). */
  observe?(topo: HostTopology): void;
  /** Calls `onChange` when the live set changes (the agent runs a pass); returns an
   * unsubscribe function. */
  subscribe?(onChange: () => void): () => void;
}

/** The router whose bound uplink ports elect the router host (docs/mapping.md). */
export const CORE_ROUTER = 'eucart';

/** The router whose bound port is the metadata endpoint (docs/mapping.md). */
export const METADATA_ROUTER = 'eucamdrt';

/** True when the port is a router port bound to a host interface (uplink, metadata port). */
export function isBoundRouterPort(p: Port): boolean {
  return p.type === 'Router' && p.hostId !== undefined && p.interfaceName !== undefined;
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
  liveness?: GatewayLiveness,
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
  const [allDhcp, allArp, allMac, allHosts, allZones, allPeers, allNetworks] = await Promise.all([
    reader.list('dhcp-subnet'),
    reader.list('arp-entry'),
    reader.list('mac-entry'),
    reader.list('host'),
    reader.list('tunnel-zone'),
    reader.list('bgp-peer'),
    reader.list('bgp-network'),
  ]);
  const portById = new Map(allPorts.map((p) => [p.id, p]));
  const portsByBridge = groupBy(allPorts, (p) => p.bridgeId);
  const portsByRouter = groupBy(allPorts, (p) => p.routerId);
  const bridgeById = new Map(allBridges.map((b) => [b.id, b]));
  const routerById = new Map(allRouters.map((r) => [r.id, r]));
  const { hosts: gatewayHostIds, isBgp: isBgpGateways } = gatewayHosts(
    allPorts,
    routerById,
    allPeers,
  );
  const live = liveness
    ? await liveness.liveHosts(gatewayHostIds, { hosts: allHosts, me: hostId })
    : undefined;
  const liveGatewayIds = live ? gatewayHostIds.filter((h) => live.has(h)) : undefined;
  const isRouterHost = gatewayHostIds.includes(hostId);
  const routerHostId = isRouterHost ? hostId : (liveGatewayIds?.[0] ?? gatewayHostIds[0]);
  const boundPorts = allPorts.filter(
    (p) =>
      p.hostId === hostId &&
      p.type === 'Bridge' &&
      p.bridgeId !== undefined &&
      p.interfaceName !== undefined,
  );
  const graph = { portById, portsByBridge, portsByRouter, bridgeById, routerById };
  // a gateway host realizes everything reachable from the bound uplinks (docs/datapath.md)
  const uplinkRouters = allPorts.flatMap((p) =>
    isBoundRouterPort(p) && p.routerId !== undefined ? [p.routerId] : [],
  );
  const boundBridgesOf = (host: (h: string) => boolean): string[] =>
    allPorts.flatMap((p) =>
      p.hostId !== undefined &&
      host(p.hostId) &&
      p.type === 'Bridge' &&
      p.bridgeId !== undefined &&
      p.interfaceName !== undefined
        ? [p.bridgeId]
        : [],
    );
  const { bridgeIds, routerIds } = realizedBy(
    graph,
    boundPorts.map((p) => p.bridgeId!),
    isRouterHost ? uplinkRouters : [],
    isRouterHost,
  );
  // Which of those bridges another host realizes too (they span hosts): what the other
  // hosts' bound ports reach (one walk from all of them is the union of their walks), and
  // what the other gateway hosts reach from the uplinks.
  const elsewhere = realizedBy(
    graph,
    boundBridgesOf((h) => h !== hostId),
    [],
    false,
  ).bridgeIds;
  const otherGateways = new Set(gatewayHostIds.filter((h) => h !== hostId));
  if (otherGateways.size > 0) {
    const ofGateways = realizedBy(
      graph,
      boundBridgesOf((h) => otherGateways.has(h)),
      uplinkRouters,
      true,
    ).bridgeIds;
    for (const id of ofGateways) elsewhere.add(id);
  }
  const sharedBridges = new Set([...bridgeIds].filter((id) => elsewhere.has(id)));
  const ports = new Map<string, Port>();
  const sortedBridgeIds = [...bridgeIds].sort();
  const bridges = sortedBridgeIds.map((id) => bridgeById.get(id)!);
  for (const id of sortedBridgeIds) for (const p of portsByBridge.get(id) ?? []) ports.set(p.id, p);
  const routers = [...routerIds].sort().map((id) => routerById.get(id)!);
  for (const r of routers) for (const p of portsByRouter.get(r.id) ?? []) ports.set(p.id, p);
  const inBridges = (x: { bridgeId: string }): boolean => bridgeIds.has(x.bridgeId);
  const routes = allRoutes.filter((r) => routerIds.has(r.routerId));
  const chainById = new Map(allChains.map((c) => [c.id, c]));
  const groupById = new Map(allGroups.map((g) => [g.id, g]));
  const perFlowRouters = new Map<string, ReadonlyMap<string, string>>();
  if (isBgpGateways && gatewayHostIds.length > 0) {
    const view = {
      routers: allRouters,
      ports: portById,
      routes: allRoutes,
      chains: chainById,
      rules: new Map(allRules.map((r) => [r.id, r])),
      ipAddrGroups: groupById,
    };
    const pub = publicAddresses(view);
    for (const r of routers) {
      if (r.name === CORE_ROUTER) continue;
      const eips = elasticIps(view, r.id, pub.get(r.id));
      if (eips) perFlowRouters.set(r.id, eips);
    }
  }
  const { chains, rules, ipAddrGroups } = closeChains(
    [
      ...bridges.flatMap((b) => [b.inboundFilterId, b.outboundFilterId]),
      ...[...ports.values()].flatMap((p) =>
        p.type === 'Bridge' || isRouterHost ? [p.inboundFilterId, p.outboundFilterId] : [],
      ),
      ...(isRouterHost
        ? routers.flatMap((r) => [
            r.localRedirectChainId,
            r.inboundFilterId,
            r.forwardChainId,
            r.outboundFilterId,
          ])
        : []),
    ],
    chainById,
    groupBy(allRules, (r) => r.chainId),
    groupById,
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
    bgpPeers: allPeers.filter((p) => routerIds.has(p.routerId)),
    bgpNetworks: allNetworks.filter((n) => routerIds.has(n.routerId)),
    underlay: underlayAddresses(allHosts, allZones),
    sharedBridges,
    ...(routerHostId !== undefined ? { routerHostId } : {}),
    gatewayHostIds,
    isBgpGateways,
    ...(liveGatewayIds ? { liveGatewayIds } : {}),
    perFlowRouters,
  };
}

/** The indexes `realizedBy` walks. */
interface TopologyGraph {
  readonly portById: ReadonlyMap<string, Port>;
  readonly portsByBridge: ReadonlyMap<string, readonly Port[]>;
  readonly portsByRouter: ReadonlyMap<string, readonly Port[]>;
  readonly bridgeById: ReadonlyMap<string, Bridge>;
  readonly routerById: ReadonlyMap<string, Router>;
}

/**
 * The bridges and routers a host realizes, walking the graph from what is bound there: the
 * bridges of its bound ports (`bridges`), a copy of every router linked to them and the
 * routers' other subnet bridges (those with a VNI), transitively; from the routers of its
 * bound uplinks (`routers`, the router host) every bridge reachable (`anyBridge`).
 */
function realizedBy(
  graph: TopologyGraph,
  bridges: readonly string[],
  routers: readonly string[],
  anyBridge: boolean,
): { bridgeIds: Set<string>; routerIds: Set<string> } {
  const { portById, portsByBridge, portsByRouter, bridgeById, routerById } = graph;
  const bridgeIds = new Set<string>();
  const routerIds = new Set<string>();
  const queue: { kind: 'bridge' | 'router'; id: string }[] = [
    ...bridges.map((id) => ({ kind: 'bridge' as const, id })),
    ...routers.map((id) => ({ kind: 'router' as const, id })),
  ];
  while (queue.length > 0) {
    const { kind, id } = queue.pop()!;
    if (kind === 'bridge') {
      if (bridgeIds.has(id) || !bridgeById.has(id)) continue;
      bridgeIds.add(id);
      for (const p of portsByBridge.get(id) ?? []) {
        const peer = p.peerId === undefined ? undefined : portById.get(p.peerId);
        if (peer?.type === 'Router' && peer.routerId !== undefined)
          queue.push({ kind: 'router', id: peer.routerId });
      }
    } else {
      if (routerIds.has(id) || !routerById.has(id)) continue;
      routerIds.add(id);
      for (const p of portsByRouter.get(id) ?? []) {
        const peer = p.peerId === undefined ? undefined : portById.get(p.peerId);
        const bridge = peer?.bridgeId === undefined ? undefined : bridgeById.get(peer.bridgeId);
        if (bridge && (anyBridge || bridge.vni !== undefined))
          queue.push({ kind: 'bridge', id: bridge.id });
      }
    }
  }
  return { bridgeIds, routerIds };
}

/** The hosts of the core router's bound uplink ports (the gateway hosts), sorted. */
function gatewayHosts(
  ports: readonly Port[],
  routers: ReadonlyMap<string, Router>,
  peers: readonly ObjectOf<'bgp-peer'>[],
): { hosts: string[]; isBgp: boolean } {
  const uplinks = ports
    .filter(
      (p) =>
        isBoundRouterPort(p) &&
        p.routerId !== undefined &&
        routers.get(p.routerId)?.name === CORE_ROUTER,
    )
    .sort((a, b) => a.id.localeCompare(b.id));
  const hosts = [...new Set(uplinks.map((p) => p.hostId!))];
  const speaks = (host: string): boolean =>
    uplinks.some(
      (u) =>
        u.hostId === host &&
        routers.get(u.routerId!)?.asNumber !== undefined &&
        peers.some((peer) => peer.routerId === u.routerId && isOnNetwork(peer.address, u)),
    );
  return { hosts, isBgp: hosts.length > 0 && hosts.every(speaks) };
}

function isOnNetwork(addr: string, port: Port): boolean {
  if (port.portAddress === undefined || port.networkLength === undefined) return false;
  return networkOf(addr, port.networkLength) === networkOf(port.portAddress, port.networkLength);
}

/** hostId → underlay address (tunnel-zone membership wins over the host's own addresses). */
function underlayAddresses(
  hosts: readonly ObjectOf<'host'>[],
  zones: readonly ObjectOf<'tunnel-zone'>[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of hosts) {
    const addr = h.addresses.includes(h.name) ? h.name : h.addresses[0];
    if (addr !== undefined) out.set(h.id, addr);
  }
  for (const z of [...zones].sort((a, b) => a.id.localeCompare(b.id))) {
    for (const m of z.hosts) out.set(m.hostId, m.ipAddress);
  }
  return out;
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
