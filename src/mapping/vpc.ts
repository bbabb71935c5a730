/**
 * VPC → router `vr_<vpc>_<rtid>` (eucanetd-vpc.md §3.2): uplink 169.254.0.<rtid>/17 linked to
 * a new eucabr port, route 169.254.0.0/17 through it, chains `vc_<vpc>_prechain` (uplink
 * inbound, first rule jumps to `vc_<vpc>_preelip`, which holds the elastic IP DNATs) and
 * `vc_<vpc>_postchain` (uplink outbound, holds the SNATs), and the metadata uplink when
 * MidoNet metadata is on. No default route: only route-table entries reach the internet.
 */
import type { Vpc } from '../gni/index.js';
import type { DraftChain, TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import { INT_RT_NET, type CoreRefs } from './core.js';
import { formatIp, parseCidr, type Cidr } from './ip.js';
import { mapVpcMetadata, type MdRefs, type VpcMd } from './metadata.js';
import { CORE, vpcRouterName } from './names.js';
import { addBridgePort, addRoute, addRouterPort, link } from './ports.js';
import type { SubnetCtx } from './subnet.js';
import { SLOT } from './slots.js';

/** A mapped VPC, as its subnets, interfaces, NAT gateways and route tables see it. */
export interface VpcCtx {
  readonly vpc: Vpc;
  readonly cidr: Cidr | undefined;
  readonly rtid: number;
  readonly routerName: string;
  readonly routerId: string;
  readonly uplinkId: string;
  /** 169.254.0.<rtid>: next hop of the eucart /32 routes of this VPC's public IPs. */
  readonly uplinkIp: string;
  readonly prechain: DraftChain;
  readonly preelip: DraftChain;
  readonly postchain: DraftChain;
  readonly md: VpcMd | undefined;
  readonly subnets: Map<string, SubnetCtx>;
}

/** Adds a VPC's router, uplink and chains. */
export function mapVpc(
  b: TopologyBuilder,
  core: CoreRefs,
  md: MdRefs | undefined,
  vpc: Vpc,
  rtid: number,
): VpcCtx {
  const owner = vpc.id;
  const routerName = vpcRouterName(vpc.id, rtid);
  const routerId = b.id(`router:${routerName}`);
  b.put('router', {
    id: routerId,
    owner,
    name: routerName,
    tenantId: b.config.tenantId,
    adminStateUp: true,
    portIds: SLOT,
    routeIds: SLOT,
    bgpPeerIds: SLOT,
    bgpNetworkIds: SLOT,
    version: 0,
  });
  const uplinkIp = formatIp(PLAN.intRtNet + rtid);
  const uplink = addRouterPort(b, owner, routerName, routerId, 'uplink', uplinkIp, INT_RT_NET);
  link(uplink, addBridgePort(b, owner, CORE.bridge, core.bridgeId, `vpc:${vpc.id}`));
  addRoute(b, owner, routerName, routerId, INT_RT_NET, uplink.id, 'uplink');
  const prechain = b.chain(`vc_${vpc.id}_prechain`, owner);
  const preelip = b.chain(`vc_${vpc.id}_preelip`, owner);
  const postchain = b.chain(`vc_${vpc.id}_postchain`, owner);
  b.rule(prechain, 'jump-preelip', owner, {
    type: 'jump',
    jumpChainId: preelip.id,
    jumpChainName: preelip.name,
  });
  uplink.inboundFilterId = prechain.id;
  uplink.outboundFilterId = postchain.id;
  const cidr = vpc.cidr === undefined ? undefined : parseCidr(vpc.cidr);
  if (cidr === undefined) {
    b.warn('mapping.vpc-cidr', `vpc/${vpc.id}`, 'missing or malformed VPC CIDR');
  }
  return {
    vpc,
    cidr,
    rtid,
    routerName,
    routerId,
    uplinkId: uplink.id,
    uplinkIp,
    prechain,
    preelip,
    postchain,
    md: md === undefined ? undefined : mapVpcMetadata(b, md, vpc.id, routerName, routerId, rtid),
    subnets: new Map(),
  };
}
