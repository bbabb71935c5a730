/**
 * NAT gateways (eucanetd-vpc.md §3.6): router `natr_<nat>_<subnet>_<rtid>` with an uplink at
 * 169.254.0.<rtid>/17 linked to eucabr, a port on the subnet with the NAT gateway's private IP
 * and MAC linked to a new subnet bridge port, its routes (default and 169.254.0.0/17 via the
 * uplink, the VPC CIDR via the subnet's .1), chains `natc_<nat>_rtin` (REV_SNAT) and
 * `natc_<nat>_rtout` (SNAT of the VPC CIDR leaving by the uplink to the public IP, ports
 * 1024-65535), the /32 route of the public IP on `eucart` and `elip_pre_<nat>`. Owner: the
 * NAT gateway id. A changed public IP changes rule and route contents: an update.
 */
import type { NatGateway } from '../gni/index.js';
import type { TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import { INT_RT_NET, type CoreRefs } from './core.js';
import { formatIp, parseIp } from './ip.js';
import { CORE, natRouterName } from './names.js';
import { addBridgePort, addRoute, addRouterPort, link } from './ports.js';
import type { SubnetCtx } from './subnet.js';
import { SLOT } from './slots.js';

/** A mapped NAT gateway, as route tables see it. */
export interface NatCtx {
  readonly nat: NatGateway;
  readonly subnet: SubnetCtx;
}

/** Adds a NAT gateway's router, ports, routes, chains and address group. */
export function mapNatGateway(
  b: TopologyBuilder,
  core: CoreRefs,
  nat: NatGateway,
  s: SubnetCtx,
  rtid: number,
): NatCtx {
  const owner = nat.id;
  const v = s.vpc;
  const name = natRouterName(nat.id, s.subnet.id, rtid);
  const routerId = b.id(`router:${name}`);
  const rtin = b.chain(`natc_${nat.id}_rtin`, owner);
  const rtout = b.chain(`natc_${nat.id}_rtout`, owner);
  b.put('router', {
    id: routerId,
    owner,
    name,
    tenantId: b.config.tenantId,
    adminStateUp: true,
    inboundFilterId: rtin.id,
    outboundFilterId: rtout.id,
    portIds: SLOT,
    routeIds: SLOT,
    bgpPeerIds: SLOT,
    bgpNetworkIds: SLOT,
    version: 0,
  });
  const uplinkIp = formatIp(PLAN.intRtNet + rtid);
  const uplink = addRouterPort(b, owner, name, routerId, 'uplink', uplinkIp, INT_RT_NET);
  link(uplink, addBridgePort(b, owner, CORE.bridge, core.bridgeId, `nat:${nat.id}`));
  const port = addRouterPort(
    b,
    owner,
    name,
    routerId,
    `sub:${s.subnet.id}`,
    nat.privateIp!,
    s.cidr,
    nat.macAddress,
  );
  link(port, addBridgePort(b, owner, s.bridgeName, s.bridgeId, `nat:${nat.id}`));
  const gwRt = formatIp(PLAN.intRtNet + 1);
  addRoute(b, owner, name, routerId, { addr: 0, len: 0 }, uplink.id, 'uplink', { gateway: gwRt });
  addRoute(b, owner, name, routerId, INT_RT_NET, uplink.id, 'uplink');
  if (v.cidr !== undefined) {
    addRoute(b, owner, name, routerId, v.cidr, port.id, `sub:${s.subnet.id}`, {
      gateway: s.gateway,
      key: `route:${name}:vpc-cidr`,
    });
  }
  const pub = nat.publicIp === undefined ? undefined : parseIp(nat.publicIp);
  b.put('ip-addr-group', {
    id: b.id(`ip-addr-group:elip_pre_${nat.id}`),
    owner,
    name: `elip_pre_${nat.id}`,
    tenantId: b.config.tenantId,
    addresses: pub === undefined ? [] : [nat.publicIp!],
    ruleIds: SLOT,
    version: 0,
  });
  if (pub === undefined) {
    b.warn('mapping.nat-no-public-ip', `natGateway/${nat.id}`, 'no public IP: no SNAT');
    return { nat, subnet: s };
  }
  const publicIp = nat.publicIp!;
  if (v.cidr !== undefined) {
    b.rule(rtout, 'snat', owner, {
      type: 'snat',
      dlType: 0x0800,
      nwSrcAddress: formatIp(v.cidr.addr),
      nwSrcLength: v.cidr.len,
      outPorts: [uplink.id],
      natTargets: [{ addressFrom: publicIp, addressTo: publicIp, portFrom: 1024, portTo: 65535 }],
      flowAction: 'accept',
    });
  }
  b.rule(rtin, 'rev-snat', owner, {
    type: 'rev_snat',
    dlType: 0x0800,
    nwDstAddress: publicIp,
    nwDstLength: 32,
    flowAction: 'accept',
  });
  addRoute(
    b,
    owner,
    CORE.router,
    core.routerId,
    { addr: pub, len: 32 },
    core.intPortId,
    `nat:${nat.id}`,
    { gateway: uplinkIp, weight: 100, key: `route:${CORE.router}:nat:${nat.id}` },
  );
  return { nat, subnet: s };
}
