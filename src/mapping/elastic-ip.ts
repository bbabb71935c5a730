/**
 * Elastic and public IPs (eucanetd-vpc.md §3.8): for public P and private Q of an interface in
 * VPC V, a DNAT P → Q in `vc_<V>_preelip`, a SNAT (source in `elip_post_<if>`, destination not
 * in V's CIDR) → P in `vc_<V>_postchain`, and the route P/32 on `eucart` via the VPC uplink
 * with weight 100. Owned by the interface. The DNAT matches `nwDst` (not the address group)
 * as eucanetd does because of a MidoNet 5 bug.
 */
import { TBD, type TopologyBuilder, type RuleFields } from './builder.js';
import type { CoreRefs } from './core.js';
import { CORE } from './names.js';
import { formatIp, parseIp } from './ip.js';
import { addRoute } from './ports.js';
import type { VpcCtx } from './vpc.js';

/** Adds the NAT rules and the eucart route of one public IP. */
export function mapElasticIp(
  b: TopologyBuilder,
  core: CoreRefs,
  v: VpcCtx,
  key: string,
  publicIp: string,
  privateIp: string,
  elipPostId: string,
): void {
  const p = parseIp(publicIp);
  if (p === undefined) {
    b.warn(
      'mapping.bad-public-ip',
      `networkInterface/${key}`,
      `public IP ${publicIp} is malformed`,
    );
    return;
  }
  b.rule(v.preelip, `dnat:${key}`, key, {
    type: 'dnat',
    dlType: 0x0800,
    nwDstAddress: publicIp,
    nwDstLength: 32,
    natTargets: [{ addressFrom: privateIp, addressTo: privateIp, portFrom: 0, portTo: 0 }],
    flowAction: 'continue',
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
  const snat: RuleFields = {
    type: 'snat',
    dlType: 0x0800,
    ipAddrGroupSrc: elipPostId,
    natTargets: [{ addressFrom: publicIp, addressTo: publicIp, portFrom: 0, portTo: 0 }],
    flowAction: 'continue',
  };
  if (v.cidr !== undefined) {
    snat.nwDstAddress = formatIp(v.cidr.addr);
    snat.nwDstLength = v.cidr.len;
    snat.invNwDst = true;
  }
  b.rule(v.postchain, `snat:${key}`, key, snat);
  addRoute(b, key, CORE.router, core.routerId, { addr: p, len: 32 }, core.intPortId, `eip:${key}`, {
    gateway: v.uplinkIp,
    weight: 100,
    key: `route:${CORE.router}:eip:${key}`,
  });
}
