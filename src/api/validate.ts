/**
 * Validation of request bodies before the store sees them: one field table per kind (the
 * writable fields of src/store/types.ts), used in two modes. `rest` is MidoNet's REST binding:
 * unknown fields and nulls are ignored, numeric strings are coerced, defaults are filled in and
 * required fields are checked. `op` checks the ops of the transaction endpoint: the types of the
 * known fields that are present (the store checks the rest).
 */
import type { Kind, Op } from '../store/index.js';
import { KINDS } from '../store/index.js';
import { HttpError, validationFailed, type Violation } from './http.js';
import { checkExtraFields, checkNestedExtras } from './validate-extras.js';

type Spec =
  | { readonly t: 'str'; readonly min?: number; readonly max?: number }
  | { readonly t: 'id' }
  | { readonly t: 'bool' }
  | { readonly t: 'int'; readonly min: number; readonly max: number }
  | { readonly t: 'ip' }
  | { readonly t: 'mac' }
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | { readonly t: 'arr'; readonly of: Spec }
  | { readonly t: 'obj'; readonly fields: Fields };

interface Field {
  readonly spec: Spec;
  readonly required?: boolean;
  readonly default?: unknown;
}
type Fields = Readonly<Record<string, Field>>;

const str = (max = 255, min = 0): Spec => ({ t: 'str', min, max });
const ID: Spec = { t: 'id' };
const BOOL: Spec = { t: 'bool' };
const IP: Spec = { t: 'ip' };
const MAC: Spec = { t: 'mac' };
const int = (min: number, max: number): Spec => ({ t: 'int', min, max });
const oneOf = (...values: string[]): Spec => ({ t: 'enum', values });
const arr = (of: Spec): Spec => ({ t: 'arr', of });
const obj = (fields: Fields): Spec => ({ t: 'obj', fields });
const opt = (spec: Spec): Field => ({ spec });
const req = (spec: Spec): Field => ({ spec, required: true });
const dflt = (spec: Spec, value: unknown): Field => ({ spec, default: value });

const U32 = 4294967295;
const COMMON: Fields = { id: opt(ID), owner: opt(str(512)) };
const FILTERS: Fields = { inboundFilterId: opt(ID), outboundFilterId: opt(ID) };
const KV = obj({ key: req(str(1024)), value: req(str(4096)) });
const RANGE = obj({ start: req(int(0, 65535)), end: req(int(0, 65535)) });
const NAT_TARGET = obj({
  addressFrom: req(IP),
  addressTo: req(IP),
  portFrom: req(int(0, 65535)),
  portTo: req(int(0, 65535)),
});
const DHCP_HOST = obj({
  macAddr: req(MAC),
  ipAddr: req(IP),
  name: dflt(str(), ''),
  extraDhcpOpts: dflt(arr(obj({ optName: req(str()), optValue: req(str(1024)) })), []),
});

/** The boolean rule conditions we store (and the API accepts). */
export const RULE_BOOLS = [
  'condInvert',
  'matchForwardFlow',
  'matchReturnFlow',
  'invInPorts',
  'invOutPorts',
  'invPortGroup',
  'invInPortGroup',
  'invOutPortGroup',
  'noVlan',
  'invIpAddrGroupSrc',
  'invIpAddrGroupDst',
  'invDlType',
  'invDlSrc',
  'invDlDst',
  'invNwTos',
  'invNwProto',
  'invNwSrc',
  'invNwDst',
  'invTpSrc',
  'invTpDst',
];

