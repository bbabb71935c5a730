/**
 * Builds the entity sections of the view (VPCs and their children, instances and their
 * interfaces, DHCP option sets, internet gateways, security groups) from the plain form,
 * checking each field's format. Cross-references are checked afterwards in `references.ts`.
 */
import {
  entityKey,
  type EntityKind,
  type AclEntry,
  type DhcpOptionSet,
  type Instance,
  type InternetGateway,
  type NatGateway,
  type NetworkAcl,
  type NetworkInterface,
  type Property,
  type Route,
  type RouteTable,
  type RouteTarget,
  type SecurityGroup,
  type SecurityGroupRule,
  type Subnet,
  type Vpc,
} from './types.js';
import { quote, str, strList, objList, type BuildContext, type Mutable } from './build-context.js';
import { parseIpv4 } from './net.js';
import type { Plain } from './schema.js';

/** Paths of entities, built only when an issue needs one. */
export const paths = {
  vpc: (v: string): string => `vpcs/vpc[${v}]`,
  child: (v: string, wrapper: string, item: string, id: string): string =>
    `vpcs/vpc[${v}]/${wrapper}/${item}[${id}]`,
  instance: (i: string): string => `instances/instance[${i}]`,
  eni: (i: string, e: string): string =>
    `instances/instance[${i}]/networkInterfaces/networkInterface[${e}]`,
  sg: (g: string): string => `securityGroups/securityGroup[${g}]`,
  dopt: (d: string): string => `dhcpOptionSets/dhcpOptionSet[${d}]`,
  igw: (g: string): string => `internetGateways/internetGateway[${g}]`,
};

/** Control characters, bidirectional and invisible formatting characters, and separators that
 * make an id display as another one (U+202E reverses the text after it). */
const UNSAFE_ID =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

/** Reads the `name` (id) of an object; a missing id rejects the document (§11), an id with a
 * control or formatting character makes the entity invalid (`invalid-id`). */
function idOf(o: Plain, path: string, what: EntityKind, ctx: BuildContext): string {
  const id = str(o, 'name');
  if (id === undefined) {
    ctx.reject(path, 'missing-required', `${what} has no name (id)`);
    return '';
  }
  if (UNSAFE_ID.test(id)) {
    ctx.bad(
      entityKey(what, id),
      path,
      'invalid-id',
      `${what} id ${JSON.stringify(id)} has a control or formatting character`,
    );
  }
  return id;
}

function owner(
  o: Plain,
  path: string,
  what: string,
  ctx: BuildContext,
  required = true,
): string | undefined {
  const v = str(o, 'ownerId');
  if (v === undefined && required)
    ctx.reject(`${path}/ownerId`, 'missing-required', `${what} has no ownerId`);
  return v;
}

/** Sets `o[k] = v` unless `v` is undefined (exactOptionalPropertyTypes: absent, never undefined). */
function set<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

/** Builds one VPC with its subnets, ACLs, route tables and NAT gateways. */
export function buildVpc(o: Plain, index: number, ctx: BuildContext): Vpc {
  const id = idOf(o, `vpcs/vpc[${index}]`, 'vpc', ctx);
  const path = paths.vpc(id);
  const key = entityKey('vpc', id);
  const vpc: Mutable<Vpc> = {
    id,
    subnets: [],
    networkAcls: [],
    routeTables: [],
    natGateways: [],
    internetGateways: strList(o, 'internetGateways').filter((g) => g !== ''),
  };
  set(vpc, 'ownerId', owner(o, path, `vpc ${id}`, ctx));
  set(vpc, 'cidr', ctx.cidr(key, o, 'cidr', path)[0]);
  set(vpc, 'dhcpOptionSet', str(o, 'dhcpOptionSet'));
  vpc.subnets = objList(o, 'subnets').map((s, i) => buildSubnet(s, i, id, ctx));
  vpc.networkAcls = objList(o, 'networkAcls').map((a, i) => buildAcl(a, i, id, ctx));
  vpc.routeTables = objList(o, 'routeTables').map((r, i) => buildRouteTable(r, i, id, ctx));
  vpc.natGateways = objList(o, 'natGateways').map((n, i) => buildNat(n, i, id, ctx));
  return vpc;
}

