/**
 * Desired host state: what the Linux side of one host must look like for its share of the
 * topology (bridges, router namespaces with their links, addresses, routes and neighbors,
 * the instance ports' masters, DHCP servers and the nftables tables). Pure.
 */
import type { Issue } from '../common/index.js';
import { CORE_ROUTER, isBoundRouterPort, METADATA_ROUTER, type HostTopology } from './topology.js';
import {
  bridgeDev,
  conntrackZone,
  derivedMac,
  idTag,
  NFT_TABLE,
  routerLinkHostDev,
  routerNamespace,
  transitDev,
  transitGwMac,
  transitHop,
  transitVni,
  TRANSIT_GROUP_ID,
  TRANSIT_GW,
  TRANSIT_TWIN_OFFSET,
  TRANSIT_LOCAL,
} from './names.js';
import { buildNftTables } from './nft-model.js';
import { buildRouterNft } from './router-nft.js';
import { dhcpConfig } from './dhcp.js';
import type {
  DesiredFdb,
  DesiredHost,
  DesiredNeighbor,
  DesiredNexthop,
  DesiredOptions,
  DesiredPortFdb,
  DesiredProcess,
  DesiredRouterLink,
  DesiredRouterNs,
} from './desired-types.js';
import { notRealized, routerLink } from './desired-helpers.js';
import { neighborsOf, routesOf } from './desired-routes.js';
import { metadataEndpoint } from './desired-metadata.js';
import { overlayOf } from './desired-overlay.js';
import { withUplinkEgress } from './uplink-egress.js';
import { bgpSpeaker, bgpSpec } from './bgp.js';
import { isGatewayHost, isPerFlowRouter, servedPublicRoutes, servingGateway } from './gateways.js';
import { publicAddresses, withElasticIps } from './elastic-ips.js';

export type {
  DesiredFdb,
  DesiredHost,
  DesiredNeighbor,
  DesiredNexthop,
  DesiredOptions,
  DesiredPortFdb,
  DesiredProcess,
  DesiredRoute,
  DesiredRouterLink,
  DesiredRouterNs,
  DesiredRule,
  DesiredVxlan,
} from './desired-types.js';
export { METADATA_IP, metadataMap } from './desired-metadata.js';
export { RULE_PREF, RULE_TABLE } from './desired-routes.js';