/** The writable fields of every kind. */
export const FIELDS: { readonly [K in Kind]: Fields } = {
  router: {
    ...COMMON,
    ...FILTERS,
    name: dflt(str(), ''),
    tenantId: opt(str()),
    adminStateUp: dflt(BOOL, true),
    asNumber: opt(int(0, U32)),
    localRedirectChainId: opt(ID),
    forwardChainId: opt(ID),
  },
  bridge: {
    ...COMMON,
    ...FILTERS,
    name: dflt(str(), ''),
    tenantId: opt(str()),
    adminStateUp: dflt(BOOL, true),
    vni: opt(int(0, 16777215)),
  },
  port: {
    ...COMMON,
    ...FILTERS,
    type: req(oneOf('Router', 'Bridge')),
    routerId: opt(ID),
    bridgeId: opt(ID),
    adminStateUp: dflt(BOOL, true),
    peerId: opt(ID),
    hostId: opt(ID),
    interfaceName: opt(str(64, 1)),
    portAddress: opt(IP),
    networkAddress: opt(IP),
    networkLength: opt(int(0, 32)),
    portMac: opt(MAC),
    vlanId: opt(int(0, 4095)),
    portGroupIds: dflt(arr(ID), []),
  },
  chain: {
    ...COMMON,
    name: dflt(str(), ''),
    tenantId: opt(str()),
    metadata: dflt(arr(KV), []),
    ruleIds: opt(arr(ID)),
  },
  rule: {
    ...COMMON,
    ...Object.fromEntries(RULE_BOOLS.map((f) => [f, opt(BOOL)])),
    chainId: req(ID),
    type: req(
      oneOf(
        'accept',
        'drop',
        'reject',
        'return',
        'jump',
        'continue',
        'dnat',
        'snat',
        'rev_dnat',
        'rev_snat',
      ),
    ),
    inPorts: opt(arr(ID)),
    outPorts: opt(arr(ID)),
    portGroup: opt(ID),
    inPortGroup: opt(ID),
    outPortGroup: opt(ID),
    vlan: opt(int(0, 4095)),
    ipAddrGroupSrc: opt(ID),
    ipAddrGroupDst: opt(ID),
    dlType: opt(int(0, 65535)),
    dlSrc: opt(MAC),
    dlSrcMask: opt(MAC),
    dlDst: opt(MAC),
    dlDstMask: opt(MAC),
    nwTos: opt(int(0, 255)),
    nwProto: opt(int(0, 255)),
    nwSrcAddress: opt(IP),
    nwSrcLength: opt(int(0, 32)),
    nwDstAddress: opt(IP),
    nwDstLength: opt(int(0, 32)),
    tpSrc: opt(RANGE),
    tpDst: opt(RANGE),
    fragmentPolicy: opt(oneOf('any', 'nonheader', 'header', 'unfragmented')),
    jumpChainId: opt(ID),
    jumpChainName: opt(str()),
    natTargets: opt(arr(NAT_TARGET)),
    flowAction: opt(oneOf('accept', 'continue', 'return')),
    metadata: opt(arr(KV)),
  },
  'ip-addr-group': {
    ...COMMON,
    name: req(str(255, 1)),
    tenantId: opt(str()),
    addresses: dflt(arr(IP), []),
  },
  route: {
    ...COMMON,
    routerId: req(ID),
    type: dflt(oneOf('Normal', 'BlackHole', 'Reject', 'Local'), 'Normal'),
    srcNetworkAddr: req(IP),
    srcNetworkLength: req(int(0, 32)),
    dstNetworkAddr: req(IP),
    dstNetworkLength: req(int(0, 32)),
    nextHopPort: opt(ID),
    nextHopGateway: opt(IP),
    weight: dflt(int(0, U32), 0),
    attributes: opt(str(1024)),
  },
  'dhcp-subnet': {
    ...COMMON,
    bridgeId: req(ID),
    subnetPrefix: req(IP),
    subnetLength: req(int(0, 32)),
    defaultGateway: opt(IP),
    serverAddr: opt(IP),
    dnsServerAddrs: dflt(arr(IP), []),
    domainName: opt(str()),
    ntpServers: dflt(arr(IP), []),
    interfaceMTU: opt(int(0, 65535)),
    opt121Routes: dflt(
      arr(
        obj({
          destinationPrefix: req(IP),
          destinationLength: req(int(0, 32)),
          gatewayAddr: req(IP),
        }),
      ),
      [],
    ),
    enabled: dflt(BOOL, true),
    hosts: dflt(arr(DHCP_HOST), []),
  },
  host: {
    ...COMMON,
    name: req(str(255, 1)),
    addresses: dflt(arr(str(64, 1)), []),
    floodingProxyWeight: opt(int(0, 65535)),
  },
  'tunnel-zone': {
    ...COMMON,
    name: req(str(255, 1)),
    type: dflt(oneOf('gre', 'vxlan', 'vtep'), 'vxlan'),
    hosts: dflt(arr(obj({ hostId: req(ID), ipAddress: req(IP) })), []),
  },
  'port-group': {
    ...COMMON,
    name: req(str(255, 1)),
    tenantId: opt(str()),
    stateful: dflt(BOOL, false),
  },
  'bgp-peer': {
    ...COMMON,
    routerId: req(ID),
    asNumber: req(int(0, U32)),
    address: req(IP),
    keepAlive: opt(int(0, 65535)),
    holdTime: opt(int(0, 65535)),
    connectRetry: opt(int(0, 65535)),
    password: opt(str()),
  },
  'bgp-network': {
    ...COMMON,
    routerId: req(ID),
    subnetAddress: req(IP),
    subnetLength: req(int(0, 32)),
  },
  'arp-entry': { ...COMMON, bridgeId: req(ID), ip: req(IP), mac: req(MAC) },
  'mac-entry': {
    ...COMMON,
    bridgeId: req(ID),
    macAddr: req(MAC),
    portId: req(ID),
    vlanId: opt(int(0, 4095)),
  },
};

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
// eslint-disable-next-line no-control-regex
const ID_RE = /^[^/\s\u0000-\u001f]{1,128}$/;

