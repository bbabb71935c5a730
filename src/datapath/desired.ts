/**
 * Desired host state: what the Linux side of one host must look like for its share of the
 * topology (bridges, router namespaces with their links, addresses, routes and neighbors,
 * the instance ports' masters, DHCP servers and the nftables tables). Pure.
 */
import type { Issue } from '../common/index.js';
import type { Port } from '../store/index.js';
import type { Router } from '../store/index.js';
import { isBoundRouterPort, METADATA_ROUTER, type HostTopology } from './topology.js';
import {
  bridgeDev,
  conntrackZone,
  derivedMac,
  idTag,
  metadataNamespace,
  MD_MAP,
  MD_PROXY_LOG,
  MD_PROXY_PID,
  NFT_TABLE,
  routerLinkHostDev,
  routerLinkNsDev,
  routerNamespace,
  transitDev,
  transitVni,
  TRANSIT_GW,
  TRANSIT_LOCAL,
  vxlanDev,
} from './names.js';
import { buildNftTables } from './nft-model.js';
import type { NftTableSpec } from './nft.js';
import { buildRouterNft } from './router-nft.js';
import { dhcpConfig, type DesiredDhcp } from './dhcp.js';
import { networkOf } from './addr.js';
import { join } from 'node:path';

/**
 * A link of a router namespace. `veth` (default): host end `hostDev` enslaved to the bridge
 * `master`, router end `nsDev`. `macvlan`: a macvlan of the host interface `hostDev` (a bound
 * uplink), moved into the namespace. `nsveth`: a veth whose other end `peerDev` is in the
 * helper namespace `peerNs` (the metadata endpoint). `transit`: a VXLAN device (VNI `vni`)
 * whose socket is in the host namespace, carrying traffic of a router copy to the router host.
 * `peer`: the far end of an `nsveth`, only configured here.
 */
export interface DesiredRouterLink {
  readonly routerPortId: string;
  readonly kind?: 'veth' | 'macvlan' | 'nsveth' | 'transit' | 'peer';
  readonly hostDev: string;
  readonly nsDev: string;
  readonly master: string;
  readonly mac?: string;
  /** `a.b.c.d/len` */
  readonly address?: string;
  readonly peerNs?: string;
  readonly peerDev?: string;
  readonly vni?: number;
}

/** A policy-routing rule in a router namespace (source-based routes). */
export interface DesiredRule {
  readonly pref: number;
  /** `a.b.c.d/len` */
  readonly src: string;
  readonly table: number;
}

/** A VXLAN forwarding entry: `mac` is behind the VTEP `dst`. */
export interface DesiredFdb {
  readonly mac: string;
  readonly dev: string;
  readonly dst: string;
}

/** The VXLAN device of a bridge that spans hosts. */
export interface DesiredVxlan {
  readonly dev: string;
  readonly vni: number;
  readonly master: string;
  readonly local?: string;
  /** Link alias; carries the VNI and local address, so a change recreates the device. */
  readonly alias: string;
}

/** A long-running helper process (the metadata proxy). */
export interface DesiredProcess {
  readonly key: string;
  /** What to spawn (`ip netns exec NS node …`). */
  readonly argv: readonly string[];
  /** The command line the running process must have (NUL-joined in /proc). */
  readonly cmdline: readonly string[];
  readonly pidPath: string;
  readonly logPath: string;
}

/** A route in a router namespace (`dst` is a CIDR or `default`). */
export interface DesiredRoute {
  readonly type: 'unicast' | 'blackhole' | 'unreachable';
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly metric: number;
  /** Routing table (source-based routes); the main table when absent. */
  readonly table?: number;
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
  readonly rules?: readonly DesiredRule[];
  /** VXLAN forwarding entries of the namespace's transit device. */
  readonly fdb?: readonly DesiredFdb[];
  /** The namespace's `ip eucanetd` table (router host), undefined elsewhere. */
  readonly nft?: NftTableSpec;
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
  readonly vxlans?: readonly DesiredVxlan[];
  /** Static forwarding entries of the VXLAN devices (also written as static bridge entries). */
  readonly fdb?: readonly DesiredFdb[];
  /** Permanent neighbors on the VXLAN devices: ARP for remote addresses is answered locally. */
  readonly proxyNeighbors?: readonly DesiredNeighbor[];
  readonly processes?: readonly DesiredProcess[];
  /** Files the agent keeps (the metadata map). */
  readonly files?: readonly { readonly path: string; readonly content: string }[];
  /** Unsupported rule fields (warning) and objects not realized yet (`not_realized`). */
  readonly issues: readonly Issue[];
}

