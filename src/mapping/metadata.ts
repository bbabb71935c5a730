/**
 * MidoNet-based metadata (eucanetd-vpc.md §2.5, §3.2 step 7, §5.1): the metadata core
 * (`eucamdrt`, `eucamdbr`, the external port bound to `eucamd_mido` on the eucanetd host and
 * its `eucamdrt_extportout` filter), each VPC's metadata uplink with its routes and chains,
 * and each interface's SNAT/DNAT to its metadata address 255.0.0.0 + eniid (`flowAction`
 * continue, as eucanetd creates them).
 *
 * Recovery of the eniid: the interface's SNAT rule in `vc_<vpc>_mdulout` has
 * `natTargets[0].addressFrom` = its metadata address and `metadata` `{key:'eni', value:<eni id>}`
 * (see `recoverAllocations`).
 */
import type { GlobalView } from '../gni/index.js';
import { hostId } from '../common/index.js';
import type { DraftChain, RuleFields, TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import { eucanetdHostName } from './host.js';
import { formatIp, type Cidr } from './ip.js';
import { CORE } from './names.js';
import { addBridgePort, addRoute, addRouterPort, link, type DraftPort } from './ports.js';
import { SLOT } from './slots.js';

/** What VPC and interface mappers need from the metadata core. */
export interface MdRefs {
  readonly routerId: string;
  readonly intPortId: string;
  readonly bridgeId: string;
}

/** A VPC's metadata uplink side. */
export interface VpcMd {
  readonly mdulin: DraftChain;
  readonly mdulout: DraftChain;
  readonly uplinkIp: string;
}

const OWNER = 'md';
const INT_MD_NET: Cidr = { addr: PLAN.intMdNet, len: PLAN.intMdLen };
const EXT_MD_NET: Cidr = { addr: PLAN.extMdNet, len: PLAN.extMdLen };
const MD_HTTP = '169.254.169.254';
const MD_DNS = '169.254.169.253';
/** Metadata key on the interface MD SNAT rule naming the ENI (for recovery). */
export const ENI_METADATA_KEY = 'eni';

/** One `proto[:port[-port]]` item of a `MIDO_MD_25x_EGRESS` list. */
export interface EgressItem {
  readonly proto: number;
  readonly from?: number;
  readonly to?: number;
  readonly text: string;
}

const PROTOS: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1 };

/** Parses an egress list such as `udp:53 tcp:53`; bad items are returned in `bad`. */
export function parseEgress(spec: string): { items: EgressItem[]; bad: string[] } {
  const items: EgressItem[] = [];
  const bad: string[] = [];
  for (const text of spec.split(/[\s,]+/)) {
    if (text === '') continue;
    const m = /^([a-z]+|\d{1,3}):?(\d{1,5})?(?:-(\d{1,5}))?$/.exec(text.toLowerCase());
    const proto =
      m === null ? undefined : (PROTOS[m[1]!] ?? (/^\d+$/.test(m[1]!) ? Number(m[1]) : undefined));
    if (m === null || proto === undefined || proto > 255) {
      bad.push(text);
      continue;
    }
    const from = m[2] === undefined ? undefined : Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (from !== undefined && (from > 65535 || to! > 65535 || to! < from)) {
      bad.push(text);
      continue;
    }
    items.push(from === undefined ? { proto, text } : { proto, from, to: to!, text });
  }
  return { items, bad };
}

/** Adds the metadata core (its external port is left unbound, with a warning, when no
 * eucanetd host is known). */
export function mapMetadataCore(view: GlobalView, b: TopologyBuilder): MdRefs {
  const t = b.config.tenantId;
  const routerId = b.id(`router:${CORE.mdRouter}`);
  b.put('router', {
    id: routerId,
    owner: OWNER,
    name: CORE.mdRouter,
    tenantId: t,
    adminStateUp: true,
    portIds: SLOT,
    routeIds: SLOT,
    bgpPeerIds: SLOT,
    bgpNetworkIds: SLOT,
    version: 0,
  });
  const intPort = addRouterPort(
    b,
    OWNER,
    CORE.mdRouter,
    routerId,
    'int',
    formatIp(PLAN.intMdNet + 1),
    INT_MD_NET,
  );
  addRoute(b, OWNER, CORE.mdRouter, routerId, INT_MD_NET, intPort.id, 'int');
  const bridgeId = b.id(`bridge:${CORE.mdBridge}`);
  b.put('bridge', {
    id: bridgeId,
    owner: OWNER,
    name: CORE.mdBridge,
    tenantId: t,
    adminStateUp: true,
    portIds: SLOT,
    dhcpIds: SLOT,
    arpEntryIds: SLOT,
    macEntryIds: SLOT,
    version: 0,
  });
  link(intPort, addBridgePort(b, OWNER, CORE.mdBridge, bridgeId, 'eucamdrt'));
  const out = b.chain(CORE.mdExtOut, OWNER);
  addEgress(b, out, '254', MD_HTTP, b.config.md254Egress);
  addEgress(b, out, '253', MD_DNS, b.config.md253Egress);
  b.rule(out, 'drop-non-arp', OWNER, { type: 'drop', dlType: 0x0806, invDlType: true });
  const ext = addRouterPort(
    b,
    OWNER,
    CORE.mdRouter,
    routerId,
    'ext',
    formatIp(PLAN.extMdNet + 1),
    EXT_MD_NET,
  );
  ext.outboundFilterId = out.id;
  const host = eucanetdHostName(view);
  if (host === undefined) {
    b.warn(
      'mapping.md-unbound',
      'configuration/enabledCLCIp',
      'no eucanetd host: metadata port left unbound',
    );
  } else {
    ext.hostId = hostId(host);
    ext.interfaceName = CORE.mdVeth;
  }
  addRoute(b, OWNER, CORE.mdRouter, routerId, EXT_MD_NET, ext.id, 'ext');
  return { routerId, intPortId: intPort.id, bridgeId };
}

