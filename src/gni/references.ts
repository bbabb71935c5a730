/**
 * Cross-entity validation of a built view: duplicate ids, dangling references, addresses
 * outside their subnet, instance placement on nodes, then the cascade of invalidity to the
 * entities that depend on an invalid one (see docs/gni.md for the rules).
 */
import {
  entityKey,
  type EntityKind,
  type GlobalView,
  type Instance,
  type Subnet,
  type Vpc,
} from './types.js';
import { paths } from './build-entities.js';
import { placeInstances } from './placement.js';
import { sharedIds } from './shared-ids.js';
import { quote, type BuildContext, type Mutable } from './build-context.js';
import { cidrContainsCidr, cidrContainsIp, parseCidr, parseIpv4, type Cidr } from './net.js';

/** The sections of a view being validated (before `invalid` is frozen into it). */
export type ViewParts = Omit<Mutable<GlobalView>, 'invalid' | 'instances'> & {
  instances: Mutable<Instance>[];
};

/** A subnet in the index: the subnet, its VPC and its parsed cidr. */
export interface SubnetEntry {
  readonly subnet: Subnet;
  readonly vpc: Vpc;
  readonly cidr: Cidr | undefined;
}

/** Lookups the reference checks use (each id of a kind once). */
export interface Index {
  readonly vpcs: Map<string, Vpc>;
  readonly subnets: Map<string, SubnetEntry>;
  readonly enis: Set<string>;
  readonly groups: Set<string>;
  readonly topIgws: Set<string>;
  readonly dopts: Set<string>;
}

/** An index with nothing in it. */
export function emptyIndex(): Index {
  return {
    vpcs: new Map(),
    subnets: new Map(),
    enis: new Set(),
    groups: new Set(),
    topIgws: new Set(),
    dopts: new Set(),
  };
}

/** Registers `id`; a second occurrence is an error and makes the id invalid. */
function unique(
  seen: Set<string>,
  kind: EntityKind,
  id: string,
  path: string,
  ctx: BuildContext,
): boolean {
  if (!seen.has(id)) {
    seen.add(id);
    return true;
  }
  ctx.bad(
    entityKey(kind, id),
    path,
    'duplicate-id',
    `${kind} id ${id} appears more than once; it is held until the duplicate is removed`,
  );
  return false;
}

/** What `checkReferences` looked up a view with: its index, and each id's kind among the
 * kinds that own topology (see `sharedIds`). */
export interface Lookups {
  readonly index: Index;
  readonly topo: Map<string, EntityKind>;
}

/** Checks ids for duplicates (per kind; across kinds is `sharedIds`) and indexes them. */
export function buildIndex(view: ViewParts, ctx: BuildContext): Index {
  const index = emptyIndex();
  const seen = {
    vpc: new Set<string>(),
    subnet: new Set<string>(),
    acl: new Set<string>(),
    rtb: new Set<string>(),
    nat: new Set<string>(),
    inst: new Set<string>(),
  };
  for (const vpc of view.vpcs) {
    if (unique(seen.vpc, 'vpc', vpc.id, paths.vpc(vpc.id), ctx)) index.vpcs.set(vpc.id, vpc);
    for (const s of vpc.subnets) {
      if (
        unique(seen.subnet, 'subnet', s.id, paths.child(vpc.id, 'subnets', 'subnet', s.id), ctx)
      ) {
        index.subnets.set(s.id, {
          subnet: s,
          vpc,
          cidr: s.cidr === undefined ? undefined : parseCidr(s.cidr),
        });
      }
    }
    for (const a of vpc.networkAcls)
      unique(
        seen.acl,
        'networkAcl',
        a.id,
        paths.child(vpc.id, 'networkAcls', 'networkAcl', a.id),
        ctx,
      );
    for (const r of vpc.routeTables)
      unique(
        seen.rtb,
        'routeTable',
        r.id,
        paths.child(vpc.id, 'routeTables', 'routeTable', r.id),
        ctx,
      );
    for (const n of vpc.natGateways)
      unique(
        seen.nat,
        'natGateway',
        n.id,
        paths.child(vpc.id, 'natGateways', 'natGateway', n.id),
        ctx,
      );
  }
  let previous = '';
  for (const inst of view.instances) {
    unique(seen.inst, 'instance', inst.id, paths.instance(inst.id), ctx);
    if (inst.id < previous)
      ctx.warn(
        paths.instance(inst.id),
        'unsorted',
        'instances are not sorted by id (eucanetd relies on it)',
      );
    previous = inst.id;
    for (const eni of inst.networkInterfaces)
      unique(index.enis, 'networkInterface', eni.id, paths.eni(inst.id, eni.id), ctx);
  }
  for (const sg of view.securityGroups)
    unique(index.groups, 'securityGroup', sg.id, paths.sg(sg.id), ctx);
  for (const d of view.dhcpOptionSets)
    unique(index.dopts, 'dhcpOptionSet', d.id, paths.dopt(d.id), ctx);
  for (const g of view.internetGateways)
    unique(index.topIgws, 'internetGateway', g.id, paths.igw(g.id), ctx);
  return index;
}