function buildSubnet(o: Plain, index: number, vpcId: string, ctx: BuildContext): Subnet {
  const id = idOf(o, paths.child(vpcId, 'subnets', 'subnet', String(index)), 'subnet', ctx);
  const path = paths.child(vpcId, 'subnets', 'subnet', id);
  const key = entityKey('subnet', id);
  const subnet: Mutable<Subnet> = { id };
  set(subnet, 'ownerId', owner(o, path, `subnet ${id}`, ctx));
  const cidr = ctx.cidr(key, o, 'cidr', path)[0];
  if (cidr === undefined) ctx.bad(key, `${path}/cidr`, 'missing-cidr', 'subnet has no cidr');
  set(subnet, 'cidr', cidr);
  set(subnet, 'cluster', str(o, 'cluster'));
  set(subnet, 'networkAcl', str(o, 'networkAcl'));
  set(subnet, 'routeTable', str(o, 'routeTable'));
  return subnet;
}

function buildAcl(o: Plain, index: number, vpcId: string, ctx: BuildContext): NetworkAcl {
  const id = idOf(
    o,
    paths.child(vpcId, 'networkAcls', 'networkAcl', String(index)),
    'networkAcl',
    ctx,
  );
  const path = paths.child(vpcId, 'networkAcls', 'networkAcl', id);
  const acl: Mutable<NetworkAcl> = { id, ingressEntries: [], egressEntries: [] };
  set(acl, 'ownerId', owner(o, path, `networkAcl ${id}`, ctx));
  const key = entityKey('networkAcl', id);
  acl.ingressEntries = buildEntries(
    objList(o, 'ingressEntries'),
    key,
    `${path}/ingressEntries`,
    ctx,
  );
  acl.egressEntries = buildEntries(objList(o, 'egressEntries'), key, `${path}/egressEntries`, ctx);
  return acl;
}

function buildEntries(
  list: Plain[],
  key: string,
  wrapperPath: string,
  ctx: BuildContext,
): AclEntry[] {
  const out: AclEntry[] = [];
  for (const [i, o] of list.entries()) {
    const path = `${wrapperPath}/entry[${str(o, 'number') ?? i}]`;
    const number = ctx.int(key, o, 'number', path, 0, 32767);
    const protocol = ctx.int(key, o, 'protocol', path, -1, 255);
    const cidr = ctx.cidr(key, o, 'cidr', path)[0];
    if (str(o, 'number') === undefined || number === 0)
      ctx.reject(`${path}/number`, 'missing-required', 'ACL entry has no (or a zero) rule number');
    if (str(o, 'protocol') === undefined || protocol === 0)
      ctx.reject(`${path}/protocol`, 'missing-required', 'ACL entry has no (or a zero) protocol');
    if (cidr === undefined) ctx.reject(`${path}/cidr`, 'missing-required', 'ACL entry has no cidr');
    const action = str(o, 'action');
    if (action !== undefined && action !== 'allow' && action !== 'deny') {
      ctx.warn(`${path}/action`, 'unknown-action', `action ${quote(action)} is treated as deny`);
    }
    if (number === undefined || protocol === undefined) continue; // already an error; dropped
    const entry: Mutable<AclEntry> = {
      number,
      protocol,
      action: action === 'allow' ? 'allow' : 'deny',
    };
    set(entry, 'cidr', cidr);
    set(entry, 'icmpType', ctx.int(key, o, 'icmpType', path, -1, 255));
    set(entry, 'icmpCode', ctx.int(key, o, 'icmpCode', path, -1, 255));
    set(entry, 'portRangeFrom', ctx.int(key, o, 'portRangeFrom', path, 0, 65535));
    set(entry, 'portRangeTo', ctx.int(key, o, 'portRangeTo', path, 0, 65535));
    out.push(entry);
  }
  return out;
}

/** Classifies a route target as eucanetd did: gatewayId first, then ENI, then NAT gateway. */
export function classifyTarget(route: Route): RouteTarget | undefined {
  const raw = route.gatewayId ?? route.networkInterfaceId ?? route.natGatewayId;
  if (raw === undefined) return undefined;
  if (raw.includes('local')) return { type: 'local' };
  if (raw.includes('igw-')) return { type: 'internetGateway', id: raw };
  if (raw.includes('eni-')) return { type: 'networkInterface', id: raw };
  if (raw.includes('nat-')) return { type: 'natGateway', id: raw };
  return { type: 'unsupported', id: raw };
}

