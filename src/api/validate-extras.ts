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

/** Marks a link field (a URI, or a list the server keeps): any value is accepted and ignored. */
const READ_ONLY = Symbol('read-only');
/** Marks server-computed state (`active`, `alive`, …): accepted only when it equals what the
 * server reports for the object (on a PUT), or the state of a new object (on a create). */
const STATE = Symbol('state');
type Extra = typeof READ_ONLY | typeof STATE | boolean | number | readonly never[];

const ro = (...names: string[]): Record<string, Extra> =>
  Object.fromEntries(names.map((n) => [n, READ_ONLY]));
const state = (...names: string[]): Record<string, Extra> =>
  Object.fromEntries(names.map((n) => [n, STATE]));

/** The state of a new object, per state field (`deviceId` is the device in the path). */
const NEW_STATE: Readonly<Record<string, unknown>> = {
  active: false,
  alive: false,
  hostInterfaces: [],
  learned: false,
  hostIds: [],
};

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
    ...ro('device', 'peer', 'link', 'host', 'hostInterfacePort', 'portGroups', 'portSubnet'),
    ...ro('peeringTable', 'serviceContainer', 'remotePeers'),
    ...state('deviceId', 'active'),
    tunnelKey: 0,
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
  route: { ...ro('router'), ...state('learned') },
  'dhcp-subnet': {},
  host: {
    ...ro('ports', 'interfaces'),
    ...state('alive', 'hostInterfaces'),
    containerWeight: 1,
    containerLimit: -1,
    enforceContainerLimit: false,
  },
  'tunnel-zone': state('hostIds'),
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

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(d: Extra): string {
  return Array.isArray(d) ? '[]' : String(d);
}

/**
 * Checks the body's fields outside `known` (the kind's writable fields): links and unset
 * (`null`) values pass, state fields pass when they equal `current` (the object's DTO, on a
 * PUT) or a new object's state (on a create), MidoNet defaults pass; anything else is a
 * violation.
 */
export function checkExtraFields(
  kind: Kind,
  body: Readonly<Record<string, unknown>>,
  known: Readonly<Record<string, unknown>>,
  out: Violation[],
  current?: Readonly<Record<string, unknown>>,
): void {
  const extras = EXTRAS[kind];
  const backRefs: readonly string[] = BACK_REFERENCE_FIELDS[kind];
  for (const [name, v] of Object.entries(body)) {
    if (name in known || v === null || v === undefined) continue;
    if (ALWAYS.has(name) || backRefs.includes(name)) continue;
    const extra = Object.hasOwn(extras, name) ? extras[name] : undefined;
    if (extra === READ_ONLY) continue;
    if (extra === STATE) {
      const device = body['routerId'] ?? body['bridgeId'];
      const expected = current ? current[name] : name === 'deviceId' ? device : NEW_STATE[name];
      if (!same(v, expected)) {
        out.push({
          property: name,
          message: `is set by the server (it is ${JSON.stringify(expected ?? null)} here)`,
        });
      }
      continue;
    }
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