function addEgress(
  b: TopologyBuilder,
  chain: DraftChain,
  tag: string,
  dst: string,
  spec: string,
): void {
  const { items, bad } = parseEgress(spec);
  for (const text of bad) {
    b.warn('mapping.bad-egress', `config/MIDO_MD_${tag}_EGRESS`, `ignored egress item ${text}`);
  }
  for (const item of items) {
    const fields: RuleFields = {
      type: 'accept',
      dlType: 0x0800,
      nwProto: item.proto,
      nwDstAddress: dst,
      nwDstLength: 32,
    };
    if (item.from !== undefined) fields.tpDst = { start: item.from, end: item.to! };
    b.rule(chain, `${tag}:${item.text}`, OWNER, fields);
  }
}

/** Adds a VPC's metadata uplink (linked to eucamdbr), its routes and its two chains. */
export function mapVpcMetadata(
  b: TopologyBuilder,
  md: MdRefs,
  vpcId: string,
  routerName: string,
  routerId: string,
  rtid: number,
): VpcMd {
  const uplinkIp = formatIp(PLAN.intMdNet + rtid);
  const uplink: DraftPort = addRouterPort(
    b,
    vpcId,
    routerName,
    routerId,
    'mduplink',
    uplinkIp,
    INT_MD_NET,
  );
  link(uplink, addBridgePort(b, vpcId, CORE.mdBridge, md.bridgeId, `vpc:${vpcId}`));
  const gateway = formatIp(PLAN.intMdNet + 1);
  for (const dst of [MD_HTTP, MD_DNS]) {
    const addr = PLAN.extMdNet + (dst === MD_HTTP ? 6 : 5);
    addRoute(b, vpcId, routerName, routerId, { addr, len: 32 }, uplink.id, 'mduplink', { gateway });
  }
  const mdulin = b.chain(`vc_${vpcId}_mdulin`, vpcId);
  const mdulout = b.chain(`vc_${vpcId}_mdulout`, vpcId);
  uplink.inboundFilterId = mdulin.id;
  uplink.outboundFilterId = mdulout.id;
  return { mdulin, mdulout, uplinkIp };
}

/** Adds an interface's metadata NAT pair and the eucamdrt return route. */
export function mapInterfaceMetadata(
  b: TopologyBuilder,
  md: MdRefs,
  vmd: VpcMd,
  key: string,
  eniId: string,
  eniid: number,
  privateIp: string,
): void {
  const mdAddr = PLAN.mdNet + eniid;
  const mdIp = formatIp(mdAddr);
  b.rule(vmd.mdulout, `md:${key}`, key, {
    type: 'snat',
    dlType: 0x0800,
    nwSrcAddress: privateIp,
    nwSrcLength: 32,
    nwDstAddress: formatIp(PLAN.extMdNet),
    nwDstLength: PLAN.extMdLen,
    natTargets: [{ addressFrom: mdIp, addressTo: mdIp, portFrom: 0, portTo: 0 }],
    flowAction: 'continue',
    metadata: [{ key: ENI_METADATA_KEY, value: eniId }],
  });
  b.rule(vmd.mdulin, `md:${key}`, key, {
    type: 'dnat',
    dlType: 0x0800,
    nwDstAddress: mdIp,
    nwDstLength: 32,
    natTargets: [{ addressFrom: privateIp, addressTo: privateIp, portFrom: 0, portTo: 0 }],
    flowAction: 'continue',
  });
  addRoute(
    b,
    key,
    CORE.mdRouter,
    md.routerId,
    { addr: mdAddr, len: 32 },
    md.intPortId,
    `md:${key}`,
    {
      gateway: vmd.uplinkIp,
      weight: 100,
      key: `route:${CORE.mdRouter}:md:${key}`,
    },
  );
}
