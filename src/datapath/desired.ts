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
  transitVni,
  TRANSIT_GW,
  TRANSIT_LOCAL,
} from './names.js';
import { buildNftTables } from './nft-model.js';
import { buildRouterNft } from './router-nft.js';
import { dhcpConfig } from './dhcp.js';
import type {
  DesiredFdb,
  DesiredHost,
  DesiredNeighbor,
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
import { isGatewayHost, servedPublicRoutes, servingGateway } from './gateways.js';

export type {
  DesiredFdb,
  DesiredHost,
  DesiredNeighbor,
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
  for (const router of topo.routers) {
    const links: DesiredRouterLink[] = [];
    const ns = routerNamespace(options.netnsPrefix, router.id);
    // a compute host's copy hands north-south traffic to the gateway serving the router
    const gateway = isRouterHost ? undefined : servingGateway(topo, router.id);
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
    if (isDistributed && (isRouterHost || routerHostAddr !== undefined)) {
      const dev = transitDev(router.id);
      const gwMac = derivedMac(`transit-gw:${router.id}`);
      links.push({
        routerPortId: `transit:${router.id}`,
        kind: 'transit',
        hostDev: '',
        nsDev: dev,
        master: '',
        vni: transitVni(router.id),
        mac: isRouterHost ? gwMac : derivedMac(`transit:${me}:${router.id}`),
        address: `${isRouterHost ? TRANSIT_GW : TRANSIT_LOCAL}/31`,
      });
      if (!isRouterHost) {
        fdb = [{ mac: gwMac, dev, dst: routerHostAddr! }];
        extraNeighbors.push({ ip: TRANSIT_GW, mac: gwMac, dev });
      }
    } else if (isDistributed && topo.routerHostId !== undefined) {
      issues.push(
        notRealized(`router/${router.id}`, 'transit to the router host (no underlay address)'),
      );
    }
    links.sort((a, b) => a.nsDev.localeCompare(b.nsDev));
    const { routes, rules } = routesOf(topo, router.id, links, isRouterHost, issues);
    const devOf = (portId: string): string | undefined =>
      links.find((l) => l.routerPortId === portId)?.nsDev;
    routerNamespaces.push({
      ns,
      routerId: router.id,
      links,
      routes,
      rules,
      fdb,
      neighbors: [...neighborsOf(topo, links), ...extraNeighbors],
      ...(isRouterHost
        ? {
            nft: withUplinkEgress(buildRouterNft(router, topo, devOf, issues), router, topo, devOf),
          }
        : {}),
    });
    const spec =
      isRouterHost && router.name === CORE_ROUTER
        ? bgpSpec(topo, router.id, servedPublicRoutes(topo, router.id), issues)
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