/** Returns true for a dotted-quad IPv4 address. */
export function isIpv4(s: string): boolean {
  return IPV4_RE.test(s);
}
/** Returns true for a colon-separated MAC address. */
export function isMac(s: string): boolean {
  return MAC_RE.test(s);
}
/** Returns true for an acceptable object id (1-128 printable characters, no `/`). */
export function isId(s: string): boolean {
  return ID_RE.test(s);
}

type Mode = 'rest' | 'op';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkValue(spec: Spec, v: unknown, path: string, mode: Mode, out: Violation[]): unknown {
  const bad = (message: string): undefined => {
    out.push({ property: path, message });
    return undefined;
  };
  switch (spec.t) {
    case 'str':
      if (typeof v !== 'string') return bad('must be a string');
      if (v.length < (spec.min ?? 0) || v.length > (spec.max ?? Infinity)) {
        return bad(`length must be between ${spec.min ?? 0} and ${spec.max ?? 'any'}`);
      }
      return v;
    case 'id':
      return typeof v === 'string' && isId(v) ? v : bad('must be an id (1-128 characters, no /)');
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (mode === 'rest' && (v === 'true' || v === 'false')) return v === 'true';
      return bad('must be a boolean');
    case 'int': {
      const n = mode === 'rest' && typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) return bad('must be an integer');
      if (n < spec.min || n > spec.max) return bad(`must be between ${spec.min} and ${spec.max}`);
      return n;
    }
    case 'ip':
      return typeof v === 'string' && isIpv4(v) ? v : bad('must be an IPv4 address');
    case 'mac':
      if (typeof v !== 'string' || !isMac(v)) return bad('must be a MAC address');
      return mode === 'rest' ? v.toLowerCase() : v;
    case 'enum':
      return typeof v === 'string' && spec.values.includes(v)
        ? v
        : bad(`must be one of ${spec.values.join(', ')}`);
    case 'arr':
      if (!Array.isArray(v)) return bad('must be a list');
      return v.map((e, i) => checkValue(spec.of, e, `${path}[${i}]`, mode, out));
    case 'obj':
      if (!isPlainObject(v)) return bad('must be an object');
      if (mode === 'rest') checkNestedExtras(v, spec.fields, `${path}.`, out);
      return checkFields(spec.fields, v, `${path}.`, mode, out);
  }
}

function checkFields(
  fields: Fields,
  body: Record<string, unknown>,
  prefix: string,
  mode: Mode,
  out: Violation[],
): Record<string, unknown> {
  const result: Record<string, unknown> = mode === 'op' ? { ...body } : {};
  for (const [name, field] of Object.entries(fields)) {
    const v = body[name];
    if (v === undefined || v === null) {
      delete result[name];
      if (mode === 'rest' && field.default !== undefined) result[name] = field.default;
      else if (mode === 'rest' && field.required) {
        out.push({ property: prefix + name, message: 'is required' });
      }
      continue;
    }
    result[name] = checkValue(field.spec, v, prefix + name, mode, out);
  }
  return result;
}

/**
 * Validates a REST body as an object of `kind`: keeps known fields, fills defaults, coerces
 * numeric strings; throws a 400 with the violation list. A field that is not stored is refused
 * (400 naming it) unless it is read-only or carries MidoNet's default (validate-extras.ts).
 * `preset` fields (ids from the path) override the body before the check; `current` is the
 * object's DTO on a PUT (server-computed fields must equal it).
 */
export function validateRest(
  kind: Kind,
  body: unknown,
  preset: Readonly<Record<string, unknown>> = {},
  current?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (!isPlainObject(body)) throw new HttpError(400, 'the body must be a JSON object');
  const out: Violation[] = [];
  const merged = { ...body, ...preset };
  checkPreset(body, preset, out);
  const result = checkFields(FIELDS[kind], merged, '', 'rest', out);
  checkExtraFields(kind, merged, FIELDS[kind], out, current);
  if (out.length > 0) throw validationFailed(out);
  return result;
}

/**
 * A body value for a field the path or the stored object fixes (`chainId`, `routerId`, a PUT's
 * `id`, a port's binding or link) must be that value or unset: a different one is refused, not
 * silently replaced. Lists (kept sub-collections, shown as URIs) are not compared.
 */