/** Validates references inside each VPC (subnets, NAT gateways, routes). */
export function checkVpcs(view: ViewParts, index: Index, ctx: BuildContext): void {
  const clusters = new Set(view.configuration.clusters.map((c) => c.name));
  for (const vpc of view.vpcs) {
    const vpcCidr = vpc.cidr === undefined ? undefined : parseCidr(vpc.cidr);
    if (vpc.dhcpOptionSet !== undefined && !index.dopts.has(vpc.dhcpOptionSet)) {
      ctx.warn(
        `${paths.vpc(vpc.id)}/dhcpOptionSet`,
        'missing-reference',
        `dhcpOptionSet ${vpc.dhcpOptionSet} does not exist; default DHCP options apply`,
      );
    }
    for (const igw of vpc.internetGateways) {
      if (!index.topIgws.has(igw))
        ctx.warn(
          `${paths.vpc(vpc.id)}/internetGateways`,
          'missing-reference',
          `internet gateway ${igw} has no top-level internetGateway entry`,
        );
    }
    const acls = new Set(vpc.networkAcls.map((a) => a.id));
    const tables = new Set(vpc.routeTables.map((r) => r.id));
    for (const s of vpc.subnets) {
      const path = paths.child(vpc.id, 'subnets', 'subnet', s.id);
      const key = entityKey('subnet', s.id);
      const cidr = s.cidr === undefined ? undefined : parseCidr(s.cidr);
      if (vpcCidr !== undefined && cidr !== undefined && !cidrContainsCidr(vpcCidr, cidr)) {
        ctx.bad(
          key,
          `${path}/cidr`,
          'cidr-outside-vpc',
          `subnet cidr ${s.cidr!} is not inside the VPC cidr ${vpc.cidr!}`,
        );
      }
      // A subnet without a usable route table still works (local route only): warn, as
      // eucanetd did ("route table for … not found"); mapping skips its routes.
      if (s.routeTable === undefined)
        ctx.warn(`${path}/routeTable`, 'missing-reference', 'subnet has no route table');
      else if (!tables.has(s.routeTable))
        ctx.warn(
          `${path}/routeTable`,
          'missing-reference',
          `route table ${s.routeTable} does not exist in ${vpc.id}`,
        );
      if (s.networkAcl === undefined)
        ctx.bad(key, `${path}/networkAcl`, 'missing-reference', 'subnet has no network ACL');
      else if (!acls.has(s.networkAcl))
        ctx.bad(
          key,
          `${path}/networkAcl`,
          'missing-reference',
          `network ACL ${s.networkAcl} does not exist in ${vpc.id}`,
        );
      if (s.cluster !== undefined && !clusters.has(s.cluster))
        ctx.warn(
          `${path}/cluster`,
          'unknown-cluster',
          `cluster ${quote(s.cluster)} is not configured`,
        );
    }
    const nats = new Set<string>();
    for (const nat of vpc.natGateways) {
      nats.add(nat.id);
      const path = paths.child(vpc.id, 'natGateways', 'natGateway', nat.id);
      const key = entityKey('natGateway', nat.id);
      if (nat.vpc !== undefined && nat.vpc !== vpc.id)
        ctx.bad(key, `${path}/vpc`, 'wrong-vpc', `vpc ${nat.vpc} is not the enclosing ${vpc.id}`);
      checkPlacement(key, path, nat.subnet, nat.privateIp, vpc.id, index, ctx);
    }
    for (const rt of vpc.routeTables) {
      for (const [i, r] of rt.routes.entries()) {
        const path = `${paths.child(vpc.id, 'routeTables', 'routeTable', rt.id)}/routes/route[${i}]`;
        const t = r.target;
        // A route whose target does not resolve cannot be implemented; the rest of the table
        // can (gni-format §14.1 EDGE-11): warn, and mapping skips that route.
        if (t?.type === 'internetGateway' && !vpc.internetGateways.includes(t.id)) {
          ctx.warn(
            path,
            'missing-reference',
            `internet gateway ${t.id} is not attached to ${vpc.id}`,
          );
        } else if (t?.type === 'natGateway' && !nats.has(t.id)) {
          ctx.warn(path, 'missing-reference', `NAT gateway ${t.id} does not exist in ${vpc.id}`);
        } else if (t?.type === 'networkInterface' && !index.enis.has(t.id)) {
          ctx.warn(path, 'missing-reference', `network interface ${t.id} does not exist`);
        }
      }
    }
  }
}