function buildRouteTable(o: Plain, index: number, vpcId: string, ctx: BuildContext): RouteTable {
  const id = idOf(
    o,
    paths.child(vpcId, 'routeTables', 'routeTable', String(index)),
    'routeTable',
    ctx,
  );
  const path = paths.child(vpcId, 'routeTables', 'routeTable', id);
  const key = entityKey('routeTable', id);
  const table: Mutable<RouteTable> = { id, routes: [] };
  set(table, 'ownerId', owner(o, path, `routeTable ${id}`, ctx));
  table.routes = objList(o, 'routes').map((r, i) => {
    const rpath = `${path}/routes/route[${i}]`;
    const route: Mutable<Route> = {};
    const dest = ctx.cidr(key, r, 'destinationCidr', rpath)[0];
    if (dest === undefined)
      ctx.reject(`${rpath}/destinationCidr`, 'missing-required', 'route has no destinationCidr');
    set(route, 'destinationCidr', dest);
    set(route, 'gatewayId', str(r, 'gatewayId'));
    set(route, 'networkInterfaceId', str(r, 'networkInterfaceId'));
    set(route, 'natGatewayId', str(r, 'natGatewayId'));
    const target = classifyTarget(route);
    if (target === undefined)
      ctx.reject(
        rpath,
        'missing-required',
        'route has no target (gatewayId, networkInterfaceId or natGatewayId)',
      );
    else if (target.type === 'unsupported')
      ctx.warn(
        rpath,
        'unsupported-target',
        `route target ${quote(target.id)} is not supported; the route is ignored`,
      );
    set(route, 'target', target);
    return route;
  });
  return table;
}

function buildNat(o: Plain, index: number, vpcId: string, ctx: BuildContext): NatGateway {
  const id = idOf(
    o,
    paths.child(vpcId, 'natGateways', 'natGateway', String(index)),
    'natGateway',
    ctx,
  );
  const path = paths.child(vpcId, 'natGateways', 'natGateway', id);
  const key = entityKey('natGateway', id);
  const what = `natGateway ${id}`;
  const nat: Mutable<NatGateway> = { id };
  set(nat, 'ownerId', owner(o, path, what, ctx));
  set(nat, 'macAddress', ctx.mac(key, o, 'macAddress', path));
  if (nat.macAddress === undefined)
    ctx.warn(`${path}/macAddress`, 'missing-mac', 'NAT gateway has no macAddress');
  set(nat, 'publicIp', ctx.ip(key, o, 'publicIp', path));
  set(nat, 'privateIp', ctx.requiredIp(key, o, 'privateIp', path, what));
  set(nat, 'vpc', ctx.required(o, 'vpc', path, what));
  set(nat, 'subnet', ctx.required(o, 'subnet', path, what));
  return nat;
}

function groupList(o: Plain, path: string, ctx: BuildContext): string[] {
  const groups = strList(o, 'securityGroups');
  if (groups.some((g) => g === ''))
    ctx.reject(`${path}/securityGroups`, 'empty-group-id', 'securityGroups lists an empty id');
  return groups.filter((g) => g !== '');
}

/** Builds one instance with its interfaces. */
export function buildInstance(o: Plain, index: number, ctx: BuildContext): Instance {
  const id = idOf(o, `instances/instance[${index}]`, 'instance', ctx);
  const path = paths.instance(id);
  const key = entityKey('instance', id);
  const what = `instance ${id}`;
  const inst: Mutable<Instance> = {
    id,
    networkInterfaces: [],
    securityGroups: groupList(o, path, ctx),
  };
  set(inst, 'ownerId', owner(o, path, what, ctx));
  set(inst, 'macAddress', ctx.mac(key, o, 'macAddress', path));
  if (inst.macAddress === undefined)
    ctx.warn(`${path}/macAddress`, 'missing-mac', 'instance has no macAddress');
  set(inst, 'publicIp', ctx.ip(key, o, 'publicIp', path));
  set(inst, 'privateIp', ctx.requiredIp(key, o, 'privateIp', path, what));
  set(inst, 'vpc', str(o, 'vpc'));
  set(inst, 'subnet', str(o, 'subnet'));
  if (inst.securityGroups.length === 0)
    ctx.reject(`${path}/securityGroups`, 'missing-required', 'instance has no security group');
  inst.networkInterfaces = objList(o, 'networkInterfaces').map((e, i) => buildEni(e, i, id, ctx));
  return inst;
}