/** Computes the desired host state from the host's topology. */
export function desiredHost(topo: HostTopology, options: DesiredOptions): DesiredHost {
  const issues: Issue[] = [];
  const bridges = new Map<string, string>();
  for (const b of topo.bridges) bridges.set(bridgeDev(b.id), b.id);
  const slaves = new Map<string, string>();
  const portFdb: DesiredPortFdb[] = [];
  for (const p of topo.boundPorts) {
    if (p.interfaceName !== undefined && p.bridgeId !== undefined && p.adminStateUp) {
      slaves.set(p.interfaceName, bridgeDev(p.bridgeId));
      for (const m of topo.macEntries) {
        if (m.portId === p.id && m.bridgeId === p.bridgeId)
          portFdb.push({ mac: m.macAddr.toLowerCase(), dev: p.interfaceName });
      }
    }
  }
  portFdb.sort((a, b) => a.dev.localeCompare(b.dev) || a.mac.localeCompare(b.mac));
  const portDevs = new Map<string, string>();
  for (const p of topo.boundPorts) {
    if (p.interfaceName !== undefined) portDevs.set(p.id, p.interfaceName);
  }
  const me = topo.hostId;
  const isRouterHost = isGatewayHost(topo);
  const underlay = topo.underlay ?? new Map<string, string>();
  const vniBridges = new Set(topo.bridges.filter((b) => b.vni !== undefined).map((b) => b.id));
  const routerNamespaces: DesiredRouterNs[] = [];
  const processes: DesiredProcess[] = [];
  const files: { path: string; content: string }[] = [];
  const pub = publicAddresses(topo);
  for (const router of topo.routers) {
    const links: DesiredRouterLink[] = [];
    const ns = routerNamespace(options.netnsPrefix, router.id);
    // a compute host's copy hands north-south traffic to the live gateways by flow hash
    // (per-flow routers), else to the gateway serving the router
    const perFlow = isPerFlowRouter(topo, router.id);
    const gateway = isRouterHost || perFlow ? undefined : servingGateway(topo, router.id);
    const hops = isRouterHost || !perFlow ? [] : transitHops(topo, router.id);
    const routerHostAddr = gateway === undefined ? undefined : underlay.get(gateway);
    let isDistributed = false;
    for (const rp of topo.ports.values()) {
      if (rp.routerId !== router.id) continue;
      const bp = rp.peerId === undefined ? undefined : topo.ports.get(rp.peerId);
      if (bp?.bridgeId !== undefined && bridges.has(bridgeDev(bp.bridgeId))) {
        portDevs.set(bp.id, routerLinkHostDev(rp.id));
        links.push(routerLink(rp, bridgeDev(bp.bridgeId)));
        if (vniBridges.has(bp.bridgeId)) isDistributed = true;
      } else if (
        isRouterHost &&
        isBoundRouterPort(rp) &&
        // every gateway holds a metadata endpoint: it serves the routers it serves
        (rp.hostId === me || router.name === METADATA_ROUTER)
      ) {
        if (router.name === METADATA_ROUTER) {
          const md = metadataEndpoint(topo, router, rp, ns, options, issues);
          if (md) {
            links.push(md.link);
            routerNamespaces.push(md.ns);
            processes.push(...md.processes);
            files.push(...md.files);
          }
        } else {
          links.push({
            ...routerLink(rp, ''),
            kind: 'macvlan',
            hostDev: rp.interfaceName!,
          });
        }
      }
    }
    let fdb: DesiredFdb[] = [];
    const extraNeighbors: DesiredNeighbor[] = [];
    let nexthops: DesiredNexthop[] = [];
    if (isDistributed && (isRouterHost || routerHostAddr !== undefined || hops.length > 0)) {
      const dev = transitDev(router.id);
      links.push({
        routerPortId: `transit:${router.id}`,
        kind: 'transit',
        hostDev: '',
        nsDev: dev,
        master: '',
        vni: transitVni(router.id),
        mac: isRouterHost ? transitGwMac(router.id, me) : derivedMac(`transit:${me}:${router.id}`),
        address: `${isRouterHost ? TRANSIT_GW : TRANSIT_LOCAL}/31`,
      });
      if (hops.length > 0) {
        fdb = hops.map((h) => ({ mac: h.mac, dev, dst: h.dst }));
        extraNeighbors.push(...hops.map((h) => ({ ip: h.via, mac: h.mac, dev })));
        // two nexthops per gateway (a twin with the same address): the kernel tracks bucket
        // use only in a group of two or more, so with one live gateway left its flows' buckets
        // would look idle and move when another gateway returns
        const ids = hops.flatMap((h) => [h.id, h.id + TRANSIT_TWIN_OFFSET]);
        nexthops = [
          ...hops.flatMap((h) => [
            { id: h.id, via: h.via, dev },
            { id: h.id + TRANSIT_TWIN_OFFSET, via: h.via, dev },
          ]),
          { id: TRANSIT_GROUP_ID, group: ids.sort((a, b) => a - b) },
        ].sort((a, b) => a.id - b.id);
      } else if (!isRouterHost) {
        const gwMac = transitGwMac(router.id, gateway!);
        fdb = [{ mac: gwMac, dev, dst: routerHostAddr! }];
        extraNeighbors.push({ ip: TRANSIT_GW, mac: gwMac, dev });
      }
    } else if (isDistributed && topo.routerHostId !== undefined) {
      issues.push(
        notRealized(`router/${router.id}`, 'transit to the router host (no underlay address)'),
      );
    }
    links.sort((a, b) => a.nsDev.localeCompare(b.nsDev));
    const { routes, rules } = routesOf(
      topo,
      router.id,
      links,
      isRouterHost,
      issues,
      nexthops.length > 0 ? TRANSIT_GROUP_ID : undefined,
    );
    const devOf = (portId: string): string | undefined =>
      links.find((l) => l.routerPortId === portId)?.nsDev;
    routerNamespaces.push({
      ns,
      routerId: router.id,
      links,
      routes,
      rules,
      fdb,
      ...(nexthops.length > 0 ? { nexthops } : {}),
      neighbors: [...neighborsOf(topo, links), ...extraNeighbors],
      ...(isRouterHost
        ? {
            nft: withElasticIps(
              withUplinkEgress(buildRouterNft(router, topo, devOf, issues), router, topo, devOf),
              topo.perFlowRouters?.get(router.id) ?? new Map(),
              devOf(pub.get(router.id)?.portId ?? ''),
            ),
          }
        : {}),
    });
    const spec =
      isRouterHost && router.name === CORE_ROUTER
        ? bgpSpec(topo, router.id, servedPublicRoutes(topo), issues)
        : undefined;
    if (spec) {
      const speaker = bgpSpeaker(spec, ns, options.stateDir);
      files.push(...speaker.files);
      processes.push(speaker.process);
    }
    if (
      !isRouterHost &&
      (router.inboundFilterId !== undefined ||
        router.outboundFilterId !== undefined ||
        router.localRedirectChainId !== undefined ||
        router.forwardChainId !== undefined)
    )
      issues.push(
        notRealized(`router/${router.id}`, 'router filter chains (realized on the router host)'),
      );
  }
  routerNamespaces.sort((a, b) => a.ns.localeCompare(b.ns));
  const dhcp = topo.bridges.flatMap((b) => {
    const subnets = topo.dhcpSubnets.filter((d) => d.bridgeId === b.id && d.enabled);
    if (subnets.length === 0) return [];
    // a bridge realized only as a transit for remote ports: their own host serves DHCP
    if (!topo.boundPorts.some((p) => p.bridgeId === b.id)) return [];
    const ns = routerNamespaces.find((r) => r.links.some((l) => l.master === bridgeDev(b.id)));
    const link = ns?.links.find((l) => l.master === bridgeDev(b.id));
    if (!ns || !link) {
      issues.push(notRealized(`bridge/${b.id}`, 'DHCP without a router port on the bridge'));
      return [];
    }
    return [
      dhcpConfig(idTag(b.id), ns.ns, link.nsDev, subnets, options.stateDir, options.instanceMtu),
    ];
  });
  const { vxlans, fdb, proxyNeighbors } = overlayOf(topo, issues);
  const zones = new Map([...bridges].map(([dev, id]) => [dev, conntrackZone(id)]));
  const nft = buildNftTables(bridgeView(topo), {
    portDevs,
    routerDevs: routerNamespaces.flatMap((r) =>
      r.links.filter((l) => (l.kind ?? 'veth') === 'veth').map((l) => l.hostDev),
    ),
    routerAddrs: routerNamespaces.flatMap((r) =>
      r.links.flatMap((l) =>
        l.address && (l.kind ?? 'veth') === 'veth' ? [l.address.split('/')[0]!] : [],
      ),
    ),
    zones,
    table: NFT_TABLE,
    issues,
  });
  return {
    bridges,
    slaves,
    portFdb,
    routerNamespaces,
    dhcp,
    nft,
    vxlans,
    fdb,
    proxyNeighbors,
    processes,
    files,
    issues,
  };
}

