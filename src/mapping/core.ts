/**
 * The core topology (eucanetd-vpc.md §2.2, §2.3): `euca_version`, `eucart` with its internal
 * port 169.254.0.1/17 and route, port group `eucapg`, one uplink port per GNI gateway bound to
 * the gateway host's external device with its routes, BGP when asked for, `eucabr` linked to
 * `eucart`, `metadata_ip` and `eucabr_infilter`. Owner `core`.
 */
import type { Gateway, GlobalView } from '../gni/index.js';
import { hostId } from '../common/index.js';
import type { TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import { formatIp, parseCidr, parseIp, type Cidr } from './ip.js';
import { CORE } from './names.js';
import { addBridgePort, addRoute, addRouterPort, link } from './ports.js';
import { SLOT } from './slots.js';

/** What the VPC and NAT mappers need from the core. */
export interface CoreRefs {
  readonly routerId: string;
  /** The eucart port facing eucabr (next hop port of every /32 public IP route). */
  readonly intPortId: string;
  readonly bridgeId: string;
}

const OWNER = 'core';
/** 169.254.0.0/17 */
export const INT_RT_NET: Cidr = { addr: PLAN.intRtNet, len: PLAN.intRtLen };

/** Adds the core objects. */
export function mapCore(view: GlobalView, b: TopologyBuilder): CoreRefs {
  const t = b.config.tenantId;
  b.put('ip-addr-group', {
    id: b.id(`ip-addr-group:${CORE.version}`),
    owner: OWNER,
    name: CORE.version,
    tenantId: t,
    addresses: [b.config.eucaVersion],
    ruleIds: SLOT,
    version: 0,
  });
  const routerId = b.id(`router:${CORE.router}`);
  const bgp = bgpGateways(view);
  const asn = view.configuration.mido?.bgpAsn;
  b.put('router', {
    id: routerId,
    owner: OWNER,
    name: CORE.router,
    tenantId: t,
    adminStateUp: true,
    ...(bgp.length > 0 && asn !== undefined ? { asNumber: asn } : {}),
    portIds: SLOT,
    routeIds: SLOT,
    bgpPeerIds: SLOT,
    bgpNetworkIds: SLOT,
    version: 0,
  });
  const intPort = addRouterPort(
    b,
    OWNER,
    CORE.router,
    routerId,
    'int',
    formatIp(PLAN.intRtNet + 1),
    INT_RT_NET,
  );
  addRoute(b, OWNER, CORE.router, routerId, INT_RT_NET, intPort.id, 'int');
  const portGroupId = b.id(`port-group:${CORE.portGroup}`);
  b.put('port-group', {
    id: portGroupId,
    owner: OWNER,
    name: CORE.portGroup,
    tenantId: t,
    stateful: true,
    portIds: SLOT,
    version: 0,
  });
  (view.configuration.mido?.gateways ?? []).forEach((gw, i) =>
    mapGateway(b, gw, i, routerId, portGroupId),
  );
  if (bgp.length > 0 && asn !== undefined) mapBgp(b, bgp, routerId);

  const filter = b.chain(CORE.bridgeInfilter, OWNER);
  b.rule(filter, 'drop-intrt', OWNER, {
    type: 'drop',
    dlType: 0x0800,
    nwDstAddress: formatIp(PLAN.intRtNet),
    nwDstLength: PLAN.intRtLen,
  });
  const bridgeId = b.id(`bridge:${CORE.bridge}`);
  b.put('bridge', {
    id: bridgeId,
    owner: OWNER,
    name: CORE.bridge,
    tenantId: t,
    adminStateUp: true,
    inboundFilterId: filter.id,
    portIds: SLOT,
    dhcpIds: SLOT,
    arpEntryIds: SLOT,
    macEntryIds: SLOT,
    version: 0,
  });
  link(intPort, addBridgePort(b, OWNER, CORE.bridge, bridgeId, 'eucart'));
  b.put('ip-addr-group', {
    id: b.id(`ip-addr-group:${CORE.metadataIp}`),
    owner: OWNER,
    name: CORE.metadataIp,
    tenantId: t,
    addresses: ['169.254.169.254'],
    ruleIds: SLOT,
    version: 0,
  });
  return { routerId, intPortId: intPort.id, bridgeId };
}

/**
 * The upstream peer of a gateway. eucanetd reads `externalRouterIp` and then `bgpPeerIp` into
 * the same field (euca_gni.c), so when both are set the BGP peer wins.
 */
function peerOf(gw: Gateway): string | undefined {
  return gw.bgpPeerIp ?? gw.externalRouterIp;
}

function mapGateway(
  b: TopologyBuilder,
  gw: Gateway,
  i: number,
  routerId: string,
  pg: string,
): void {
  const path = `gateway/${i}`;
  const net = gw.externalCidr === undefined ? undefined : parseCidr(gw.externalCidr);
  if (gw.externalIp === undefined || parseIp(gw.externalIp) === undefined || net === undefined) {
    b.error(
      'mapping.gateway-incomplete',
      path,
      `gateway ${gw.host} lacks externalIp or externalCidr`,
    );
    return;
  }
  if (gw.externalDevice === undefined) {
    b.error('mapping.gateway-incomplete', path, `gateway ${gw.host} lacks externalDevice`);
    return;
  }
  const role = `gw:${gw.host}:${gw.externalDevice}`;
  const port = addRouterPort(b, OWNER, CORE.router, routerId, role, gw.externalIp, net);
  port.hostId = hostId(gw.host);
  port.interfaceName = gw.externalDevice;
  port.portGroupIds = [pg];
  addRoute(b, OWNER, CORE.router, routerId, net, port.id, role);
  const peer = peerOf(gw);
  const peerIp = peer === undefined ? undefined : parseIp(peer);
  if (peer === undefined || peerIp === undefined) {
    b.warn(
      'mapping.gateway-no-peer',
      path,
      `gateway ${gw.host} has no upstream router: no default route`,
    );
    return;
  }
  addRoute(b, OWNER, CORE.router, routerId, { addr: peerIp, len: 32 }, port.id, role);
  addRoute(b, OWNER, CORE.router, routerId, { addr: 0, len: 0 }, port.id, role, { gateway: peer });
}

function bgpGateways(view: GlobalView): Gateway[] {
  return (view.configuration.mido?.gateways ?? []).filter(
    (g) => g.bgpPeerIp !== undefined && g.bgpPeerAsn !== undefined,
  );
}

function mapBgp(b: TopologyBuilder, gws: readonly Gateway[], routerId: string): void {
  const networks = new Set<string>();
  const peers = new Map<string, number>(); // peer address → ASN
  for (const gw of gws) {
    const known = peers.get(gw.bgpPeerIp!);
    // gateways peering with the same upstream router share one peer (eucanetd merges them)
    if (known === gw.bgpPeerAsn) {
      for (const r of gw.bgpAdRoutes) networks.add(r);
      continue;
    }
    if (known !== undefined) {
      b.warn(
        'mapping.bgp-peer-conflict',
        `gateway/${gw.host}`,
        `BGP peer ${gw.bgpPeerIp!} has ASN ${known} on another gateway and ${gw.bgpPeerAsn!} on ${gw.host}: the first is kept`,
      );
      continue;
    }
    peers.set(gw.bgpPeerIp!, gw.bgpPeerAsn!);
    b.put('bgp-peer', {
      id: b.id(`bgp-peer:${gw.bgpPeerIp!}`),
      owner: OWNER,
      routerId,
      asNumber: gw.bgpPeerAsn!,
      address: gw.bgpPeerIp!,
      version: 0,
    });
    for (const r of gw.bgpAdRoutes) networks.add(r);
  }
  for (const text of networks) {
    const net = parseCidr(text);
    if (net === undefined) {
      b.warn('mapping.bad-cidr', 'mido/bgpAdRoutes', `advertised route ${text} is not a CIDR`);
      continue;
    }
    b.put('bgp-network', {
      id: b.id(`bgp-network:${formatIp(net.addr)}/${net.len}`),
      owner: OWNER,
      routerId,
      subnetAddress: formatIp(net.addr),
      subnetLength: net.len,
      version: 0,
    });
  }
}