function buildEni(
  o: Plain,
  index: number,
  instanceId: string,
  ctx: BuildContext,
): NetworkInterface {
  const id = idOf(o, paths.eni(instanceId, String(index)), 'networkInterface', ctx);
  const path = paths.eni(instanceId, id);
  const key = entityKey('networkInterface', id);
  const what = `networkInterface ${id}`;
  const sdc = str(o, 'sourceDestCheck');
  const sdcLower = sdc?.toLowerCase();
  if (sdcLower !== undefined && sdcLower !== 'true' && sdcLower !== 'false') {
    ctx.warn(
      `${path}/sourceDestCheck`,
      'invalid-boolean',
      `sourceDestCheck ${quote(sdc!)} is treated as false`,
    );
  }
  const eni: Mutable<NetworkInterface> = {
    id,
    sourceDestCheck: sdcLower === undefined || sdcLower === 'true',
    securityGroups: groupList(o, path, ctx),
  };
  set(eni, 'ownerId', owner(o, path, what, ctx));
  set(eni, 'deviceIndex', ctx.int(key, o, 'deviceIndex', path, 0, 65535));
  set(eni, 'attachmentId', str(o, 'attachmentId'));
  set(eni, 'macAddress', ctx.mac(key, o, 'macAddress', path));
  if (eni.macAddress === undefined)
    ctx.warn(`${path}/macAddress`, 'missing-mac', 'network interface has no macAddress');
  set(eni, 'privateIp', ctx.requiredIp(key, o, 'privateIp', path, what));
  set(eni, 'publicIp', ctx.ip(key, o, 'publicIp', path));
  set(eni, 'vpc', str(o, 'vpc'));
  set(eni, 'subnet', str(o, 'subnet'));
  return eni;
}

const DHCP_LISTS: Record<
  string,
  'domainName' | 'domainNameServers' | 'ntpServers' | 'netbiosNameServers'
> = {
  'domain-name': 'domainName',
  'domain-name-servers': 'domainNameServers',
  'ntp-servers': 'ntpServers',
  'netbios-name-servers': 'netbiosNameServers',
};

/** Builds one DHCP option set. */
export function buildDhcpOptionSet(o: Plain, index: number, ctx: BuildContext): DhcpOptionSet {
  {
    const id = idOf(o, `dhcpOptionSets/dhcpOptionSet[${index}]`, 'dhcpOptionSet', ctx);
    const path = paths.dopt(id);
    const key = entityKey('dhcpOptionSet', id);
    const set_: Mutable<DhcpOptionSet> = {
      id,
      properties: [],
      domainName: [],
      domainNameServers: [],
      ntpServers: [],
      netbiosNameServers: [],
    };
    set(set_, 'ownerId', owner(o, path, `dhcpOptionSet ${id}`, ctx, false));
    const props: Property[] = [];
    for (const p of objList(o, 'property')) {
      const name = str(p, 'name');
      if (name === undefined) {
        ctx.warn(`${path}/property`, 'missing-name', 'property without a name ignored');
        continue;
      }
      const vals = strList(p, 'value').filter((v) => v !== '');
      props.push({ name, values: vals });
      const ppath = `${path}/property[${name}]`;
      const field = Object.hasOwn(DHCP_LISTS, name) ? DHCP_LISTS[name] : undefined;
      if (field !== undefined) {
        set_[field] = vals;
        if (field !== 'domainName') {
          for (const v of vals) {
            if (parseIpv4(v) === undefined)
              ctx.bad(key, ppath, 'invalid-ip', `${name} entry ${quote(v)} is not an IPv4 address`);
          }
        }
      } else if (name === 'netbios-node-type') {
        const n = Number(vals[0]);
        if (vals.length > 0 && [1, 2, 4, 8].includes(n) && /^\d$/.test(vals[0]!))
          set_.netbiosNodeType = n;
        else
          ctx.bad(
            key,
            ppath,
            'invalid-integer',
            `netbios-node-type ${quote(vals[0] ?? '')} is not 1, 2, 4 or 8`,
          );
      } else {
        ctx.warn(ppath, 'unknown-option', `unknown DHCP option ${quote(name)} ignored`);
      }
    }
    set_.properties = props;
    return set_;
  }
}

