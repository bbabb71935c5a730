/**
 * Store objects → MidoNet v5 JSON: the stored fields (already MidoNet's camelCase names) plus
 * the absolute URIs and computed fields the MidoNet client library follows (`uri`, child
 * collection URIs, `deviceId`, `portSubnet`, rule `position`, …). Pure functions.
 */
import type {
  AnyObject,
  BgpNetwork,
  BgpPeer,
  Bridge,
  Chain,
  DhcpHost,
  DhcpSubnet,
  Host,
  HostInterface,
  IpAddrGroup,
  Port,
  PortGroup,
  Route,
  Router,
  Rule,
  TunnelZone,
  TunnelZoneHost,
} from '../store/index.js';
import type { MediaType } from './http.js';
import { RULE_BOOLS } from './validate.js';

/** A JSON object as sent to clients. */
export type Dto = Record<string, unknown>;

/** Vendor media types (name and version) of every resource. */
export const MT = {
  application: { name: 'Application', version: 5 },
  router: { name: 'Router', version: 3 },
  bridge: { name: 'Bridge', version: 4 },
  port: { name: 'Port', version: 3 },
  portLink: { name: 'PortLink', version: 1 },
  route: { name: 'Route', version: 1 },
  chain: { name: 'Chain', version: 1 },
  rule: { name: 'Rule', version: 2 },
  ipAddrGroup: { name: 'IpAddrGroup', version: 1 },
  ipAddrGroupAddr: { name: 'IpAddrGroupAddr', version: 1 },
  portGroup: { name: 'PortGroup', version: 1 },
  portGroupPort: { name: 'PortGroupPort', version: 1 },
  dhcpSubnet: { name: 'DhcpSubnet', version: 2 },
  dhcpHost: { name: 'DhcpHost', version: 2 },
  host: { name: 'Host', version: 3 },
  hostInterfacePort: { name: 'HostInterfacePort', version: 1 },
  hostInterface: { name: 'Interface', version: 1 },
  tunnelZone: { name: 'TunnelZone', version: 1 },
  tunnelZoneHost: { name: 'TunnelZoneHost', version: 1 },
  systemState: { name: 'SystemState', version: 2 },
  bgpPeer: { name: 'BgpPeer', version: 1 },
  bgpNetwork: { name: 'BgpNetwork', version: 1 },
  tenant: { name: 'Tenant', version: 2 },
  token: { name: 'Token', version: 1 },
} as const satisfies Record<string, MediaType>;

function chainUri(base: string, id: string | undefined): string | null {
  return id === undefined ? null : `${base}/chains/${id}`;
}

function filters(base: string, o: { inboundFilterId?: string; outboundFilterId?: string }): Dto {
  return {
    inboundFilterId: o.inboundFilterId ?? null,
    outboundFilterId: o.outboundFilterId ?? null,
    inboundFilter: chainUri(base, o.inboundFilterId),
    outboundFilter: chainUri(base, o.outboundFilterId),
  };
}

/** Router → JSON. */
export function routerDto(base: string, r: Router): Dto {
  const uri = `${base}/routers/${r.id}`;
  return {
    ...r,
    tenantId: r.tenantId ?? null,
    asNumber: r.asNumber ?? null,
    ...filters(base, r),
    localRedirectChainId: r.localRedirectChainId ?? null,
    forwardChainId: r.forwardChainId ?? null,
    localRedirectChain: chainUri(base, r.localRedirectChainId),
    forwardChain: chainUri(base, r.forwardChainId),
    loadBalancerId: null,
    loadBalancer: null,
    inboundMirrorIds: [],
    outboundMirrorIds: [],
    uri,
    ports: `${uri}/ports`,
    peerPorts: `${uri}/peer_ports`,
    routes: `${uri}/routes`,
    bgpNetworks: `${uri}/bgp_networks`,
    bgpPeers: `${uri}/bgp_peers`,
  };
}

