/**
 * Builds the `configuration` section of the view: mode, addresses, the mido block (current and
 * legacy gateway formats folded together) and the clusters with their nodes.
 */
import {
  entityKey,
  type Cluster,
  type Gateway,
  type GniConfig,
  type MidoConfig,
  type Node,
} from './types.js';
import {
  quote,
  str,
  strList,
  objList,
  propertyMap,
  values,
  type BuildContext,
  type Mutable,
} from './build-context.js';
import { parseCidr, parseIpv4 } from './net.js';
import type { Plain } from './schema.js';

const CONFIG = 'configuration';
const FLAT_KEYS = new Set([
  'mode',
  'publicIps',
  'enabledCLCIp',
  'instanceDNSDomain',
  'instanceDNSServers',
  'publicGateway',
]);

/** Builds the configuration; §11 problems reject the document through `ctx`. */
export function buildConfig(root: Plain, ctx: BuildContext): GniConfig {
  const conf = root['configuration'];
  if (conf === undefined || typeof conf !== 'object' || conf === null) {
    ctx.reject(CONFIG, 'missing-configuration', 'the document has no configuration (so no mode)');
    return { publicIps: [], instanceDNSServers: [], clusters: [] };
  }
  const props = propertyMap(conf as Plain, ctx, CONFIG);
  const out: Mutable<GniConfig> = { publicIps: [], instanceDNSServers: [], clusters: [] };

  const modeValues = values(props.get('mode'));
  const mode = modeValues[0];
  if (mode === undefined)
    ctx.reject(`${CONFIG}/mode`, 'missing-mode', 'the configuration has no mode');
  else {
    out.mode = mode;
    if (mode === 'EDGE') {
      ctx.reject(
        `${CONFIG}/mode`,
        'unsupported-mode',
        'mode EDGE is not supported: eucanetd-ts implements VPC mode (VPCMIDO) only',
      );
    } else if (mode !== 'VPCMIDO') {
      ctx.reject(
        `${CONFIG}/mode`,
        'unsupported-mode',
        `mode ${quote(mode)} is not supported: expected VPCMIDO`,
      );
    }
  }
  out.publicIps = values(props.get('publicIps'));
  for (const r of out.publicIps) checkPublicIpRange(r, ctx);

  const clc = values(props.get('enabledCLCIp'))[0];
  if (clc === undefined || clc === '0.0.0.0' || parseIpv4(clc) === undefined) {
    ctx.reject(
      `${CONFIG}/enabledCLCIp`,
      'invalid-clc-ip',
      clc === undefined
        ? 'enabledCLCIp is missing'
        : `enabledCLCIp ${quote(clc)} is not a usable IPv4 address`,
    );
  }
  if (clc !== undefined) out.enabledCLCIp = clc;

  const domain = values(props.get('instanceDNSDomain'))[0];
  if (domain === undefined)
    ctx.reject(
      `${CONFIG}/instanceDNSDomain`,
      'missing-dns-domain',
      'instanceDNSDomain is missing or empty',
    );
  else out.instanceDNSDomain = domain;

  out.instanceDNSServers = values(props.get('instanceDNSServers'));
  if (out.instanceDNSServers.length === 0)
    ctx.reject(
      `${CONFIG}/instanceDNSServers`,
      'missing-dns-servers',
      'instanceDNSServers has no entry',
    );
  for (const s of out.instanceDNSServers) {
    if (s === '0.0.0.0' || parseIpv4(s) === undefined) {
      ctx.reject(
        `${CONFIG}/instanceDNSServers`,
        'invalid-dns-server',
        `instanceDNSServers entry ${quote(s)} is not a usable IPv4 address`,
      );
    }
  }
  const publicGateway = values(props.get('publicGateway'))[0];
  if (publicGateway !== undefined) out.publicGateway = publicGateway;

  const mido = props.get('mido');
  if (mido !== undefined) out.mido = buildMido(mido, ctx);
  else
    ctx.warn(`${CONFIG}/mido`, 'missing-mido', 'no mido block: no MidoNet gateway is configured');
  const clusters = props.get('clusters');
  out.clusters = clusters === undefined ? [] : buildClusters(clusters, ctx);
  if (out.clusters.length === 0)
    ctx.warn(`${CONFIG}/clusters`, 'no-clusters', 'no cluster is configured');

  for (const name of props.keys()) {
    if (!FLAT_KEYS.has(name) && name !== 'mido' && name !== 'clusters') {
      ctx.warn(
        `${CONFIG}/${name}`,
        'unknown-property',
        `unknown configuration property ${quote(name)} ignored`,
      );
    }
  }
  return out;
}