/** Options of the planner. */
export interface DesiredOptions {
  /** Prefix of the helper namespaces. */
  readonly netnsPrefix: string;
  /** Directory of the DHCP servers' config and pid files. */
  readonly stateDir: string;
  /** The metadata proxy: node binary, script and backend URL (no proxy when absent). */
  readonly metadataProxy?: {
    readonly node: string;
    readonly script: string;
    readonly backend: string;
  };
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
  const me = topo.hostId;
  const isRouterHost = topo.routerHostId === me;
  const underlay = topo.underlay ?? new Map<string, string>();
  const routerHostAddr =
    topo.routerHostId === undefined || isRouterHost ? undefined : underlay.get(topo.routerHostId);
  const vniBridges = new Set(topo.bridges.filter((b) => b.vni !== undefined).map((b) => b.id));
  const routerNamespaces: DesiredRouterNs[] = [];
  const processes: DesiredProcess[] = [];
  const files: { path: string; content: string }[] = [];
  for (const router of topo.routers) {
    const links: DesiredRouterLink[] = [];
    const ns = routerNamespace(options.netnsPrefix, router.id);
    let isDistributed = false;
    for (const rp of topo.ports.values()) {
      if (rp.routerId !== router.id) continue;
      const bp = rp.peerId === undefined ? undefined : topo.ports.get(rp.peerId);
      if (bp?.bridgeId !== undefined && bridges.has(bridgeDev(bp.bridgeId))) {
        portDevs.set(bp.id, routerLinkHostDev(rp.id));
        links.push(routerLink(rp, bridgeDev(bp.bridgeId)));
        if (vniBridges.has(bp.bridgeId)) isDistributed = true;
      } else if (isRouterHost && isBoundRouterPort(rp) && rp.hostId === me) {
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
      ...(isRouterHost ? { nft: buildRouterNft(router, topo, devOf, issues) } : {}),
    });
    if (
      !isRouterHost &&
      (router.inboundFilterId !== undefined || router.outboundFilterId !== undefined)
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
    return [dhcpConfig(idTag(b.id), ns.ns, link.nsDev, subnets, options.stateDir)];
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

/**
 * The overlay of the bridges that span hosts: one VXLAN device per bridge with a remote
 * bound port (VNI from the bridge), a static forwarding entry for every remote MAC (to the
 * underlay address of the port's host) and a permanent neighbor for every remote address, so
 * ARP is answered locally and nothing floods between hosts.
 */
function overlayOf(
  topo: HostTopology,
  issues: Issue[],
): { vxlans: DesiredVxlan[]; fdb: DesiredFdb[]; proxyNeighbors: DesiredNeighbor[] } {
  const underlay = topo.underlay ?? new Map<string, string>();
  const local = underlay.get(topo.hostId);
  const vxlans: DesiredVxlan[] = [];
  const fdb: DesiredFdb[] = [];
  const proxyNeighbors: DesiredNeighbor[] = [];
  for (const b of topo.bridges) {
    const remote = [...topo.ports.values()].filter(
      (p) =>
        p.bridgeId === b.id &&
        p.type === 'Bridge' &&
        p.hostId !== undefined &&
        p.interfaceName !== undefined &&
        p.hostId !== topo.hostId,
    );
    // the router host realizes every bridge, and router copies reach remote ports: a bridge
    // spans hosts as soon as another host realizes it
    const elsewhere = topo.routerHostId !== undefined && topo.routerHostId !== topo.hostId;
    if (remote.length === 0 && !elsewhere) continue;
    if (b.vni === undefined) {
      issues.push(notRealized(`bridge/${b.id}`, 'bridge with ports on other hosts but no VNI'));
      continue;
    }
    const dev = vxlanDev(b.id);
    vxlans.push({
      dev,
      vni: b.vni,
      master: bridgeDev(b.id),
      ...(local !== undefined ? { local } : {}),
      alias: `eucanetd:vxlan:${b.vni}:${local ?? ''}:${b.id}`,
    });
    for (const p of remote.sort((x, y) => x.id.localeCompare(y.id))) {
      const dst = underlay.get(p.hostId!);
      if (dst === undefined) {
        issues.push(
          notRealized(`port/${p.id}`, `remote port (host ${p.hostId!} has no underlay address)`),
        );
        continue;
      }
      for (const m of topo.macEntries) {
        if (m.portId !== p.id || m.bridgeId !== b.id) continue;
        const mac = m.macAddr.toLowerCase();
        fdb.push({ mac, dev, dst });
        for (const a of topo.arpEntries) {
          if (a.bridgeId === b.id && a.mac.toLowerCase() === mac)
            proxyNeighbors.push({ ip: a.ip, mac, dev });
        }
      }
    }
  }
  return { vxlans, fdb, proxyNeighbors };
}

/** The metadata endpoint behind the metadata router's bound port: a helper namespace holding
 * 169.254.169.254 (veth to the router), the proxy process and its address → instance map. */
function metadataEndpoint(
  topo: HostTopology,
  router: Router,
  rp: Port,
  routerNs: string,
  options: DesiredOptions,
  issues: Issue[],
):
  | {
      link: DesiredRouterLink;
      ns: DesiredRouterNs;
      processes: DesiredProcess[];
      files: { path: string; content: string }[];
    }
  | undefined {
  if (rp.portAddress === undefined || rp.networkLength === undefined) return undefined;
  const mdNs = metadataNamespace(options.netnsPrefix);
  const link: DesiredRouterLink = {
    ...routerLink(rp, ''),
    kind: 'nsveth',
    peerNs: mdNs,
    peerDev: 'md0',
  };
  const ns: DesiredRouterNs = {
    ns: mdNs,
    routerId: `metadata:${router.id}`,
    links: [
      {
        routerPortId: `metadata:${rp.id}`,
        kind: 'peer',
        hostDev: '',
        nsDev: 'md0',
        master: '',
        address: `${METADATA_IP}/${rp.networkLength}`,
      },
    ],
    routes: [{ type: 'unicast', dst: '255.0.0.0/8', via: rp.portAddress, dev: 'md0', metric: 0 }],
    neighbors: [],
  };
  const mapPath = join(options.stateDir, MD_MAP);
  const files = [{ path: mapPath, content: metadataMap(topo) }];
  if (!options.metadataProxy) {
    issues.push(notRealized(`port/${rp.id}`, 'metadata proxy (no proxy script)'));
    return { link, ns, processes: [], files };
  }
  const mp = options.metadataProxy;
  const pidPath = join(options.stateDir, MD_PROXY_PID);
  const cmdline = [
    mp.node,
    mp.script,
    '--listen',
    `${METADATA_IP}:80`,
    '--backend',
    mp.backend,
    '--map',
    mapPath,
    '--pid-file',
    pidPath,
  ];
  return {
    link,
    ns,
    files,
    processes: [
      {
        key: 'md-proxy',
        argv: ['ip', 'netns', 'exec', mdNs, ...cmdline],
        cmdline,
        pidPath,
        logPath: join(options.stateDir, MD_PROXY_LOG),
      },
    ],
  };
}

/** The metadata address the instances use. */
export const METADATA_IP = '169.254.169.254';

/**
 * The metadata map: metadata source address (255.0.0.n, the target of a VPC's metadata SNAT
 * rule) → interface (the rule's `eni` metadata) and instance id (the rule's owner when it is
 * an instance, else the interface id). JSON, sorted.
 */
export function metadataMap(topo: HostTopology): string {
  const out: Record<string, { interface: string; instanceId: string }> = {};
  const rules = [...topo.rules.values()].sort((a, b) => a.id.localeCompare(b.id));
  for (const r of rules) {
    if (r.type !== 'snat') continue;
    const addr = r.natTargets?.[0]?.addressFrom;
    const eni = r.metadata?.find((m) => m.key === 'eni')?.value;
    if (addr === undefined || eni === undefined || !addr.startsWith('255.')) continue;
    const owner = r.owner ?? '';
    out[addr] = { interface: eni, instanceId: owner.startsWith('i-') ? owner : eni };
  }
  return JSON.stringify(out, null, 1) + '\n';
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
  isRouterHost: boolean,
  issues: Issue[],
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
        // router's copy there, which routes it again with the full table
        out.push({
          type: 'unicast',
          dst,
          via: TRANSIT_GW,
          dev: transit.nsDev,
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

function neighborsOf(topo: HostTopology, links: readonly DesiredRouterLink[]): DesiredNeighbor[] {
  const out: DesiredNeighbor[] = [];
  for (const e of topo.arpEntries) {
    const link = links.find((l) => l.master === bridgeDev(e.bridgeId));
    if (!link || link.address?.split('/')[0] === e.ip || link.mac === e.mac.toLowerCase()) continue;
    out.push({ ip: e.ip, mac: e.mac.toLowerCase(), dev: link.nsDev });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip));
}
