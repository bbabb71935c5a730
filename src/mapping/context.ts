/**
 * One pass over the view before mapping: lookup tables (first occurrence wins, as in
 * eucanetd's linear lookups), the flat interface list with each interface's name key, and
 * the held owners (invalid entities and everything that depends on them).
 */
import { entityKey, type EntityKind, type GlobalView } from '../gni/index.js';
import type {
  DhcpOptionSet,
  Instance,
  NetworkInterface,
  SecurityGroup,
  Subnet,
  Vpc,
} from '../gni/index.js';
import type { Note, TopologyBuilder } from './builder.js';
import { parseCidr, parseIp, type Cidr } from './ip.js';

/** One interface to map, with what it resolves to. */
export interface InterfaceEntry {
  readonly iface: NetworkInterface;
  readonly instance: Instance;
  /** The owner and name key: the instance id for the primary interface, else the ENI id. */
  readonly key: string;
  readonly vpcId: string | undefined;
  readonly subnetId: string | undefined;
  readonly securityGroups: readonly string[];
  /** Parsed private address (absent for held interfaces that lack one). */
  readonly privateIp: number | undefined;
  readonly held: boolean;
}

/** A subnet with its VPC. */
export interface SubnetEntry {
  readonly subnet: Subnet;
  readonly vpc: Vpc;
  readonly cidr: Cidr | undefined;
}

/** Lookups shared by the mappers. */
export interface ViewIndex {
  readonly vpcs: readonly Vpc[];
  readonly subnets: ReadonlyMap<string, SubnetEntry>;
  readonly interfaces: readonly InterfaceEntry[];
  /** ENI id → entry (route targets). */
  readonly eniById: ReadonlyMap<string, InterfaceEntry>;
  readonly securityGroups: ReadonlyMap<string, SecurityGroup>;
  readonly dhcpOptionSets: ReadonlyMap<string, DhcpOptionSet>;
  readonly invalid: (kind: EntityKind, id: string) => boolean;
  /** What indexing an instance looks up (kept to index changed instances in a later pass). */
  readonly lookups: InstanceLookups;
  /** Per instance of the view (by position): the issues and holds indexing it recorded
   * (absent when none); and how many instances were a second copy of an id or had an
   * interface whose id another interface already had. */
  readonly perInstance: {
    readonly notes: Map<number, Note[]>;
    duplicates: number;
  };
  /** How many of the pass's notes (issues and holds) indexing recorded before the instances,
   * and before and after the security groups'. */
  readonly notesBeforeInstances: number;
  readonly notesBeforeSgs: number;
  readonly notesAfterSgs: number;
  /** The issues and holds indexing each VPC recorded, by VPC id (absent when none; with
   * duplicate VPC ids the last copy's). */
  readonly vpcNotes: Map<string, Note[]>;
}

/** What indexing one instance looks up besides the interfaces indexed before it. */
export interface InstanceLookups {
  readonly invalid: ViewIndex['invalid'];
  readonly vpcs: ReadonlyMap<string, Vpc>;
  readonly subnets: ReadonlyMap<string, SubnetEntry>;
  readonly invalidNodes: ReadonlySet<string>;
}

/** Builds the index and records held owners in the builder. */
export function indexView(view: GlobalView, b: TopologyBuilder): ViewIndex {
  const invalidSet = view.invalid;
  const invalid = (kind: EntityKind, id: string): boolean =>
    invalidSet.size > 0 && invalidSet.has(entityKey(kind, id));
  const dhcpOptionSets = firstById(view.dhcpOptionSets);
  const vpcMap = firstById(view.vpcs);
  const vpcs = [...vpcMap.values()];
  const subnets = new Map<string, SubnetEntry>();
  // every copy of a duplicated VPC id is invalid: the children of each copy are held
  const vpcNotes = new Map<string, Note[]>();
  for (const vpc of view.vpcs) {
    const before = b.notes.length;
    indexVpc(vpc, b, invalid, subnets);
    if (b.notes.length > before) vpcNotes.set(vpc.id, b.notes.slice(before));
  }
  const notesBeforeSgs = b.notes.length;
  const securityGroups = firstById(view.securityGroups);
  holdInvalidGroups(securityGroups, b, invalid);
  const notesAfterSgs = b.notes.length;
  view.configuration.mido?.gateways.forEach((_, i) => {
    if (invalid('gateway', String(i))) b.hold('core', `gateway/${i}`, 'gateway invalid');
  });
  const notesBeforeInstances = b.notes.length;
  const invalidNodes = new Set<string>();
  for (const cluster of view.configuration.clusters) {
    for (const node of cluster.nodes) if (invalid('node', node.name)) invalidNodes.add(node.name);
  }
  const lookups: InstanceLookups = { invalid, vpcs: vpcMap, subnets, invalidNodes };
  const { interfaces, eniById, perInstance } = indexInterfaces(view, b, lookups);
  return {
    lookups,
    perInstance,
    notesBeforeInstances,
    notesBeforeSgs,
    notesAfterSgs,
    vpcNotes,
    vpcs,
    subnets,
    interfaces,
    eniById,
    securityGroups,
    dhcpOptionSets,
    invalid,
  };
}

