/**
 * Field validation: each kind's writable fields as a small spec table. `normalizeObject`
 * builds a fresh object from client input (copying only known fields) whose nested values are
 * deeply frozen, or throws an `InvalidFieldError` naming `kind/id` and the field.
 *
 * Sharing: a nested list or object of the input that is already frozen, plain (an array or an
 * object of Object.prototype) and valid as it is, is kept, not copied: nobody can change it
 * any more, so the store and whoever made it (the mapping's desired objects, handed over
 * frozen by the reconciler) hold one copy. Anything else (JSON from the API, unfrozen input)
 * is copied and frozen, so a caller's later change never reaches the store.
 *
 * Adoption: a bulk create keeps a whole object the writer handed over (`handOver`) as the
 * stored object itself, when it is already exactly what validation makes of it and its kind
 * has no back-reference fields: the store then only adds `version` and freezes it (rules,
 * routes, DHCP subnets, ARP and MAC entries: most of a cold build's objects, one copy instead
 * of two for the store and the mapping's desired topology).
 */
import { InvalidFieldError } from './errors.js';
import { BACK_REFERENCE_FIELDS, type Kind } from './types.js';

type Scalar = 'str' | 'ref' | 'bool' | 'int' | 'ipv4' | 'mac' | 'macmask';

interface Spec {
  readonly t: Scalar | 'enum' | 'list' | 'obj';
  readonly req?: boolean;
  readonly def?: unknown;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly of?: Spec;
  readonly fields?: Readonly<Record<string, Spec>>;
}

type Fields = Readonly<Record<string, Spec>>;

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
const FIELDS: { readonly [K in Kind]: Fields } = {
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

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const MAC_DOTTED = /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: unknown): s is string {
  return typeof s === 'string' && IPV4.test(s);
}

/** True for an id the store accepts: 1–128 characters of `[A-Za-z0-9._:-]` (UUIDs fit). */
export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && ID.test(s);
}

class FieldProblem extends Error {}

function checkScalar(spec: Spec, v: unknown): unknown {
  switch (spec.t) {
    case 'str':
      if (typeof v !== 'string') throw new FieldProblem('must be a string');
      return v;
    case 'ref':
      if (!isValidId(v)) throw new FieldProblem('must be an id (1-128 chars of A-Za-z0-9._:-)');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new FieldProblem('must be a boolean');
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < spec.min! || v > spec.max!) {
        throw new FieldProblem(`must be an integer in ${spec.min}..${spec.max}`);
      }
      return v;
    case 'ipv4':
      if (!isIpv4(v)) throw new FieldProblem('must be an IPv4 address');
      return v;
    case 'mac':
      if (typeof v !== 'string' || !MAC.test(v)) throw new FieldProblem('must be a MAC address');
      return v.toLowerCase();
    case 'macmask':
      if (typeof v !== 'string' || !(MAC.test(v) || MAC_DOTTED.test(v))) {
        throw new FieldProblem('must be a MAC mask (aa:bb:cc:dd:ee:ff or ffff.ffff.ffff)');
      }
      return v.toLowerCase();
    case 'enum':
      if (typeof v !== 'string' || !spec.values!.includes(v)) {
        throw new FieldProblem(`must be one of ${spec.values!.join(', ')}`);
      }
      return v;
    default:
      throw new FieldProblem('bad spec');
  }
}

function checkValue(spec: Spec, v: unknown, path: string): unknown {
  if (spec.t === 'list') {
    if (!Array.isArray(v)) throw new FieldProblem(`${path} must be a list`);
    // kept as it is while every element checks as itself (see the header); copied otherwise
    let out: unknown[] | undefined = isSharable(v, Array.prototype) ? undefined : [];
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      const c = checkValue(spec.of!, e, `${path}[${i}]`);
      if (out !== undefined) out.push(c);
      else if (c !== e) (out = v.slice(0, i)).push(c);
    }
    return out === undefined ? v : Object.freeze(out);
  }
  if (spec.t === 'obj') {
    const out = checkFields(spec.fields!, v, path, false);
    return isSharable(v as object, Object.prototype) &&
      sameFields(v as Record<string, unknown>, out)
      ? v
      : out;
  }
  try {
    return checkScalar(spec, v);
  } catch (e) {
    if (e instanceof FieldProblem) throw new FieldProblem(`${path} ${e.message}`);
    throw e;
  }
}

/** Frozen, with the plain prototype `proto`: a value the store can keep instead of a copy. */
function isSharable(v: object, proto: object): boolean {
  return Object.isFrozen(v) && Object.getPrototypeOf(v) === proto;
}

/** Whether `checked` (what validation made of `input`) has exactly `input`'s own fields, as
 * data properties with the same values. */
function sameFields(input: Record<string, unknown>, checked: Record<string, unknown>): boolean {
  const names = Object.keys(input);
  if (names.length !== Object.keys(checked).length) return false;
  for (const n of names) {
    const d = Object.getOwnPropertyDescriptor(input, n);
    if (d === undefined || !('value' in d) || d.value !== checked[n]) return false;
  }
  return true;
}

interface Compiled {
  readonly required: readonly string[];
  readonly defaults: readonly (readonly [string, unknown])[];
}
const compiled = new WeakMap<Fields, Compiled>();

function compile(fields: Fields): Compiled {
  let c = compiled.get(fields);
  if (!c) {
    const names = Object.keys(fields);
    c = {
      required: names.filter((n) => fields[n]!.req && fields[n]!.def === undefined),
      defaults: names
        .filter((n) => fields[n]!.def !== undefined)
        .map((n) => [n, fields[n]!.def] as const),
    };
    compiled.set(fields, c);
  }
  return c;
}