/** Bridge → JSON. */
export function bridgeDto(base: string, b: Bridge): Dto {
  const uri = `${base}/bridges/${b.id}`;
  return {
    ...b,
    tenantId: b.tenantId ?? null,
    ...filters(base, b),
    qosPolicyId: null,
    inboundMirrorIds: [],
    outboundMirrorIds: [],
    vxLanPortIds: [],
    uri,
    ports: `${uri}/ports`,
    peerPorts: `${uri}/peer_ports`,
    dhcpSubnets: `${uri}/dhcp`,
    macTable: `${uri}/mac_table`,
    arpTable: `${uri}/arp_table`,
  };
}

/** Port → JSON (router ports get `portSubnet`, every port `deviceId` and `device`). */
export function portDto(base: string, p: Port): Dto {
  const uri = `${base}/ports/${p.id}`;
  const deviceId = p.type === 'Router' ? p.routerId : p.bridgeId;
  const devices = p.type === 'Router' ? 'routers' : 'bridges';
  const bound = p.hostId !== undefined && p.interfaceName !== undefined;
  const dto: Dto = {
    ...p,
    ...filters(base, p),
    deviceId: deviceId ?? null,
    device: deviceId === undefined ? null : `${base}/${devices}/${deviceId}`,
    hostId: p.hostId ?? null,
    interfaceName: p.interfaceName ?? null,
    peerId: p.peerId ?? null,
    active: bound,
    vifId: null,
    qosPolicyId: null,
    inboundMirrorIds: [],
    outboundMirrorIds: [],
    postInFilterMirrorIds: [],
    preOutFilterMirrorIds: [],
    insertionIds: [],
    uri,
    peer: p.peerId === undefined ? null : `${base}/ports/${p.peerId}`,
    link: `${uri}/link`,
    host: p.hostId === undefined ? null : `${base}/hosts/${p.hostId}`,
    hostInterfacePort: bound ? `${base}/hosts/${p.hostId!}/ports/${p.id}` : null,
    portGroups: `${uri}/port_groups`,
  };
  if (p.type === 'Router') {
    const subnet =
      p.portAddress !== undefined && p.networkLength !== undefined
        ? [`${p.portAddress}/${p.networkLength}`]
        : [];
    Object.assign(dto, {
      portSubnet: subnet,
      portAddress: p.portAddress ?? null,
      networkAddress: p.networkAddress ?? null,
      networkLength: p.networkLength ?? null,
      portMac: p.portMac ?? null,
      rtrPortVni: null,
      offRampVxlan: false,
      serviceContainerId: null,
      bgpStatus: null,
    });
  } else {
    dto['vlanId'] = p.vlanId ?? null;
  }
  return dto;
}

/** Chain → JSON. */
export function chainDto(base: string, c: Chain): Dto {
  const uri = `${base}/chains/${c.id}`;
  return { ...c, tenantId: c.tenantId ?? null, uri, rules: `${uri}/rules` };
}

/** Condition fields MidoNet always sends, with its defaults (false or null): the stored boolean
 * conditions plus the ones we do not model (always their default). */
const RULE_FLAGS = [
  ...RULE_BOOLS,
  'invTraversedDevice',
  'invIcmpDataSrcIp',
  'invIcmpDataDstIp',
  'matchNwDstRewritten',
] as const;
const RULE_NULLS = [
  'inPorts',
  'outPorts',
  'portGroup',
  'inPortGroup',
  'outPortGroup',
  'ipAddrGroupSrc',
  'ipAddrGroupDst',
  'traversedDevice',
  'vlan',
  'dlType',
  'dlSrc',
  'dlSrcMask',
  'dlDst',
  'dlDstMask',
  'nwTos',
  'nwProto',
  'nwSrcAddress',
  'nwSrcLength',
  'nwDstAddress',
  'nwDstLength',
  'tpSrc',
  'tpDst',
  'icmpDataSrcIpAddress',
  'icmpDataSrcIpLength',
  'icmpDataDstIpAddress',
  'icmpDataDstIpLength',
  'meterName',
] as const;

/** Rule → JSON; `position` is its 1-based index in the chain's `ruleIds`. Every condition
 * field is present (MidoNet's default when unset); `fragmentPolicy` shows the effective policy
 * (`header` with L4 fields, else `any`, when none was set). */
