/**
 * Each kind's writable fields as a small spec table (what `validate.ts` checks): type, whether
 * required, default, range, nested list element or object fields.
 */
import type { Kind } from './types.js';

/** The scalar types of a field. */
export type Scalar = 'str' | 'ref' | 'bool' | 'int' | 'ipv4' | 'mac' | 'macmask';

/** How one field (or one list element, or one nested field) is checked. */
export interface Spec {
  readonly t: Scalar | 'enum' | 'list' | 'obj';
  readonly req?: boolean;
  readonly def?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly of?: Spec;
  readonly fields?: Readonly<Record<string, Spec>>;
}

/** The fields of a kind or of a nested object. */
export type Fields = Readonly<Record<string, Spec>>;

const str: Spec = { t: 'str' };
const ref: Spec = { t: 'ref' };
const ipv4: Spec = { t: 'ipv4' };
const mac: Spec = { t: 'mac' };
const bool: Spec = { t: 'bool' };
const req = (s: Spec): Spec => ({ ...s, req: true });
const def = (s: Spec, d: unknown): Spec => ({ ...s, def: d });
const int = (min: number, max: number): Spec => ({ t: 'int', min, max });
const oneOf = (...values: string[]): Spec => ({ t: 'enum', values });
const list = (of: Spec): Spec => ({ t: 'list', of, def: Object.freeze([]) });
const obj = (fields: Fields): Spec => ({ t: 'obj', fields });

const prefixLen = int(0, 32);
const u16 = int(0, 65535);
const u8 = int(0, 255);
const metadata = list(obj({ key: req(str), value: req(str) }));
const common: Fields = { id: req(ref), owner: str };
const device: Fields = {
  ...common,
  name: req(str),
  tenantId: str,
  adminStateUp: def(bool, true),
  inboundFilterId: ref,
  outboundFilterId: ref,
};
const RULE_TYPES = ['accept', 'drop', 'reject', 'return', 'jump', 'continue', 'dnat', 'snat'];