/** Checks that `subnetId` exists in `vpcId` and that `ip` lies inside it. */
function checkPlacement(
  key: string,
  path: string,
  subnetId: string | undefined,
  ip: string | undefined,
  vpcId: string | undefined,
  index: Index,
  ctx: BuildContext,
): void {
  if (vpcId !== undefined && !index.vpcs.has(vpcId)) {
    ctx.bad(key, `${path}/vpc`, 'missing-reference', `VPC ${vpcId} does not exist`);
    return;
  }
  if (subnetId === undefined) {
    ctx.bad(key, `${path}/subnet`, 'missing-reference', 'no subnet');
    return;
  }
  const entry = index.subnets.get(subnetId);
  if (entry === undefined) {
    ctx.bad(key, `${path}/subnet`, 'missing-reference', `subnet ${subnetId} does not exist`);
    return;
  }
  if (vpcId !== undefined && entry.vpc.id !== vpcId) {
    ctx.bad(
      key,
      `${path}/subnet`,
      'wrong-vpc',
      `subnet ${subnetId} belongs to ${entry.vpc.id}, not ${vpcId}`,
    );
  }
  const addr = ip === undefined ? undefined : parseIpv4(ip);
  if (addr !== undefined && entry.cidr !== undefined && !cidrContainsIp(entry.cidr, addr)) {
    ctx.bad(
      key,
      `${path}/privateIp`,
      'ip-outside-subnet',
      `privateIp ${ip!} is not inside subnet ${subnetId} (${entry.subnet.cidr!})`,
    );
  }
}

/** Validates instances and interfaces (VPC, subnet, groups, primary interface) and the
 * groups security group rules refer to. */
export function checkInstances(view: ViewParts, index: Index, ctx: BuildContext): void {
  for (const inst of view.instances) {
    const path = paths.instance(inst.id);
    const key = entityKey('instance', inst.id);
    if (inst.vpc === undefined)
      ctx.bad(key, `${path}/vpc`, 'missing-reference', 'instance has no vpc');
    checkPlacement(key, path, inst.subnet, inst.privateIp, inst.vpc, index, ctx);
    checkGroups(key, path, inst.securityGroups, index, ctx);
    if (inst.networkInterfaces.length === 0)
      ctx.bad(
        key,
        `${path}/networkInterfaces`,
        'no-interface',
        'instance has no network interface',
      );
    else if (!inst.networkInterfaces.some((e) => e.deviceIndex === 0)) {
      ctx.bad(
        key,
        `${path}/networkInterfaces`,
        'no-primary-interface',
        'no network interface has deviceIndex 0',
      );
    }
    for (const eni of inst.networkInterfaces) {
      const epath = paths.eni(inst.id, eni.id);
      const ekey = entityKey('networkInterface', eni.id);
      if (eni.vpc === undefined)
        ctx.bad(ekey, `${epath}/vpc`, 'missing-reference', 'network interface has no vpc');
      checkPlacement(ekey, epath, eni.subnet, eni.privateIp, eni.vpc, index, ctx);
      checkGroups(ekey, epath, eni.securityGroups, index, ctx);
    }
  }
  for (const sg of view.securityGroups) {
    for (const [dir, rules] of [
      ['ingressRules', sg.ingressRules],
      ['egressRules', sg.egressRules],
    ] as const) {
      for (const [i, r] of rules.entries()) {
        if (r.groupId !== undefined && !index.groups.has(r.groupId)) {
          ctx.warn(
            `${paths.sg(sg.id)}/${dir}/rule[${i}]/groupId`,
            'missing-reference',
            `security group ${r.groupId} does not exist; the rule matches nothing`,
          );
        }
      }
    }
  }
}

function checkGroups(
  key: string,
  path: string,
  groups: readonly string[],
  index: Index,
  ctx: BuildContext,
): void {
  for (const g of groups) {
    if (!index.groups.has(g))
      ctx.bad(
        key,
        `${path}/securityGroups`,
        'missing-reference',
        `security group ${g} does not exist`,
      );
  }
}