/** Holds the invalid security groups. */
export function holdInvalidGroups(
  groups: ReadonlyMap<string, SecurityGroup>,
  b: TopologyBuilder,
  invalid: ViewIndex['invalid'],
): void {
  for (const sg of groups.values()) {
    if (invalid('securityGroup', sg.id)) b.hold(sg.id, `securityGroup/${sg.id}`, 'invalid');
  }
}

/** The first item of each id, by id (document order). */
export function firstById<T extends { readonly id: string }>(items: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) if (!map.has(item.id)) map.set(item.id, item);
  return map;
}

/** Indexes one VPC's subnets into `subnets` and records the holds of its subnets, route
 * tables, ACLs and NAT gateways (and their issues). */
export function indexVpc(
  vpc: Vpc,
  b: TopologyBuilder,
  invalid: ViewIndex['invalid'],
  subnets: Map<string, SubnetEntry>,
): void {
  const path = `vpc/${vpc.id}`;
  const vpcHeld = invalid('vpc', vpc.id);
  if (vpcHeld) b.hold(vpc.id, path, 'invalid');
  const doptInvalid =
    vpc.dhcpOptionSet !== undefined && invalid('dhcpOptionSet', vpc.dhcpOptionSet);
  const tables = new Set(vpc.routeTables.map((t) => t.id));
  for (const subnet of vpc.subnets) {
    if (subnets.has(subnet.id)) continue;
    const cidr = subnet.cidr === undefined ? undefined : parseCidr(subnet.cidr);
    subnets.set(subnet.id, { subnet, vpc, cidr });
    const spath = `${path}/subnet/${subnet.id}`;
    const routes = `${subnet.id}/routes`;
    if (vpcHeld) {
      b.hold(subnet.id, spath, `its VPC ${vpc.id} is held`);
      b.hold(routes, spath, `its VPC ${vpc.id} is held`);
      continue;
    }
    if (invalid('subnet', subnet.id) || cidr === undefined || cidr.len > 29) {
      const why = invalid('subnet', subnet.id) ? 'invalid' : 'missing or unusable CIDR';
      b.hold(subnet.id, spath, why);
      b.hold(routes, spath, why);
      continue;
    }
    if (doptInvalid) b.hold(subnet.id, spath, `DHCP option set ${vpc.dhcpOptionSet} invalid`);
    const rt = subnet.routeTable;
    if (rt !== undefined && tables.has(rt) && invalid('routeTable', rt)) {
      b.hold(routes, spath, `route table ${rt} invalid`);
    }
  }
  for (const acl of vpc.networkAcls) {
    if (vpcHeld || invalid('networkAcl', acl.id)) {
      b.hold(
        `${vpc.id}/${acl.id}`,
        `${path}/networkAcl/${acl.id}`,
        vpcHeld ? 'VPC held' : 'invalid',
      );
    }
  }
  for (const nat of vpc.natGateways) {
    const npath = `${path}/natGateway/${nat.id}`;
    const sub = nat.subnet === undefined ? undefined : subnets.get(nat.subnet);
    if (vpcHeld || invalid('natGateway', nat.id)) {
      b.hold(nat.id, npath, vpcHeld ? 'VPC held' : 'invalid');
    } else if (sub === undefined || sub.vpc !== vpc) {
      b.error(
        'mapping.reference-missing',
        npath,
        `subnet ${nat.subnet ?? '(none)'} not in ${vpc.id}`,
      );
      b.hold(nat.id, npath, 'subnet missing');
    } else if (b.held.has(sub.subnet.id)) {
      b.hold(nat.id, npath, `its subnet ${sub.subnet.id} is held`);
    } else if (nat.privateIp === undefined || parseIp(nat.privateIp) === undefined) {
      b.hold(nat.id, npath, 'missing private IP');
    }
  }
}