function checkPublicIpRange(r: string, ctx: BuildContext): void {
  const dash = r.indexOf('-');
  const ends = dash < 0 ? [r] : [r.slice(0, dash), r.slice(dash + 1)];
  const parsed = ends.map((e) => parseIpv4(e.trim()));
  if (parsed.some((p) => p === undefined) || (parsed.length === 2 && parsed[0]! > parsed[1]!)) {
    ctx.warn(
      `${CONFIG}/publicIps`,
      'invalid-public-ip',
      `publicIps entry ${quote(r)} is not an address or range`,
    );
  }
}

const MIDO = `${CONFIG}/mido`;
const GATEWAY_KEYS = new Set([
  'gatewayHost',
  'gatewayIP',
  'gatewayInterface',
  'ip',
  'externalCidr',
  'externalDevice',
  'externalIp',
  'externalRouterIp',
  'bgpPeerIp',
  'bgpPeerAsn',
  'bgpAdRoutes',
]);

function buildMido(mido: Plain, ctx: BuildContext): MidoConfig {
  const props = propertyMap(mido, ctx, MIDO);
  const out: Mutable<MidoConfig> = { gateways: [] };
  const host = values(props.get('eucanetdHost'))[0];
  if (host !== undefined) out.eucanetdHost = host;
  const asnText = values(props.get('bgpAsn'))[0];
  let asnValid = true;
  if (asnText !== undefined) {
    const asn = /^\d{1,10}$/.test(asnText) ? Number(asnText) : NaN;
    if (asn >= 1 && asn <= 4294967295) out.bgpAsn = asn;
    else {
      asnValid = false;
      ctx.warn(
        `${MIDO}/bgpAsn`,
        'invalid-asn',
        `bgpAsn ${quote(asnText)} is not an AS number; BGP gateways are invalid`,
      );
    }
  }
  const legacyCidr = values(props.get('publicNetworkCidr'))[0];
  const legacyRouter = values(props.get('publicGatewayIP'))[0];
  if (legacyCidr !== undefined) out.publicNetworkCidr = legacyCidr;
  if (legacyRouter !== undefined) out.publicGatewayIP = legacyRouter;
  const gwProp = props.get('gateways');
  const gateways = gwProp === undefined ? [] : objList(gwProp, 'gateway');
  out.gateways = gateways.map((g, i) =>
    buildGateway(g, i, { legacyCidr, legacyRouter, asnValid }, ctx),
  );
  if (out.gateways.length === 0)
    ctx.warn(`${MIDO}/gateways`, 'no-gateways', 'no MidoNet gateway is configured');
  for (const name of props.keys()) {
    if (
      !['eucanetdHost', 'bgpAsn', 'publicNetworkCidr', 'publicGatewayIP', 'gateways'].includes(name)
    ) {
      ctx.warn(
        `${MIDO}/${name}`,
        'unknown-property',
        `unknown mido property ${quote(name)} ignored`,
      );
    }
  }
  return out;
}

interface Shared {
  readonly legacyCidr: string | undefined;
  readonly legacyRouter: string | undefined;
  readonly asnValid: boolean;
}

function buildGateway(g: Plain, index: number, shared: Shared, ctx: BuildContext): Gateway {
  const path = `${MIDO}/gateways/gateway[${index}]`;
  const key = entityKey('gateway', String(index));
  const props = propertyMap(g, ctx, path);
  // Current names override legacy ones whatever their order (as eucanetd does).
  const pick = (current: string, legacy?: string): string | undefined =>
    values(props.get(current))[0] ??
    (legacy === undefined ? undefined : values(props.get(legacy))[0]);
  const out: Mutable<Gateway> = { host: '', bgpAdRoutes: values(props.get('bgpAdRoutes')) };
  const host = pick('ip', 'gatewayHost');
  if (host === undefined)
    ctx.bad(key, `${path}/ip`, 'missing-gateway-host', 'gateway has no ip (or legacy gatewayHost)');
  else out.host = host;
  const fields: [keyof Gateway, string | undefined, 'ip' | 'cidr' | 'text'][] = [
    ['externalCidr', pick('externalCidr') ?? shared.legacyCidr, 'cidr'],
    ['externalDevice', pick('externalDevice', 'gatewayInterface'), 'text'],
    ['externalIp', pick('externalIp', 'gatewayIP'), 'ip'],
    ['externalRouterIp', pick('externalRouterIp') ?? shared.legacyRouter, 'ip'],
    ['bgpPeerIp', pick('bgpPeerIp'), 'ip'],
  ];
  for (const [field, value, type] of fields) {
    if (value === undefined) continue;
    (out as Record<string, unknown>)[field] = value;
    const ok =
      type === 'text' ||
      (type === 'ip' ? parseIpv4(value) !== undefined : parseCidr(value) !== undefined);
    if (!ok)
      ctx.bad(
        key,
        `${path}/${field}`,
        `invalid-${type}`,
        `${field} ${quote(value)} is not ${type === 'ip' ? 'an IPv4 address' : 'a CIDR block'}`,
      );
  }
  const peerAsn = pick('bgpPeerAsn');
  if (peerAsn !== undefined) {
    const n = /^\d{1,10}$/.test(peerAsn) ? Number(peerAsn) : NaN;
    if (n >= 1 && n <= 4294967295) out.bgpPeerAsn = n;
    else
      ctx.bad(
        key,
        `${path}/bgpPeerAsn`,
        'invalid-asn',
        `bgpPeerAsn ${quote(peerAsn)} is not an AS number`,
      );
    if (!shared.asnValid)
      ctx.bad(
        key,
        `${path}/bgpPeerAsn`,
        'invalid-asn',
        'BGP gateway but the mido bgpAsn is invalid',
      );
  }
  for (const r of out.bgpAdRoutes) {
    if (parseCidr(r) === undefined)
      ctx.bad(
        key,
        `${path}/bgpAdRoutes`,
        'invalid-cidr',
        `bgpAdRoutes entry ${quote(r)} is not a CIDR block`,
      );
  }
  for (const name of props.keys()) {
    if (!GATEWAY_KEYS.has(name))
      ctx.warn(
        `${path}/${name}`,
        'unknown-property',
        `unknown gateway property ${quote(name)} ignored`,
      );
  }
  return out;
}

