/**
 * Fields of a REST body that are not writable fields of the kind. MidoNet's Jackson binding
 * ignores unknown properties; we do not: a field is either stored (validate.ts), or one of the
 * read-only fields our own DTOs carry (URIs, computed fields, back-references: a client that
 * PUTs back what it read is fine, they are ignored), or a MidoNet field we neither store nor
 * realize, accepted only with its default value. Anything else is a 400 that names the field,
 * so no write is ever half-applied with a field silently dropped.
 */
import { BACK_REFERENCE_FIELDS, type Kind } from '../store/index.js';
import type { Violation } from './http.js';

/** Marks a read-only field: any value is accepted and ignored. */
const READ_ONLY = Symbol('read-only');
type Extra = typeof READ_ONLY | boolean | number | readonly never[];

const ro = (...names: string[]): Record<string, Extra> =>
  Object.fromEntries(names.map((n) => [n, READ_ONLY]));

const FILTER_URIS = ro('inboundFilter', 'outboundFilter');
const MIRRORS: Record<string, Extra> = { inboundMirrorIds: [], outboundMirrorIds: [] };

/** Per kind: read-only fields and MidoNet fields accepted only with their default. */
const EXTRAS: { readonly [K in Kind]: Readonly<Record<string, Extra>> } = {
  router: {
    ...ro('ports', 'peerPorts', 'routes', 'bgpNetworks', 'bgpPeers'),
    ...ro('localRedirectChain', 'forwardChain', 'loadBalancer'),
    ...FILTER_URIS,
    ...MIRRORS,
    traceRequestIds: [],
  },
  bridge: {
    ...ro('ports', 'peerPorts', 'dhcpSubnets', 'dhcpSubnet6s', 'macTable', 'arpTable'),
    ...ro('vlanMacTableTemplate', 'macPortTemplate', 'vlanMacPortTemplate', 'vxLanPorts'),
    ...FILTER_URIS,
    ...MIRRORS,
    vxLanPortIds: [],
    dhcpv6Ids: [],
    traceRequestIds: [],
  },
  port: {
    ...ro('deviceId', 'device', 'active', 'peer', 'link', 'host', 'hostInterfacePort'),
    ...ro('portGroups', 'tunnelKey', 'bgpStatus', 'previousHostId', 'portSubnet'),
    ...ro('peeringTable', 'serviceContainer', 'remotePeers'),
    ...FILTER_URIS,
    ...MIRRORS,
    postInFilterMirrorIds: [],
    preOutFilterMirrorIds: [],
    mirrorIds: [],
    insertionIds: [],
    serviceInsertionIds: [],
    traceRequestIds: [],
    fipNatRuleIds: [],
    offRampVxlan: false,
  },
  chain: ro('rules'),
  rule: {
    ...ro('position', 'chain'),
    invTraversedDevice: false,
    icmpDataSrcIpLength: 0,
    invIcmpDataSrcIp: false,
    icmpDataDstIpLength: 0,
    invIcmpDataDstIp: false,
    matchNwDstRewritten: false,
    limit: 0,
    popVlan: false,
    pushVlan: 0,
    ingress: false,
    failOpen: false,
  },
  'ip-addr-group': { ...ro('addrs'), ipAddrPorts: [] },
  route: ro('learned', 'router'),
  'dhcp-subnet': {},
  host: {
    ...ro('alive', 'hostInterfaces', 'ports', 'interfaces'),
    containerWeight: 1,
    containerLimit: -1,
    enforceContainerLimit: false,
  },
  'tunnel-zone': ro('hostIds'),
  'port-group': {},
  'bgp-peer': ro('router'),
  'bgp-network': ro('router'),
  'arp-entry': {},
  'mac-entry': {},
};

/** Fields every DTO carries that a client may send back. */
const ALWAYS = new Set(['uri', 'version']);

function sameDefault(v: unknown, d: Extra): boolean {
  if (Array.isArray(d)) return Array.isArray(v) && v.length === 0;
  if (typeof d === 'number') return v === d || v === String(d);
  return v === d || v === String(d);
}

function describe(d: Extra): string {
  return Array.isArray(d) ? '[]' : String(d);
}

/**
 * Checks the body's fields outside `known` (the kind's writable fields): read-only fields and
 * unset (`null`) values pass, MidoNet defaults pass, anything else is a violation.
 */
export function checkExtraFields(
  kind: Kind,
  body: Readonly<Record<string, unknown>>,
  known: Readonly<Record<string, unknown>>,
  out: Violation[],
): void {
  const extras = EXTRAS[kind];
  const backRefs: readonly string[] = BACK_REFERENCE_FIELDS[kind];
  for (const [name, v] of Object.entries(body)) {
    if (name in known || v === null || v === undefined) continue;
    if (ALWAYS.has(name) || backRefs.includes(name)) continue;
    const extra = Object.hasOwn(extras, name) ? extras[name] : undefined;
    if (extra === READ_ONLY) continue;
    if (extra !== undefined) {
      if (!sameDefault(v, extra)) {
        out.push({
          property: name,
          message: `is not supported by this server (only the default ${describe(extra)} is accepted)`,
        });
      }
      continue;
    }
    out.push({ property: name, message: `is not a field this server stores for a ${kind}` });
  }
}

/** Nested objects: an unknown non-null property is a violation (`uri` is read-only). */
export function checkNestedExtras(
  body: Readonly<Record<string, unknown>>,
  known: Readonly<Record<string, unknown>>,
  prefix: string,
  out: Violation[],
): void {
  for (const [name, v] of Object.entries(body)) {
    if (name in known || name === 'uri' || v === null || v === undefined) continue;
    out.push({ property: prefix + name, message: 'is not a field this server stores' });
  }
}