/** Builds one top-level internet gateway. */
export function buildInternetGateway(o: Plain, index: number, ctx: BuildContext): InternetGateway {
  {
    const id = idOf(o, `internetGateways/internetGateway[${index}]`, 'internetGateway', ctx);
    const igw: Mutable<InternetGateway> = { id };
    set(igw, 'ownerId', owner(o, paths.igw(id), `internetGateway ${id}`, ctx, false));
    return igw;
  }
}

/** Builds one security group with its rules. */
export function buildSecurityGroup(o: Plain, index: number, ctx: BuildContext): SecurityGroup {
  {
    const id = idOf(o, `securityGroups/securityGroup[${index}]`, 'securityGroup', ctx);
    const path = paths.sg(id);
    const key = entityKey('securityGroup', id);
    const sg: Mutable<SecurityGroup> = {
      id,
      ingressRules: buildRules(objList(o, 'ingressRules'), key, `${path}/ingressRules`, ctx),
      egressRules: buildRules(objList(o, 'egressRules'), key, `${path}/egressRules`, ctx),
    };
    set(sg, 'ownerId', owner(o, path, `securityGroup ${id}`, ctx));
    return sg;
  }
}

/** Builds a top-level entity of `section` from its plain form (the scanner's item hook). */
export function buildItem(section: string, o: Plain, index: number, ctx: BuildContext): unknown {
  switch (section) {
    case 'vpcs':
      return buildVpc(o, index, ctx);
    case 'instances':
      return buildInstance(o, index, ctx);
    case 'dhcpOptionSets':
      return buildDhcpOptionSet(o, index, ctx);
    case 'internetGateways':
      return buildInternetGateway(o, index, ctx);
    case 'securityGroups':
      return buildSecurityGroup(o, index, ctx);
    default:
      return o;
  }
}

function buildRules(
  list: Plain[],
  key: string,
  wrapperPath: string,
  ctx: BuildContext,
): SecurityGroupRule[] {
  const out: SecurityGroupRule[] = [];
  for (const [i, o] of list.entries()) {
    const path = `${wrapperPath}/rule[${i}]`;
    const protocol = ctx.int(key, o, 'protocol', path, -1, 255);
    if (str(o, 'protocol') === undefined)
      ctx.bad(key, `${path}/protocol`, 'missing-protocol', 'rule has no protocol');
    const rule: Mutable<SecurityGroupRule> = { protocol: protocol ?? -1 };
    set(rule, 'fromPort', ctx.int(key, o, 'fromPort', path, -1, 65535));
    set(rule, 'toPort', ctx.int(key, o, 'toPort', path, -1, 65535));
    set(rule, 'icmpType', ctx.int(key, o, 'icmpType', path, -1, 255));
    set(rule, 'icmpCode', ctx.int(key, o, 'icmpCode', path, -1, 255));
    set(rule, 'groupId', str(o, 'groupId'));
    set(rule, 'groupOwnerId', str(o, 'groupOwnerId'));
    set(rule, 'cidr', ctx.cidr(key, o, 'cidr', path)[0]);
    if ((rule.groupId === undefined) === (rule.cidr === undefined)) {
      ctx.bad(key, path, 'invalid-rule', 'rule must have exactly one of groupId and cidr');
    }
    if (rule.fromPort !== undefined && rule.toPort !== undefined && rule.fromPort > rule.toPort) {
      ctx.bad(
        key,
        path,
        'invalid-port-range',
        `fromPort ${rule.fromPort} is above toPort ${rule.toPort}`,
      );
    }
    if (protocol !== undefined) out.push(rule);
  }
  return out;
}