const CLUSTER_KEYS = new Set(['enabledCCIp', 'macPrefix', 'privateIps', 'nodes']);

function buildClusters(prop: Plain, ctx: BuildContext): Cluster[] {
  const out: Cluster[] = [];
  for (const [i, c] of objList(prop, 'cluster').entries()) {
    const name = str(c, 'name');
    const path = `${CONFIG}/clusters/cluster[${name ?? i}]`;
    if (name === undefined) ctx.reject(path, 'missing-required', 'cluster has no name');
    const props = propertyMap(c, ctx, path);
    const cluster: Mutable<Cluster> = {
      name: name ?? '',
      privateIps: values(props.get('privateIps')),
      nodes: [],
    };
    const cc = values(props.get('enabledCCIp'))[0];
    if (cc === undefined || cc === '0.0.0.0' || parseIpv4(cc) === undefined) {
      ctx.reject(
        `${path}/enabledCCIp`,
        'invalid-cc-ip',
        cc === undefined
          ? 'cluster has no enabledCCIp'
          : `enabledCCIp ${quote(cc)} is not a usable IPv4 address`,
      );
    }
    if (cc !== undefined) cluster.enabledCCIp = cc;
    const prefix = values(props.get('macPrefix'))[0];
    if (prefix === undefined)
      ctx.reject(`${path}/macPrefix`, 'missing-required', 'cluster has no macPrefix');
    else {
      cluster.macPrefix = prefix.toLowerCase();
      if (!/^[0-9a-f]{2}:[0-9a-f]{2}$/.test(cluster.macPrefix)) {
        ctx.warn(
          `${path}/macPrefix`,
          'invalid-mac-prefix',
          `macPrefix ${quote(prefix)} is not of the form xx:xx`,
        );
      }
    }
    const nodes = props.get('nodes');
    cluster.nodes = nodes === undefined ? [] : buildNodes(nodes, path, ctx);
    if (cluster.nodes.length === 0) ctx.warn(`${path}/nodes`, 'no-nodes', 'cluster has no nodes');
    for (const key of props.keys()) {
      if (!CLUSTER_KEYS.has(key))
        ctx.warn(
          `${path}/${key}`,
          'unknown-property',
          `unknown cluster property ${quote(key)} ignored`,
        );
    }
    out.push(cluster);
  }
  return out;
}

/**
 * The nodes built from each parsed node that had no issue. An incremental read hands the
 * unchanged nodes of a changed configuration section over as the same parsed objects (only the
 * changed node's list is read again), so they are not built again: at 10,000 instances the 400
 * node lists (10,000 ids) were copied on every one-instance change and kept by the new view.
 */
const builtNodes = new WeakMap<Plain, Node>();

function buildNodes(prop: Plain, clusterPath: string, ctx: BuildContext): Node[] {
  const out: Node[] = [];
  for (const [i, n] of objList(prop, 'node').entries()) {
    const built = builtNodes.get(n);
    if (built !== undefined) {
      out.push(built);
      continue;
    }
    const name = str(n, 'name');
    const path = `${clusterPath}/nodes/node[${name ?? i}]`;
    if (name === undefined) ctx.reject(path, 'missing-required', 'node has no name');
    const ids = strList(n, 'instanceIds');
    const empty = ids.some((id) => id === '');
    if (empty)
      ctx.reject(`${path}/instanceIds`, 'empty-instance-id', 'node lists an empty instance id');
    const node: Node = { name: name ?? '', instanceIds: ids.filter((id) => id !== '') };
    if (name !== undefined && !empty) builtNodes.set(n, node);
    out.push(node);
  }
  return out;
}