function checkPreset(
  body: Readonly<Record<string, unknown>>,
  preset: Readonly<Record<string, unknown>>,
  out: Violation[],
): void {
  for (const [name, fixed] of Object.entries(preset)) {
    const v = body[name];
    if (v === undefined || v === null || (fixed !== undefined && typeof fixed !== 'string')) {
      continue;
    }
    if (v !== fixed) {
      const is = fixed === undefined ? 'unset' : JSON.stringify(fixed);
      out.push({ property: name, message: `cannot be set by this request (it is ${is} here)` });
    }
  }
}

/** Validates a small REST body of named fields (link, binding, membership bodies). */
export function validateSmall(
  body: unknown,
  fields: Readonly<Record<string, 'id' | 'ip' | 'str' | 'int'>>,
): Record<string, unknown> {
  if (!isPlainObject(body)) throw new HttpError(400, 'the body must be a JSON object');
  const specs: Record<string, Field> = {};
  for (const [name, t] of Object.entries(fields)) {
    specs[name] = req(t === 'id' ? ID : t === 'ip' ? IP : t === 'int' ? int(0, U32) : str());
  }
  const out: Violation[] = [];
  const result = checkFields(specs, body, '', 'rest', out);
  if (out.length > 0) throw validationFailed(out);
  return result;
}

function isKind(v: unknown): v is Kind {
  return typeof v === 'string' && (KINDS as readonly string[]).includes(v);
}

/** Returns the kind named in a URI segment, or throws 404. */
export function parseKind(s: string): Kind {
  if (!isKind(s)) throw new HttpError(404, `unknown kind ${s}`);
  return s;
}

/** Validates the body of the transaction endpoint: `{ops: Op[]}` or a bare list of ops. */
export function validateOps(body: unknown): Op[] {
  const list = Array.isArray(body) ? body : isPlainObject(body) ? body['ops'] : undefined;
  if (!Array.isArray(list)) throw new HttpError(400, 'the body must be {"ops": [...]}');
  const out: Violation[] = [];
  const ops = list.map((raw, i) => validateOp(raw, `ops[${i}]`, out));
  const first = out[0];
  if (first) {
    // like the store's InvalidFieldError: the message names the op, the object and the field
    const message = `${first.property.replace(/^ops\[\d+\]\.(object\.)?/, '')} ${first.message}`;
    const what = describeOp(list[Number(/^ops\[(\d+)\]/.exec(first.property)?.[1])]);
    throw new HttpError(400, what ? `${what}: ${message}` : message, {
      error: 'InvalidFieldError',
      violations: out,
    });
  }
  return ops as Op[];
}

function describeOp(raw: unknown): string | undefined {
  if (!isPlainObject(raw)) return undefined;
  const obj = raw['object'];
  const id = raw['op'] === 'delete' ? raw['id'] : isPlainObject(obj) ? obj['id'] : undefined;
  return `${String(raw['op'])} ${String(raw['kind'])}/${String(id)}`;
}

function validateOp(raw: unknown, path: string, out: Violation[]): unknown {
  if (!isPlainObject(raw)) return out.push({ property: path, message: 'must be an object' });
  const { op, kind } = raw;
  if (!isKind(kind)) return out.push({ property: `${path}.kind`, message: 'unknown kind' });
  const version = raw['expectedVersion'];
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version))) {
    out.push({ property: `${path}.expectedVersion`, message: 'must be an integer' });
  }
  if (op === 'delete') {
    if (typeof raw['id'] !== 'string' || !isId(raw['id'])) {
      out.push({ property: `${path}.id`, message: 'must be an id' });
    }
    const ignore = raw['ignoreMissing'];
    if (ignore !== undefined && typeof ignore !== 'boolean') {
      out.push({ property: `${path}.ignoreMissing`, message: 'must be a boolean' });
    }
    return raw;
  }
  const position = raw['position'];
  if (position !== undefined && (typeof position !== 'number' || !Number.isInteger(position))) {
    out.push({ property: `${path}.position`, message: 'must be an integer' });
  }
  if (op !== 'create' && op !== 'update') {
    return out.push({ property: `${path}.op`, message: 'must be create, update or delete' });
  }
  const object = raw['object'];
  if (!isPlainObject(object)) return out.push({ property: `${path}.object`, message: 'required' });
  if (typeof object['id'] !== 'string' || !isId(object['id'])) {
    out.push({ property: `${path}.object.id`, message: 'must be an id' });
  }
  return { ...raw, object: checkFields(FIELDS[kind], object, `${path}.object.`, 'op', out) };
}

/** Validates a DHCP host body (`{macAddr, ipAddr, name, extraDhcpOpts}`). */
export function validateDhcpHost(body: unknown): Record<string, unknown> {
  const out: Violation[] = [];
  const result = checkValue(DHCP_HOST, body, 'host', 'rest', out);
  if (out.length > 0) throw validationFailed(out);
  return result as Record<string, unknown>;
}
