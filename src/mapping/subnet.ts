/**
 * Subnet → bridge `vb_<vpc>_<subnet>` (eucanetd-vpc.md §3.3, §3.10): a VPC router port at .1
 * with the subnet route (the "local" route), the bridge linked to it with VNI, chains
 * `sc_<subnet>_in/out` with their seed rules and one jump to the subnet's network ACL, the
 * DHCP subnet and the .2 ARP entry. Beyond eucanetd, the VPC's DHCP option set is applied
 * (domain name, DNS servers, NTP servers).
 */
import type { DhcpHost, ExtraDhcpOpt } from '../store/index.js';
import type { GlobalView, Subnet } from '../gni/index.js';
import type { DraftChain, RuleFields, TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import type { ViewIndex } from './context.js';
import { formatCidr, formatIp, hostAddress, type Cidr } from './ip.js';
import { subnetBridgeName } from './names.js';
import { addBridgePort, addRoute, addRouterPort, link } from './ports.js';
import type { VpcCtx } from './vpc.js';
import { SLOT } from './slots.js';

/** DHCP settings shared by every subnet of a VPC. */
export interface DhcpSettings {
  readonly dnsServers: readonly string[];
  readonly domainName: string | undefined;
  readonly ntpServers: readonly string[];
  /** Per-host `extraDhcpOpts` (`domain_search`), shared by every host. */
  readonly hostOpts: readonly ExtraDhcpOpt[];
}

/** A mapped subnet, as its interfaces, NAT gateways and route tables see it. */
export interface SubnetCtx {
  readonly subnet: Subnet;
  readonly vpc: VpcCtx;
  readonly cidr: Cidr;
  readonly bridgeName: string;
  readonly bridgeId: string;
  /** The VPC router port at .1. */
  readonly routerPortId: string;
  readonly gateway: string;
  readonly dhcp: DhcpSettings;
  /** DHCP hosts, filled in by the interfaces and sorted when mapping ends. */
  readonly hosts: DhcpHost[];
}

/** The DHCP settings of a VPC: its option set first, then the GNI configuration. */
export function dhcpSettings(
  view: GlobalView,
  idx: ViewIndex,
  dhcpOptionSet?: string,
): DhcpSettings {
  const opts = dhcpOptionSet === undefined ? undefined : idx.dhcpOptionSets.get(dhcpOptionSet);
  const conf = view.configuration;
  const dns =
    opts !== undefined && opts.domainNameServers.length > 0
      ? opts.domainNameServers
      : conf.instanceDNSServers.length > 0
        ? conf.instanceDNSServers
        : [PLAN.fallbackDns];
  const names = opts !== undefined && opts.domainName.length > 0 ? opts.domainName : undefined;
  const domainName = names?.[0] ?? conf.instanceDNSDomain;
  const search = names?.join(' ') ?? conf.instanceDNSDomain;
  return {
    dnsServers: dns,
    domainName,
    ntpServers: opts?.ntpServers ?? [],
    hostOpts: search === undefined ? [] : [{ optName: 'domain_search', optValue: search }],
  };
}

/** Adds a subnet's router port, route, bridge, chains and .2 ARP entry. */
export function mapSubnet(
  b: TopologyBuilder,
  v: VpcCtx,
  subnet: Subnet,
  cidr: Cidr,
  vni: number,
  dhcp: DhcpSettings,
): SubnetCtx {
  const owner = subnet.id;
  const gateway = hostAddress(cidr, 1);
  const port = addRouterPort(b, owner, v.routerName, v.routerId, `sub:${subnet.id}`, gateway, cidr);
  addRoute(b, owner, v.routerName, v.routerId, cidr, port.id, `sub:${subnet.id}`);
  const bridgeName = subnetBridgeName(v.vpc.id, subnet.id);
  const bridgeId = b.id(`bridge:${bridgeName}`);
  const chainIn = b.chain(`sc_${subnet.id}_in`, owner);
  const chainOut = b.chain(`sc_${subnet.id}_out`, owner);
  seedSubnetChain(b, chainIn, 'src', cidr, owner);
  seedSubnetChain(b, chainOut, 'dst', cidr, owner);
  const acl = subnet.networkAcl;
  if (acl !== undefined && v.vpc.networkAcls.some((a) => a.id === acl)) {
    for (const [chain, dir] of [
      [chainIn, 'ingress'],
      [chainOut, 'egress'],
    ] as const) {
      const target = `acl_${dir}_${v.vpc.id}_${acl}`;
      b.rule(chain, 'jump-acl', owner, {
        type: 'jump',
        jumpChainId: b.id(`chain:${target}`),
        jumpChainName: target,
      });
    }
  } else {
    b.warn(
      'mapping.acl-missing',
      `subnet/${subnet.id}`,
      `network ACL ${acl ?? '(none)'} not found: no ACL jump`,
    );
  }
  b.put('bridge', {
    id: bridgeId,
    owner,
    name: bridgeName,
    tenantId: b.config.tenantId,
    adminStateUp: true,
    inboundFilterId: chainIn.id,
    outboundFilterId: chainOut.id,
    vni,
    portIds: SLOT,
    dhcpIds: SLOT,
    arpEntryIds: SLOT,
    macEntryIds: SLOT,
    version: 0,
  });
  link(port, addBridgePort(b, owner, bridgeName, bridgeId, 'router'));
  const dot2 = hostAddress(cidr, 2);
  b.put('arp-entry', {
    id: b.id(`arp:${bridgeName}:${dot2}`),
    owner,
    bridgeId,
    ip: dot2,
    mac: port.portMac!,
    version: 0,
  });
  return {
    subnet,
    vpc: v,
    cidr,
    bridgeName,
    bridgeId,
    routerPortId: port.id,
    gateway,
    dhcp,
    hosts: [],
  };
}

/** The four seed rules, in their final order (each was inserted at position 1 by eucanetd,
 * so the last one created comes first). */
function seedSubnetChain(
  b: TopologyBuilder,
  chain: DraftChain,
  side: 'src' | 'dst',
  cidr: Cidr,
  owner: string,
): void {
  const net = (addr: number, len: number): RuleFields =>
    side === 'src'
      ? { type: 'accept', nwSrcAddress: formatIp(addr), nwSrcLength: len }
      : { type: 'accept', nwDstAddress: formatIp(addr), nwDstLength: len };
  b.rule(chain, 'subnet', owner, net(cidr.addr, cidr.len));
  b.rule(chain, 'dhcp', owner, {
    type: 'accept',
    dlType: 0x0800,
    nwProto: 17,
    tpDst: { start: 67, end: 68 },
  });
  b.rule(chain, 'linklocal', owner, net(0xa9fe0000, 16));
  b.rule(chain, 'reserved', owner, net(cidr.addr, 30));
}

/** Adds the subnet's DHCP subnet with its (sorted) hosts; called once interfaces are mapped. */
export function finishSubnet(b: TopologyBuilder, s: SubnetCtx): void {
  s.hosts.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const dhcp = s.dhcp;
  b.put('dhcp-subnet', {
    id: b.id(`dhcp:${s.bridgeName}`),
    owner: s.subnet.id,
    bridgeId: s.bridgeId,
    subnetPrefix: formatIp(s.cidr.addr),
    subnetLength: s.cidr.len,
    defaultGateway: s.gateway,
    dnsServerAddrs: dhcp.dnsServers,
    ...(dhcp.domainName === undefined ? {} : { domainName: dhcp.domainName }),
    ntpServers: dhcp.ntpServers,
    opt121Routes: [],
    enabled: true,
    hosts: s.hosts,
    version: 0,
  });
}

/** `a.b.c.d/n` of a subnet, for messages. */
export function subnetText(s: SubnetCtx): string {
  return formatCidr(s.cidr);
}
