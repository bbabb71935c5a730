/**
 * Network interface → bridge port bound to `vn_<id>` on the node that runs the instance, DHCP
 * host, ARP and MAC entries, chains `ic_<if>_prechain/postchain` with eucanetd's rules in
 * eucanetd's order (eucanetd-vpc.md §3.7; the legacy metaproxy items are never emitted), and
 * the address groups `elip_pre/post_<if>`. `<if>` is the instance id for the primary
 * interface (deviceIndex 0) and the ENI id otherwise.
 *
 * ARP rules (dlType 0x0806) use this encoding, which a datapath realizes as ARP field
 * matches: `nwSrc`/`nwDst` = sender/target protocol address (SPA/TPA), `nwProto` = opcode,
 * `dlSrc`/`dlDst` = sender/target hardware address (SHA/THA).
 */
import type { DhcpHost } from '../store/index.js';
import { TBD, type DraftChain, type TopologyBuilder } from './builder.js';
import type { InterfaceEntry } from './context.js';
import type { CoreRefs } from './core.js';
import { mapElasticIp } from './elastic-ip.js';
import { formatIp } from './ip.js';
import { hostInterfaceName } from './names.js';
import { addBridgePort } from './ports.js';
import type { SubnetCtx } from './subnet.js';
import { SLOT } from './slots.js';

/** The `metadata` key of an interface's prechain that names its instance. */
export const INSTANCE_KEY = 'instance';
/** The `metadata` key of an interface's prechain that names its ENI. */
export const ENI_KEY = 'eni';

const IPV4 = 0x0800;
/** The DHCP ports of an interface's `dhcp` rule: one frozen value for all of them. */
const DHCP_PORTS = Object.freeze({ start: 67, end: 68 });
const ARP = 0x0806;

/** What mapping an interface hands on (security-group membership, metadata). */
export interface MappedInterface {
  readonly privateIp: string;
  readonly publicIp: string | undefined;
  /** The subnet's DHCP host entry for this interface (none without a MAC). */
  readonly host: DhcpHost | undefined;
}

/** Adds the objects of one (non-held) interface; `sgs` are its security groups that exist. */
export function mapNetworkInterface(
  b: TopologyBuilder,
  e: InterfaceEntry,
  s: SubnetCtx,
  sgs: readonly string[],
  core: CoreRefs,
): MappedInterface {
  const { key, iface } = e;
  const cfg = b.config;
  const privateIp = formatIp(e.privateIp!);
  const publicIp = iface.publicIp ?? (iface.deviceIndex === 0 ? e.instance.publicIp : undefined);
  const mac = iface.macAddress ?? (iface.deviceIndex === 0 ? e.instance.macAddress : undefined);
  const path = `networkInterface/${iface.id}`;
  const t = cfg.tenantId;
  const pre = b.chain(`ic_${key}_prechain`, key);
  // the prechain names the instance and the ENI, so that a held instance (one whose document
  // lost its interfaces, or a second copy of an id) holds them from the stored objects alone
  (pre as { metadata: unknown }).metadata = [
    { key: INSTANCE_KEY, value: e.instance.id },
    { key: ENI_KEY, value: iface.id },
  ];
  const post = b.chain(`ic_${key}_postchain`, key);
  const elipPre = `elip_pre_${key}`;
  const elipPost = `elip_post_${key}`;
  b.put('ip-addr-group', {
    id: b.id(`ip-addr-group:${elipPre}`),
    owner: key,
    name: elipPre,
    tenantId: t,
    addresses: publicIp === undefined ? [] : [publicIp],
    ruleIds: SLOT,
    version: 0,
  });
  const elipPostId = b.id(`ip-addr-group:${elipPost}`);
  b.put('ip-addr-group', {
    id: elipPostId,
    owner: key,
    name: elipPost,
    tenantId: t,
    addresses: [privateIp],
    ruleIds: SLOT,
    version: 0,
  });

  const port = addBridgePort(b, key, s.bridgeName, s.bridgeId, `vn_${key}`);
  port.inboundFilterId = pre.id;
  port.outboundFilterId = post.id;
  const node = e.instance.node;
  if (node === undefined) {
    b.warn(
      'mapping.interface-unbound',
      path,
      `instance ${e.instance.id} runs on no node: port left unbound`,
    );
  } else {
    port.hostId = b.hostId(node);
    port.interfaceName = hostInterfaceName(key);
  }
  let host: DhcpHost | undefined;
  if (mac === undefined) {
    b.warn(
      'mapping.interface-no-mac',
      path,
      'no MAC address: no DHCP host, ARP/MAC entries or L2 checks',
    );
  } else {
    host = { macAddr: mac, ipAddr: privateIp, name: key, extraDhcpOpts: s.dhcp.hostOpts };
    if (cfg.enableArpTable) {
      b.put('arp-entry', {
        id: b.id(`arp:${s.bridgeName}:${privateIp}`),
        owner: key,
        bridgeId: s.bridgeId,
        ip: privateIp,
        mac,
        version: 0,
      });
      b.put('mac-entry', {
        id: b.id(`mac:${s.bridgeName}:${mac}`),
        owner: key,
        bridgeId: s.bridgeId,
        macAddr: mac,
        portId: port.id,
        version: 0,
      });
    }
  }
  const check = iface.sourceDestCheck;
  const isolate = !cfg.disableL2Isolation;
  preChainRules(b, pre, key, privateIp, mac, isolate, check, s, sgs);
  postChainRules(b, post, key, privateIp, mac, isolate, check, sgs);
  if (publicIp !== undefined) mapElasticIp(b, core, s.vpc, key, publicIp, privateIp, elipPostId);
  return { privateIp, publicIp, host };
}

