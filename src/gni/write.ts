/**
 * The canonical forms of a view: `writeGniJson` (the §15 JSON form, producer key order,
 * 2-space indent) and `writeGniXml` (the Eucalyptus XML, producer element order, 2-space
 * indent). Both are deterministic, and reading either back gives an equal view.
 */
import type {
  AclEntry,
  Cluster,
  DhcpOptionSet,
  Gateway,
  GlobalView,
  Instance,
  MidoConfig,
  NetworkInterface,
  SecurityGroup,
  SecurityGroupRule,
  Vpc,
} from './types.js';
import { ROOT, ROOT_NAME, type ObjSchema, type Plain } from './schema.js';

type Doc = Record<string, unknown>;

/** Copies the defined entries of `pairs` into a new object, in order. */
function compact(pairs: [string, unknown][]): Doc {
  const o: Doc = {};
  for (const [k, v] of pairs) if (v !== undefined) o[k] = v;
  return o;
}

function prop(name: string, vals: readonly (string | number | undefined)[]): Doc | undefined {
  const list = vals.filter((v) => v !== undefined).map(String);
  return list.length === 0 ? undefined : { name, value: list };
}

function props(list: (Doc | undefined)[]): Doc[] {
  return list.filter((p): p is Doc => p !== undefined);
}

function gatewayDoc(g: Gateway): Doc {
  return {
    property: props([
      g.host === '' ? undefined : prop('ip', [g.host]),
      prop('externalCidr', [g.externalCidr]),
      prop('externalDevice', [g.externalDevice]),
      prop('externalIp', [g.externalIp]),
      prop('externalRouterIp', [g.externalRouterIp]),
      prop('bgpPeerIp', [g.bgpPeerIp]),
      prop('bgpPeerAsn', [g.bgpPeerAsn]),
      prop('bgpAdRoutes', g.bgpAdRoutes),
    ]),
  };
}

function midoDoc(m: MidoConfig): Doc {
  return {
    name: 'mido',
    property: props([
      m.gateways.length === 0
        ? undefined
        : { name: 'gateways', gateway: m.gateways.map(gatewayDoc) },
      prop('eucanetdHost', [m.eucanetdHost]),
      prop('bgpAsn', [m.bgpAsn]),
      prop('publicNetworkCidr', [m.publicNetworkCidr]),
      prop('publicGatewayIP', [m.publicGatewayIP]),
    ]),
  };
}

function clusterDoc(c: Cluster): Doc {
  return {
    name: c.name,
    property: props([
      prop('enabledCCIp', [c.enabledCCIp]),
      prop('macPrefix', [c.macPrefix]),
      prop('privateIps', c.privateIps),
      c.nodes.length === 0
        ? undefined
        : {
            name: 'nodes',
            node: c.nodes.map((n) => ({ name: n.name, instanceIds: [...n.instanceIds] })),
          },
    ]),
  };
}

function entryDoc(e: AclEntry): Doc {
  return compact([
    ['number', e.number],
    ['protocol', e.protocol],
    ['action', e.action],
    ['cidr', e.cidr],
    ['icmpCode', e.icmpCode],
    ['icmpType', e.icmpType],
    ['portRangeFrom', e.portRangeFrom],
    ['portRangeTo', e.portRangeTo],
  ]);
}

function vpcDoc(v: Vpc): Doc {
  return compact([
    ['name', v.id],
    ['ownerId', v.ownerId],
    ['cidr', v.cidr],
    ['dhcpOptionSet', v.dhcpOptionSet],
    [
      'subnets',
      v.subnets.map((s) =>
        compact([
          ['name', s.id],
          ['ownerId', s.ownerId],
          ['cidr', s.cidr],
          ['cluster', s.cluster],
          ['networkAcl', s.networkAcl],
          ['routeTable', s.routeTable],
        ]),
      ),
    ],
    [
      'networkAcls',
      v.networkAcls.map((a) =>
        compact([
          ['name', a.id],
          ['ownerId', a.ownerId],
          ['ingressEntries', a.ingressEntries.map(entryDoc)],
          ['egressEntries', a.egressEntries.map(entryDoc)],
        ]),
      ),
    ],
    [
      'routeTables',
      v.routeTables.map((r) =>
        compact([
          ['name', r.id],
          ['ownerId', r.ownerId],
          [
            'routes',
            r.routes.map((x) =>
              compact([
                ['destinationCidr', x.destinationCidr],
                ['gatewayId', x.gatewayId],
                ['networkInterfaceId', x.networkInterfaceId],
                ['natGatewayId', x.natGatewayId],
              ]),
            ),
          ],
        ]),
      ),
    ],
    [
      'natGateways',
      v.natGateways.map((n) =>
        compact([
          ['name', n.id],
          ['ownerId', n.ownerId],
          ['macAddress', n.macAddress],
          ['publicIp', n.publicIp],
          ['privateIp', n.privateIp],
          ['vpc', n.vpc],
          ['subnet', n.subnet],
        ]),
      ),
    ],
    ['internetGateways', [...v.internetGateways]],
  ]);
}

function eniDoc(e: NetworkInterface): Doc {
  return compact([
    ['name', e.id],
    ['ownerId', e.ownerId],
    ['deviceIndex', e.deviceIndex],
    ['attachmentId', e.attachmentId],
    ['macAddress', e.macAddress],
    ['privateIp', e.privateIp],
    ['publicIp', e.publicIp],
    ['sourceDestCheck', e.sourceDestCheck],
    ['vpc', e.vpc],
    ['subnet', e.subnet],
    ['securityGroups', [...e.securityGroups]],
  ]);
}