/** The gateways a compute host's copy of a per-flow router spreads its flows over: the live
 * ones (all when none is known alive) with an underlay address; nexthop id and address from the
 * gateway's place in the gateway list, so they stay put while the list does. */
function transitHops(
  topo: HostTopology,
  routerId: string,
): { id: number; via: string; mac: string; dst: string }[] {
  const all = topo.gatewayHostIds ?? [];
  const live = all.filter((h) => topo.liveGatewayIds?.includes(h) ?? true);
  const out: { id: number; via: string; mac: string; dst: string }[] = [];
  for (const h of live.length > 0 ? live : all) {
    const dst = topo.underlay?.get(h);
    const i = all.indexOf(h);
    if (dst !== undefined)
      out.push({ id: i + 1, via: transitHop(i), mac: transitGwMac(routerId, h), dst });
  }
  return out;
}

/** The topology as the bridge table sees it: only the chains reachable from the filters of
 * bridges and bridge ports (router chains belong to the router namespaces' tables). */
function bridgeView(topo: HostTopology): HostTopology {
  const roots = [
    ...topo.bridges.flatMap((b) => [b.inboundFilterId, b.outboundFilterId]),
    ...[...topo.ports.values()].flatMap((p) =>
      p.type === 'Bridge' ? [p.inboundFilterId, p.outboundFilterId] : [],
    ),
  ].filter((id): id is string => id !== undefined);
  const chains = new Map<
    string,
    HostTopology['chains'] extends ReadonlyMap<string, infer C> ? C : never
  >();
  while (roots.length > 0) {
    const id = roots.pop()!;
    const c = topo.chains.get(id);
    if (!c || chains.has(id)) continue;
    chains.set(id, c);
    for (const rid of c.ruleIds) {
      const j = topo.rules.get(rid)?.jumpChainId;
      if (j !== undefined) roots.push(j);
    }
  }
  return chains.size === topo.chains.size ? topo : { ...topo, chains };
}