function preChainRules(
  b: TopologyBuilder,
  c: DraftChain,
  key: string,
  ip: string,
  mac: string | undefined,
  isolate: boolean,
  check: boolean,
  s: SubnetCtx,
  sgs: readonly string[],
): void {
  if (isolate) {
    b.rule(c, 'arp-spa', key, {
      type: 'drop',
      dlType: ARP,
      nwSrcAddress: ip,
      nwSrcLength: 32,
      invNwSrc: true,
      id: TBD,
      chainId: TBD,
      owner: TBD,
      version: 0,
    });
    if (mac !== undefined)
      b.rule(c, 'arp-sha', key, {
        type: 'drop',
        dlType: ARP,
        dlSrc: mac,
        invDlSrc: true,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
    if (check) {
      b.rule(c, 'l3-src', key, {
        type: 'drop',
        dlType: IPV4,
        nwSrcAddress: ip,
        nwSrcLength: 32,
        invNwSrc: true,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
    }
    if (mac !== undefined)
      b.rule(c, 'l2-src', key, {
        type: 'drop',
        dlSrc: mac,
        invDlSrc: true,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
  }
  b.rule(c, 'return-flow', key, {
    type: 'accept',
    matchReturnFlow: true,
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
  b.rule(c, 'dot2', key, {
    type: 'accept',
    nwDstAddress: formatIp(s.cidr.addr + 2),
    nwDstLength: 31,
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
  if (b.config.enableMidoMd) {
    b.rule(c, 'md', key, {
      type: 'accept',
      nwDstAddress: '169.254.169.248',
      nwDstLength: 29,
      id: TBD,
      chainId: TBD,
      owner: TBD,
      version: 0,
    });
  }
  jumps(b, c, key, 'egress', sgs);
  b.rule(c, 'drop-non-arp', key, {
    type: 'drop',
    dlType: ARP,
    invDlType: true,
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
}

function postChainRules(
  b: TopologyBuilder,
  c: DraftChain,
  key: string,
  ip: string,
  mac: string | undefined,
  isolate: boolean,
  check: boolean,
  sgs: readonly string[],
): void {
  if (isolate) {
    b.rule(c, 'arp-tpa', key, {
      type: 'drop',
      dlType: ARP,
      nwDstAddress: ip,
      nwDstLength: 32,
      invNwDst: true,
      id: TBD,
      chainId: TBD,
      owner: TBD,
      version: 0,
    });
    if (mac !== undefined) {
      b.rule(c, 'arp-tha', key, {
        type: 'drop',
        dlType: ARP,
        nwProto: 2,
        dlDst: mac,
        invDlDst: true,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
    }
    if (check) {
      b.rule(c, 'dhcp', key, {
        type: 'accept',
        dlType: IPV4,
        nwProto: 17,
        tpDst: DHCP_PORTS,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
      b.rule(c, 'l3-dst', key, {
        type: 'drop',
        dlType: IPV4,
        nwDstAddress: ip,
        nwDstLength: 32,
        invNwDst: true,
        id: TBD,
        chainId: TBD,
        owner: TBD,
        version: 0,
      });
    }
  }
  b.rule(c, 'return-flow', key, {
    type: 'accept',
    matchReturnFlow: true,
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
  jumps(b, c, key, 'ingress', sgs);
  b.rule(c, 'drop-non-arp', key, {
    type: 'drop',
    dlType: ARP,
    invDlType: true,
    id: TBD,
    chainId: TBD,
    owner: TBD,
    version: 0,
  });
}

function jumps(
  b: TopologyBuilder,
  c: DraftChain,
  key: string,
  dir: 'ingress' | 'egress',
  sgs: readonly string[],
): void {
  const prefix = dir === 'ingress' ? 'sg_ingress_' : 'sg_egress_';
  for (const sg of sgs) {
    const target = b.chainRef(prefix, sg);
    b.rule(c, `sg:${sg}`, key, {
      type: 'jump',
      jumpChainId: target.id,
      jumpChainName: target.name,
      id: TBD,
      chainId: TBD,
      owner: TBD,
      version: 0,
    });
  }
}