function instanceDoc(i: Instance): Doc {
  return compact([
    ['name', i.id],
    ['ownerId', i.ownerId],
    ['macAddress', i.macAddress],
    ['publicIp', i.publicIp],
    ['privateIp', i.privateIp],
    ['vpc', i.vpc],
    ['subnet', i.subnet],
    ['networkInterfaces', i.networkInterfaces.map(eniDoc)],
    ['securityGroups', [...i.securityGroups]],
  ]);
}

function dhcpDoc(d: DhcpOptionSet): Doc {
  return compact([
    ['name', d.id],
    ['ownerId', d.ownerId],
    ['property', d.properties.map((p) => ({ name: p.name, value: [...p.values] }))],
  ]);
}

function ruleDoc(r: SecurityGroupRule): Doc {
  return compact([
    ['protocol', r.protocol],
    ['fromPort', r.fromPort],
    ['toPort', r.toPort],
    ['icmpType', r.icmpType],
    ['icmpCode', r.icmpCode],
    ['groupId', r.groupId],
    ['groupOwnerId', r.groupOwnerId],
    ['cidr', r.cidr],
  ]);
}

function sgDoc(g: SecurityGroup): Doc {
  return compact([
    ['name', g.id],
    ['ownerId', g.ownerId],
    ['ingressRules', g.ingressRules.map(ruleDoc)],
    ['egressRules', g.egressRules.map(ruleDoc)],
  ]);
}

/** The §15 JSON form of a view as plain data, keys in producer order. */
export function toGniDocument(view: GlobalView): Doc {
  const c = view.configuration;
  const configuration = {
    property: props([
      prop('mode', [c.mode]),
      prop('publicIps', c.publicIps),
      prop('enabledCLCIp', [c.enabledCLCIp]),
      prop('instanceDNSDomain', [c.instanceDNSDomain]),
      prop('instanceDNSServers', c.instanceDNSServers),
      prop('publicGateway', [c.publicGateway]),
      c.mido === undefined ? undefined : midoDoc(c.mido),
      c.clusters.length === 0
        ? undefined
        : { name: 'clusters', cluster: c.clusters.map(clusterDoc) },
    ]),
  };
  return compact([
    ['version', view.version],
    ['applied-version', view.appliedVersion],
    ['applied-time', view.appliedTime],
    ['configuration', configuration],
    ['vpcs', view.vpcs.map(vpcDoc)],
    ['instances', view.instances.map(instanceDoc)],
    ['dhcpOptionSets', view.dhcpOptionSets.map(dhcpDoc)],
    [
      'internetGateways',
      view.internetGateways.map((g) =>
        compact([
          ['name', g.id],
          ['ownerId', g.ownerId],
        ]),
      ),
    ],
    ['securityGroups', view.securityGroups.map(sgDoc)],
  ]);
}

/** The canonical JSON form (§15) of a view: producer key order, 2-space indent, final newline. */
export function writeGniJson(view: GlobalView): string {
  return `${JSON.stringify(toGniDocument(view), null, 2)}\n`;
}

function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : s;
}

function escapeAttr(s: string): string {
  return /[&<>"]/.test(s)
    ? s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    : s;
}

/** Serializes a §15 plain object as the element `name` using `schema` to tell attributes from children. */
function writeElement(
  out: string[],
  name: string,
  o: Plain,
  schema: ObjSchema,
  indent: string,
): void {
  let open = `${indent}<${name}`;
  for (const a of schema.attrs) {
    const v = o[a];
    if (v !== undefined) open += ` ${a}="${escapeAttr(String(v))}"`;
  }
  const inner = `${indent}  `;
  const body: string[] = [];
  for (const key of Object.keys(o)) {
    if (schema.attrs.has(key)) continue;
    const spec = schema.children.get(key);
    const v = o[key];
    if (spec === undefined || v === undefined) continue;
    switch (spec.k) {
      case 'scalar':
        body.push(`${inner}<${key}>${escapeText(String(v))}</${key}>`);
        break;
      case 'scalarList':
        for (const s of v as unknown[])
          body.push(`${inner}<${key}>${escapeText(String(s))}</${key}>`);
        break;
      case 'obj':
        writeElement(body, key, v as Plain, spec.schema, inner);
        break;
      case 'objList':
        for (const item of v as Plain[]) writeElement(body, key, item, spec.schema, inner);
        break;
      case 'wrapper': {
        const items = v as Plain[];
        if (items.length === 0) body.push(`${inner}<${key}/>`);
        else {
          body.push(`${inner}<${key}>`);
          for (const item of items) writeElement(body, spec.item, item, spec.schema, `${inner}  `);
          body.push(`${inner}</${key}>`);
        }
        break;
      }
      case 'values': {
        const items = v as unknown[];
        if (items.length === 0) body.push(`${inner}<${key}/>`);
        else {
          body.push(`${inner}<${key}>`);
          for (const s of items) body.push(`${inner}  <value>${escapeText(String(s))}</value>`);
          body.push(`${inner}</${key}>`);
        }
        break;
      }
      case 'ignore':
        break;
    }
  }
  if (body.length === 0) out.push(`${open}/>`);
  else {
    out.push(`${open}>`);
    for (const line of body) out.push(line);
    out.push(`${indent}</${name}>`);
  }
}

/** The canonical XML form of a view: producer element order, 2-space indent, final newline. */
export function writeGniXml(view: GlobalView): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'];
  writeElement(out, ROOT_NAME, toGniDocument(view), ROOT, '');
  return `${out.join('\n')}\n`;
}