/** Marks `key` invalid because `cause` is, with one issue; returns true if it was new. */
function cascade(ctx: BuildContext, key: string, path: string, cause: string): boolean {
  if (ctx.invalid.has(key)) return false;
  ctx.bad(key, path, 'depends-on-invalid', `invalid because ${cause} is invalid`);
  return true;
}

/** Propagates invalidity to dependents until nothing changes (see docs/gni.md). */
function propagate(view: ViewParts, ctx: BuildContext): void {
  const inv = ctx.invalid;
  // every cascade starts from an invalid entity: a clean view (the usual case) has none, and a
  // pass over it would only build and look up keys of every entity
  if (inv.size === 0) return;
  const has = (kind: EntityKind, id: string | undefined): boolean =>
    id !== undefined && inv.has(entityKey(kind, id));
  for (let changed = true; changed;) {
    changed = false;
    for (const vpc of view.vpcs) {
      const vpcBad = has('vpc', vpc.id);
      const child = (
        kind: EntityKind,
        wrapper: string,
        item: string,
        id: string,
        cause: string | undefined,
      ): void => {
        if (
          cause !== undefined &&
          cascade(ctx, entityKey(kind, id), paths.child(vpc.id, wrapper, item, id), cause)
        )
          changed = true;
      };
      const vpcCause = vpcBad ? `vpc ${vpc.id}` : undefined;
      for (const a of vpc.networkAcls)
        child('networkAcl', 'networkAcls', 'networkAcl', a.id, vpcCause);
      for (const n of vpc.natGateways) {
        child(
          'natGateway',
          'natGateways',
          'natGateway',
          n.id,
          vpcCause ?? (has('subnet', n.subnet) ? `subnet ${n.subnet!}` : undefined),
        );
      }
      for (const r of vpc.routeTables) {
        const nat = r.routes.find(
          (x) => x.target?.type === 'natGateway' && has('natGateway', x.target.id),
        );
        child(
          'routeTable',
          'routeTables',
          'routeTable',
          r.id,
          vpcCause ?? (nat ? `NAT gateway ${nat.natGatewayId ?? ''}` : undefined),
        );
      }
      for (const s of vpc.subnets) {
        // An invalid route table holds only the subnet's routes (mapping owner
        // `<subnet>/routes`); an invalid ACL holds the subnet, whose chains jump to it.
        const cause =
          vpcCause ??
          (has('networkAcl', s.networkAcl) ? `network ACL ${s.networkAcl!}` : undefined);
        child('subnet', 'subnets', 'subnet', s.id, cause);
      }
    }
  }
  for (const inst of view.instances) {
    const ipath = paths.instance(inst.id);
    const ikey = entityKey('instance', inst.id);
    const group = (list: readonly string[]): string | undefined =>
      list.find((g) => has('securityGroup', g));
    for (const eni of inst.networkInterfaces) {
      const g = group(eni.securityGroups);
      const cause = has('subnet', eni.subnet)
        ? `subnet ${eni.subnet!}`
        : has('vpc', eni.vpc)
          ? `vpc ${eni.vpc!}`
          : g !== undefined
            ? `security group ${g}`
            : undefined;
      if (cause !== undefined)
        cascade(ctx, entityKey('networkInterface', eni.id), paths.eni(inst.id, eni.id), cause);
    }
    const primary = inst.networkInterfaces.find((e) => e.deviceIndex === 0);
    const g = group(inst.securityGroups);
    const cause =
      primary !== undefined && has('networkInterface', primary.id)
        ? `primary interface ${primary.id}`
        : has('subnet', inst.subnet)
          ? `subnet ${inst.subnet!}`
          : g !== undefined
            ? `security group ${g}`
            : undefined;
    if (cause !== undefined) cascade(ctx, ikey, ipath, cause);
    if (inv.has(ikey)) {
      for (const eni of inst.networkInterfaces)
        cascade(
          ctx,
          entityKey('networkInterface', eni.id),
          paths.eni(inst.id, eni.id),
          `instance ${inst.id}`,
        );
    }
  }
}

/** Runs every cross-entity check on a built view and cascades invalidity; returns the
 * lookups it used (a clean read's next state starts from them, see `buildCheckState`). */
export function checkReferences(view: ViewParts, ctx: BuildContext): Lookups {
  const index = buildIndex(view, ctx);
  const topo = sharedIds(view, ctx);
  placeInstances(view, ctx);
  checkVpcs(view, index, ctx);
  checkInstances(view, index, ctx);
  propagate(view, ctx);
  return { index, topo };
}