/** Copies and checks the fields present in the input (in input order), then applies required
 * and default fields: work is proportional to the fields given, not to the kind's field count. */
function checkFields(
  fields: Fields,
  v: unknown,
  path: string,
  topLevel: boolean,
  ignore?: ReadonlySet<string>,
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FieldProblem(`${path || 'object'} must be an object`);
  }
  const input = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name in input) {
    const value = input[name];
    if (value === undefined || value === null) continue;
    const spec = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (spec === undefined) {
      if (topLevel && (name === 'version' || ignore?.has(name))) continue;
      throw new FieldProblem(`${path ? `${path}.${name}` : name} is not a field`);
    }
    out[name] = checkValue(spec, value, path ? `${path}.${name}` : name);
  }
  const c = compile(fields);
  for (const name of c.required) {
    if (out[name] === undefined)
      throw new FieldProblem(`${path ? `${path}.${name}` : name} is required`);
  }
  for (const [name, d] of c.defaults) if (out[name] === undefined) out[name] = d;
  return topLevel ? out : Object.freeze(out);
}

/** Objects their writer gave to the store (see `handOver`). */
const handedOver = new WeakSet<object>();

/**
 * Hands `object` (the object of a create op) over to the store: its writer promises never to
 * change it again. A bulk create may then keep this very object as the stored one, adding
 * `version` and freezing it, when it is plain, extensible, of a kind without back-reference
 * fields and already exactly what validation makes of it (every field valid as it is, nested
 * values frozen and kept, no default to add); otherwise it is copied as usual. The reconciler
 * hands over its desired objects (reconciler/share.ts); API input is never handed over.
 */
export function handOver(object: object): void {
  handedOver.add(object);
}

/** Whether `input` can be kept as the stored object (see `handOver`), given what validation
 * made of it. */
function adoptable(kind: Kind, input: object, out: Record<string, unknown>): boolean {
  return (
    handedOver.has(input) &&
    BACK_FIELD_SETS.get(kind)!.size === 0 &&
    Object.isExtensible(input) &&
    Object.getPrototypeOf(input) === Object.prototype &&
    sameFields(input as Record<string, unknown>, out)
  );
}

const BACK_FIELD_SETS = new Map<Kind, ReadonlySet<string>>(
  Object.entries(BACK_REFERENCE_FIELDS).map(([k, v]) => [k as Kind, new Set<string>(v)]),
);

/** Whether `kind` is a kind this store knows. */
export function isKind(kind: unknown): kind is Kind {
  return typeof kind === 'string' && BACK_FIELD_SETS.has(kind as Kind);
}

/**
 * Validates client input for `kind` and returns a new object holding only writable fields
 * (defaults applied, MACs lower-cased; nested values frozen, the object itself not yet, so the
 * store can add its own fields). Back-reference fields and `version` in the input are ignored.
 * Throws `InvalidFieldError` naming `kind/id` and the field. With `adopt` (the bulk-create
 * engine, which changes nothing of a new object of a kind without back-references but its
 * `version`), an object handed over that validation would not change is returned itself.
 */
export function normalizeObject(
  kind: Kind,
  input: unknown,
  adopt = false,
): Record<string, unknown> {
  const rawId = (input as { id?: unknown } | null)?.id;
  const label = `${kind}/${typeof rawId === 'string' ? rawId : '?'}`;
  try {
    const out = checkFields(FIELDS[kind], input, '', true, BACK_FIELD_SETS.get(kind));
    checkKind(kind, out);
    if (adopt && adoptable(kind, input as object, out)) return input as Record<string, unknown>;
    return out;
  } catch (e) {
    if (e instanceof FieldProblem) {
      throw new InvalidFieldError(`invalid ${label}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

const NAT_TYPES = new Set(['dnat', 'snat']);

/** Cross-field rules of a kind. */
function checkKind(kind: Kind, o: Readonly<Record<string, unknown>>): void {
  if (kind === 'port') {
    if (o['type'] === 'Router' && (o['routerId'] === undefined || o['bridgeId'] !== undefined)) {
      throw new FieldProblem('routerId is required (and bridgeId not allowed) on a Router port');
    }
    if (o['type'] === 'Bridge' && (o['bridgeId'] === undefined || o['routerId'] !== undefined)) {
      throw new FieldProblem('bridgeId is required (and routerId not allowed) on a Bridge port');
    }
    if (o['peerId'] !== undefined && o['peerId'] === o['id']) {
      throw new FieldProblem('peerId cannot name the port itself');
    }
  } else if (kind === 'rule') {
    const type = o['type'] as string;
    if (type === 'jump' && o['jumpChainId'] === undefined) {
      throw new FieldProblem('jumpChainId is required on a jump rule');
    }
    if (type !== 'jump' && o['jumpChainId'] !== undefined) {
      throw new FieldProblem('jumpChainId is only allowed on a jump rule');
    }
    const targets = o['natTargets'] as readonly unknown[] | undefined;
    if (NAT_TYPES.has(type) && (targets === undefined || targets.length === 0)) {
      throw new FieldProblem(`natTargets is required on a ${type} rule`);
    }
    if (!NAT_TYPES.has(type) && targets !== undefined && targets.length > 0) {
      throw new FieldProblem(`natTargets is not allowed on a ${type} rule`);
    }
    for (const r of ['tpSrc', 'tpDst']) {
      const range = o[r] as { start: number; end: number } | undefined;
      if (range && range.start > range.end) throw new FieldProblem(`${r}.start must be <= end`);
    }
  } else if (kind === 'route') {
    if (o['type'] === 'Normal' && o['nextHopPort'] === undefined) {
      throw new FieldProblem('nextHopPort is required on a Normal route');
    }
  }
}