/** Writable fields of every kind. */
export const FIELDS: { readonly [K in Kind]: Fields } = {
  router: {
    ...device,
    asNumber: int(0, 4294967295),
    localRedirectChainId: ref,
    forwardChainId: ref,
  },
  bridge: { ...device, vni: int(0, 16777215) },
  port: {
    ...common,
    type: req(oneOf('Router', 'Bridge')),
    routerId: ref,
    bridgeId: ref,
    adminStateUp: def(bool, true),
    peerId: ref,
    hostId: ref,
    interfaceName: str,
    portAddress: ipv4,
    networkAddress: ipv4,
    networkLength: prefixLen,
    portMac: mac,
    vlanId: int(0, 4095),
    inboundFilterId: ref,
    outboundFilterId: ref,
    portGroupIds: list(ref),
  },
  chain: { ...common, name: req(str), tenantId: str, metadata },
  rule: {
    ...common,
    chainId: req(ref),
    type: req(oneOf(...RULE_TYPES, 'rev_dnat', 'rev_snat')),
    condInvert: bool,
    matchForwardFlow: bool,
    matchReturnFlow: bool,
    inPorts: { t: 'list', of: ref },
    invInPorts: bool,
    outPorts: { t: 'list', of: ref },
    invOutPorts: bool,
    portGroup: ref,
    invPortGroup: bool,
    inPortGroup: ref,
    invInPortGroup: bool,
    outPortGroup: ref,
    invOutPortGroup: bool,
    noVlan: bool,
    vlan: int(0, 4095),
    ipAddrGroupSrc: ref,
    invIpAddrGroupSrc: bool,
    ipAddrGroupDst: ref,
    invIpAddrGroupDst: bool,
    dlType: u16,
    invDlType: bool,
    dlSrc: mac,
    dlSrcMask: { t: 'macmask' },
    invDlSrc: bool,
    dlDst: mac,
    dlDstMask: { t: 'macmask' },
    invDlDst: bool,
    nwTos: u8,
    invNwTos: bool,
    nwProto: u8,
    invNwProto: bool,
    nwSrcAddress: ipv4,
    nwSrcLength: prefixLen,
    invNwSrc: bool,
    nwDstAddress: ipv4,
    nwDstLength: prefixLen,
    invNwDst: bool,
    tpSrc: obj({ start: req(u16), end: req(u16) }),
    invTpSrc: bool,
    tpDst: obj({ start: req(u16), end: req(u16) }),
    invTpDst: bool,
    fragmentPolicy: oneOf('any', 'nonheader', 'header', 'unfragmented'),
    jumpChainId: ref,
    jumpChainName: str,
    natTargets: {
      t: 'list',
      of: obj({
        addressFrom: req(ipv4),
        addressTo: req(ipv4),
        portFrom: req(u16),
        portTo: req(u16),
      }),
    },
    flowAction: oneOf('accept', 'continue', 'return'),
    metadata: { t: 'list', of: obj({ key: req(str), value: req(str) }) },
  },
  'ip-addr-group': { ...common, name: req(str), tenantId: str, addresses: list(ipv4) },
  route: {
    ...common,
    routerId: req(ref),
    type: req(oneOf('Normal', 'BlackHole', 'Reject', 'Local')),
    srcNetworkAddr: req(ipv4),
    srcNetworkLength: req(prefixLen),
    dstNetworkAddr: req(ipv4),
    dstNetworkLength: req(prefixLen),
    nextHopPort: ref,
    nextHopGateway: ipv4,
    weight: def(int(0, 2147483647), 100),
    attributes: str,
  },
  'dhcp-subnet': {
    ...common,
    bridgeId: req(ref),
    subnetPrefix: req(ipv4),
    subnetLength: req(prefixLen),
    defaultGateway: ipv4,
    serverAddr: ipv4,
    dnsServerAddrs: list(ipv4),
    domainName: str,
    ntpServers: list(ipv4),
    interfaceMTU: int(68, 65535),
    opt121Routes: list(
      obj({
        destinationPrefix: req(ipv4),
        destinationLength: req(prefixLen),
        gatewayAddr: req(ipv4),
      }),
    ),
    enabled: def(bool, true),
    hosts: list(
      obj({
        macAddr: req(mac),
        ipAddr: req(ipv4),
        name: def(str, ''),
        extraDhcpOpts: list(obj({ optName: req(str), optValue: req(str) })),
      }),
    ),
  },
  host: {
    ...common,
    name: req(str),
    addresses: list(ipv4),
    floodingProxyWeight: int(0, 65535),
    // absent until the host's agent reports (no default: hosts the mapping makes stay as made)
    interfaces: {
      t: 'list',
      of: obj({
        name: req(str),
        mac: mac,
        mtu: int(0, 65535),
        isUp: def(bool, false),
        addresses: list(ipv4),
      }),
    },
    heartbeatAt: int(0, Number.MAX_SAFE_INTEGER),
    heartbeatTtlMs: int(0, 86_400_000),
  },
  'tunnel-zone': {
    ...common,
    name: req(str),
    type: req(oneOf('gre', 'vxlan', 'vtep')),
    hosts: list(obj({ hostId: req(ref), ipAddress: req(ipv4) })),
  },
  'port-group': { ...common, name: req(str), tenantId: str, stateful: def(bool, false) },
  'bgp-peer': {
    ...common,
    routerId: req(ref),
    asNumber: req(int(1, 4294967295)),
    address: req(ipv4),
    keepAlive: int(0, 65535),
    holdTime: int(0, 65535),
    connectRetry: int(0, 65535),
    password: str,
  },
  'bgp-network': {
    ...common,
    routerId: req(ref),
    subnetAddress: req(ipv4),
    subnetLength: req(prefixLen),
  },
  'arp-entry': { ...common, bridgeId: req(ref), ip: req(ipv4), mac: req(mac) },
  'mac-entry': {
    ...common,
    bridgeId: req(ref),
    macAddr: req(mac),
    portId: req(ref),
    vlanId: int(0, 4095),
  },
};

/** Per kind, the writable fields that hold a list or an object (what a writer can freeze to
 * have the store keep it as it is). */
export const NESTED_FIELDS: { readonly [K in Kind]: readonly string[] } = Object.fromEntries(
  Object.entries(FIELDS).map(([kind, fields]) => [
    kind,
    Object.keys(fields).filter((n) => fields[n]!.t === 'list' || fields[n]!.t === 'obj'),
  ]),
) as unknown as { readonly [K in Kind]: readonly string[] };