export function ruleDto(base: string, r: Rule, position: number): Dto {
  const dto: Dto = {};
  for (const f of RULE_FLAGS) dto[f] = false;
  for (const f of RULE_NULLS) dto[f] = null;
  const l4 = r.tpSrc !== undefined || r.tpDst !== undefined;
  return {
    ...dto,
    ...r,
    fragmentPolicy: r.fragmentPolicy ?? (l4 ? 'header' : 'any'),
    position,
    uri: `${base}/rules/${r.id}`,
    chain: `${base}/chains/${r.chainId}`,
    jumpChainId: r.jumpChainId ?? null,
    flowAction: r.flowAction ?? null,
  };
}

/** IP address group → JSON (members under `addrs`). */
export function ipAddrGroupDto(base: string, g: IpAddrGroup): Dto {
  const uri = `${base}/ip_addr_groups/${g.id}`;
  return { ...g, tenantId: g.tenantId ?? null, uri, addrs: `${uri}/ip_addrs` };
}

/** One IP address group member → JSON. */
export function ipAddrGroupAddrDto(base: string, groupId: string, addr: string): Dto {
  const group = `${base}/ip_addr_groups/${groupId}`;
  return {
    addr,
    version: 4,
    ipAddrGroupId: groupId,
    uri: `${group}/versions/4/ip_addrs/${encodeURIComponent(addr)}`,
    ipAddrGroup: group,
  };
}

/** Route → JSON. */
export function routeDto(base: string, r: Route): Dto {
  return {
    ...r,
    nextHopPort: r.nextHopPort ?? null,
    nextHopGateway: r.nextHopGateway ?? null,
    attributes: r.attributes ?? null,
    learned: false,
    uri: `${base}/routes/${r.id}`,
    router: `${base}/routers/${r.routerId}`,
  };
}

/** The URI key of a DHCP subnet (`10.0.0.0_24`). */
export function subnetKey(s: { subnetPrefix: string; subnetLength: number }): string {
  return `${s.subnetPrefix}_${s.subnetLength}`;
}

/** The URI form of a MAC (MidoNet writes dashes). */
export function macKey(mac: string): string {
  return mac.toLowerCase().replaceAll(':', '-');
}

/** DHCP subnet → JSON (the nested hosts are a sub-collection: `hosts` is its URI). */
export function dhcpSubnetDto(base: string, s: DhcpSubnet): Dto {
  const uri = `${base}/bridges/${s.bridgeId}/dhcp/${subnetKey(s)}`;
  const { hosts: _hosts, ...rest } = s;
  return {
    ...rest,
    defaultGateway: s.defaultGateway ?? null,
    serverAddr: s.serverAddr ?? null,
    dnsServerAddrs: s.dnsServerAddrs.length > 0 ? s.dnsServerAddrs : null,
    interfaceMTU: s.interfaceMTU ?? null,
    uri,
    hosts: `${uri}/hosts`,
  };
}

/** DHCP host → JSON. */
export function dhcpHostDto(base: string, s: DhcpSubnet, h: DhcpHost): Dto {
  const subnet = `${base}/bridges/${s.bridgeId}/dhcp/${subnetKey(s)}`;
  return { ...h, uri: `${subnet}/hosts/${macKey(h.macAddr)}` };
}

/** True while the host's agent heartbeat counts (`heartbeatAt + heartbeatTtlMs`). */
export function isHostAlive(h: Host, now = Date.now()): boolean {
  return h.heartbeatAt !== undefined && now < h.heartbeatAt + (h.heartbeatTtlMs ?? 30_000);
}

/** A host interface as its agent reported it → MidoNet's Interface JSON. */
export function hostInterfaceDto(base: string, h: Host, i: HostInterface): Dto {
  return {
    hostId: h.id,
    name: i.name,
    mac: i.mac ?? null,
    mtu: i.mtu ?? 0,
    status: i.isUp ? 3 : 0, // MidoNet's bits: 1 up, 2 carrier
    type: 'Unknown',
    endpoint: 'UNKNOWN',
    portType: null,
    addresses: i.addresses,
    uri: `${base}/hosts/${h.id}/interfaces/${encodeURIComponent(i.name)}`,
  };
}