function indexInterfaces(
  view: GlobalView,
  b: TopologyBuilder,
  lookups: InstanceLookups,
): {
  interfaces: InterfaceEntry[];
  eniById: Map<string, InterfaceEntry>;
  perInstance: ViewIndex['perInstance'];
} {
  const interfaces: InterfaceEntry[] = [];
  const eniById = new Map<string, InterfaceEntry>();
  const seenInstances = new Set<string>();
  const perInstance: ViewIndex['perInstance'] = { notes: new Map(), duplicates: 0 };
  view.instances.forEach((instance, i) => {
    const before = b.notes.length;
    if (seenInstances.has(instance.id)) {
      // a second copy of an id (both are invalid): its interfaces are held too
      for (const iface of instance.networkInterfaces) {
        const key = iface.deviceIndex === 0 ? instance.id : iface.id;
        b.hold(key, `instance/${instance.id}/networkInterface/${iface.id}`, 'duplicate id');
      }
      perInstance.duplicates++;
    } else {
      seenInstances.add(instance.id);
      if (!indexInstance(instance, b, lookups, eniById, interfaces)) perInstance.duplicates++;
    }
    if (b.notes.length > before) perInstance.notes.set(i, b.notes.slice(before));
  });
  return { interfaces, eniById, perInstance };
}

/**
 * Indexes the interfaces of one instance (not a second copy of an id) into `out` and
 * `eniById`, recording its holds and issues. Returns false when an interface was skipped
 * because `eniById` already had its id.
 */
export function indexInstance(
  instance: Instance,
  b: TopologyBuilder,
  lookups: InstanceLookups,
  eniById: Map<string, InterfaceEntry>,
  out: InterfaceEntry[],
): boolean {
  const { invalid, vpcs, subnets, invalidNodes } = lookups;
  let unique = true;
  const instanceInvalid = invalid('instance', instance.id);
  // the primary interface's objects are owned by the instance id: held even when the
  // document lost its interfaces or its primary one
  if (instanceInvalid) b.hold(instance.id, `instance/${instance.id}`, 'invalid');
  for (const iface of instance.networkInterfaces) {
    if (eniById.has(iface.id)) {
      unique = false;
      continue;
    }
    const primary = iface.deviceIndex === 0;
    const key = primary ? instance.id : iface.id;
    const vpcId = iface.vpc ?? (primary ? instance.vpc : undefined);
    const subnetId = iface.subnet ?? (primary ? instance.subnet : undefined);
    const privateIp = iface.privateIp === undefined ? undefined : parseIp(iface.privateIp);
    const path = `instance/${instance.id}/networkInterface/${iface.id}`;
    const sub = subnetId === undefined ? undefined : subnets.get(subnetId);
    let why: string | undefined;
    if (instanceInvalid) why = `instance ${instance.id} invalid`;
    else if (invalid('networkInterface', iface.id)) why = 'invalid';
    else if (vpcId === undefined || !vpcs.has(vpcId)) {
      why = `VPC ${vpcId ?? '(none)'} not found`;
      b.error('mapping.reference-missing', path, why);
    } else if (sub === undefined || sub.vpc.id !== vpcId) {
      why = `subnet ${subnetId ?? '(none)'} not found in ${vpcId}`;
      b.error('mapping.reference-missing', path, why);
    } else if (b.held.has(sub.subnet.id)) why = `its subnet ${sub.subnet.id} is held`;
    else if (privateIp === undefined || sub.cidr === undefined) why = 'missing private IP';
    else if (instance.node !== undefined && invalidNodes.has(instance.node)) {
      why = `node ${instance.node} invalid`;
    }
    if (why !== undefined) b.hold(key, path, why);
    // a group listed twice is one membership (eucanetd merges it too): no duplicate jump
    const securityGroups = uniqueIds(
      iface.securityGroups.length > 0 || !primary ? iface.securityGroups : instance.securityGroups,
    );
    const entry: InterfaceEntry = {
      iface,
      instance,
      key,
      vpcId,
      subnetId,
      securityGroups,
      privateIp,
      held: why !== undefined,
    };
    out.push(entry);
    eniById.set(iface.id, entry);
  }
  return unique;
}

/** `ids` without repeats (first place kept); the same array when it has none. */
function uniqueIds(ids: readonly string[]): readonly string[] {
  if (ids.length < 2) return ids;
  const set = new Set(ids);
  return set.size === ids.length ? ids : [...set];
}

/** Holds a VPC and everything under it (subnets, their routes, ACLs, NAT gateways): for a VPC
 * that cannot be mapped (the core is held, or no router id is left). */
export function holdVpcTree(b: TopologyBuilder, vpc: Vpc, why: string): void {
  const path = `vpc/${vpc.id}`;
  b.hold(vpc.id, path, why);
  const under = `its VPC ${vpc.id} is held`;
  for (const s of vpc.subnets) {
    b.hold(s.id, `${path}/subnet/${s.id}`, under);
    b.hold(`${s.id}/routes`, `${path}/subnet/${s.id}`, under);
  }
  for (const acl of vpc.networkAcls)
    b.hold(`${vpc.id}/${acl.id}`, `${path}/networkAcl/${acl.id}`, under);
  for (const nat of vpc.natGateways) b.hold(nat.id, `${path}/natGateway/${nat.id}`, under);
}