/** Host → JSON: `alive` from the agent's heartbeat, `hostInterfaces` from its report. */
export function hostDto(base: string, h: Host): Dto {
  const uri = `${base}/hosts/${h.id}`;
  const { interfaces, heartbeatAt: _at, heartbeatTtlMs: _ttl, ...rest } = h;
  return {
    ...rest,
    alive: isHostAlive(h),
    hostInterfaces: (interfaces ?? []).map((i) => hostInterfaceDto(base, h, i)),
    floodingProxyWeight: h.floodingProxyWeight ?? 1,
    containerWeight: 1,
    containerLimit: -1,
    enforceContainerLimit: false,
    uri,
    ports: `${uri}/ports`,
    interfaces: `${uri}/interfaces`,
  };
}

/** A port binding (HostInterfacePort) → JSON. */
export function hostInterfacePortDto(base: string, p: Port): Dto {
  return {
    hostId: p.hostId ?? null,
    portId: p.id,
    interfaceName: p.interfaceName ?? null,
    uri: `${base}/hosts/${p.hostId ?? ''}/ports/${p.id}`,
    host: `${base}/hosts/${p.hostId ?? ''}`,
    port: `${base}/ports/${p.id}`,
  };
}

/** Tunnel zone → JSON (members are a sub-collection: `hosts` is its URI). */
export function tunnelZoneDto(base: string, z: TunnelZone): Dto {
  const uri = `${base}/tunnel_zones/${z.id}`;
  const { hosts, ...rest } = z;
  return { ...rest, hostIds: hosts.map((h) => h.hostId), uri, hosts: `${uri}/hosts` };
}

/** Tunnel zone member → JSON. */
export function tunnelZoneHostDto(base: string, zoneId: string, h: TunnelZoneHost): Dto {
  const zone = `${base}/tunnel_zones/${zoneId}`;
  return {
    tunnelZoneId: zoneId,
    hostId: h.hostId,
    ipAddress: h.ipAddress,
    uri: `${zone}/hosts/${h.hostId}`,
    host: `${base}/hosts/${h.hostId}`,
    tunnelZone: zone,
  };
}

/** Port group → JSON. */
export function portGroupDto(base: string, g: PortGroup): Dto {
  const uri = `${base}/port_groups/${g.id}`;
  return { ...g, tenantId: g.tenantId ?? null, uri, ports: `${uri}/ports` };
}

/** Port group member → JSON. */
export function portGroupPortDto(base: string, groupId: string, portId: string): Dto {
  const group = `${base}/port_groups/${groupId}`;
  return {
    portGroupId: groupId,
    portId,
    uri: `${group}/ports/${portId}`,
    port: `${base}/ports/${portId}`,
    portGroup: group,
  };
}

/** BGP peer → JSON. */
export function bgpPeerDto(base: string, p: BgpPeer): Dto {
  return {
    ...p,
    keepAlive: p.keepAlive ?? null,
    holdTime: p.holdTime ?? null,
    connectRetry: p.connectRetry ?? null,
    password: p.password ?? null,
    uri: `${base}/bgp_peers/${p.id}`,
    router: `${base}/routers/${p.routerId}`,
  };
}

/** BGP network → JSON. */
export function bgpNetworkDto(base: string, n: BgpNetwork): Dto {
  return { ...n, uri: `${base}/bgp_networks/${n.id}`, router: `${base}/routers/${n.routerId}` };
}

/** Tenant → JSON: the tenant-scoped collections filtered by `tenant_id`. */
export function tenantDto(base: string, id: string): Dto {
  const q = `?tenant_id=${encodeURIComponent(id)}`;
  return {
    id,
    name: id,
    description: null,
    enabled: true,
    uri: `${base}/tenants/${encodeURIComponent(id)}`,
    routers: `${base}/routers${q}`,
    bridges: `${base}/bridges${q}`,
    chains: `${base}/chains${q}`,
    portGroups: `${base}/port_groups${q}`,
  };
}

/** Strips `version` and the given back-reference fields: the writable part of an object. */
export function writablePart(o: AnyObject, backRefs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  delete out['version'];
  for (const f of backRefs) delete out[f];
  return out;
}
