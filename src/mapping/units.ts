/**
 * The units of patch-mode mapping (see map-topology.ts): what each security group, VPC tree
 * and interface was mapped from (signatures, input lists) and the functions that map one unit.
 * Shared by the compare-every-unit patch (map-topology.ts) and change propagation
 * (propagate.ts).
 */
import type { GlobalView, Instance, SecurityGroup } from '../gni/index.js';
import type { DhcpHost } from '../store/index.js';
import type { BaseEntry, Note, TopologyBuilder, UnitLog } from './builder.js';
import { holdVpcTree, type InterfaceEntry, type ViewIndex } from './context.js';
import type { CoreRefs } from './core.js';
import { mapInterfaceMetadata, type MdRefs } from './metadata.js';
import { mapNatGateway } from './nat-gateway.js';
import { mapNetworkAcls } from './network-acl.js';
import { mapNetworkInterface } from './network-interface.js';
import { mapRouteTable } from './route-table.js';
import type { SgMembers } from './security-group.js';
import { dhcpSettings, mapSubnet, type SubnetCtx } from './subnet.js';
import type { Allocations } from './types.js';
import { mapVpc, type VpcCtx } from './vpc.js';
import type { FastState } from './propagate-state.js';

/** A recorded unit with the signature of the inputs it was mapped from. */
export interface Unit {
  /** The security group's or VPC's id. */
  readonly id: string;
  readonly sig: string;
  readonly log: UnitLog;
  /** The last pass that saw the unit's entity. */
  seen: number;
  /** Change propagation: the unit's place in the order a full pass maps units (security
   * groups from 0, VPC trees from `VPC_ORDER`), set when the propagation state is built. */
  ord?: number;
}

/** Where VPC trees start in the unit order (security groups come first). */
export const VPC_ORDER = 1e9;

export interface VpcUnit extends Unit {
  readonly ctx: VpcCtx | undefined;
}

export interface InterfaceUnit {
  /** Everything the interface's objects depend on (see `interfaceInputs`). */
  readonly inputs: readonly unknown[];
  readonly log: UnitLog;
  seen: number;
  /** What the interface added to DHCP hosts and SG members (absent when it mapped nothing). */
  readonly mapped:
    | {
        readonly privateIp: string;
        readonly publicIp: string | undefined;
        readonly host: DhcpHost | undefined;
        readonly sgs: readonly string[];
      }
    | undefined;
  /** The subnet it is in (whose DHCP subnet lists its host). */
  readonly subnetId: string | undefined;
  /** Change propagation: its instance's record and its place among the instance's
   * interfaces (set when the propagation state is built or the unit mapped). */
  rec?: InstanceRecord;
  ifx?: number;
}

/** Change propagation: one instance of the last view, as indexed and mapped. */
export interface InstanceRecord {
  readonly inst: Instance;
  readonly entries: readonly InterfaceEntry[];
  /** The issues and holds indexing it recorded. */
  readonly notes: readonly Note[] | undefined;
  /** Per entry, its unit (none for a held interface). */
  readonly units: (InterfaceUnit | undefined)[];
  /** Its place among the view's instances: increasing with the position (not the position:
   * an instance inserted between two gets a number between theirs). */
  pos: number;
}

/** Compares units by the order a full pass maps them: security groups, VPC trees, then the
 * interfaces in view order. */
export function compareUnits(x: Unit | InterfaceUnit, y: Unit | InterfaceUnit): number {
  const rx = 'rec' in x ? x.rec : undefined;
  const ry = 'rec' in y ? y.rec : undefined;
  if (rx === undefined || ry === undefined) {
    if (rx !== undefined) return 1;
    if (ry !== undefined) return -1;
    return ((x as Unit).ord ?? 0) - ((y as Unit).ord ?? 0);
  }
  return rx.pos - ry.pos || (x as InterfaceUnit).ifx! - (y as InterfaceUnit).ifx!;
}

/** What the last pass saw and built, for change propagation. */
export interface LastPass {
  readonly view: GlobalView;
  /** Its index; a propagated pass updates `eniById` and `securityGroups` (not `interfaces`). */
  readonly idx: ViewIndex;
  readonly allocations: Allocations;
  readonly core: CoreRefs | undefined;
  readonly md: MdRefs | undefined;
  /** Mapped subnets by id (their `hosts` are stale after a propagated pass). */
  readonly subnets: Map<string, SubnetCtx>;
  /** Security groups with address groups (not held) by id. */
  readonly liveSgs: ReadonlyMap<string, unknown>;
  /** The issues and holds of indexing before the instances, of allocating, and of the base. */
  readonly preNotes: readonly Note[];
  /** Where the security groups' holds are in `preNotes` ([from, to)). */
  readonly sgNotes: readonly [number, number];
  readonly allocNotes: readonly Note[];
  readonly baseNotes: readonly Note[];
}

/** What a pass recorded for the next one (which patches its maps and updates it in place). */
export interface Memo {
  /** Signature of what every unit reads (config, whether core and metadata are mapped). */
  readonly global: string;
  readonly sgs: Map<string, Unit>;
  readonly vpcs: Map<string, VpcUnit>;
  readonly interfaces: Map<string, InterfaceUnit>;
  /** Subnet id → the subnet part of its interfaces' inputs last pass (reused when equal, so
   * interfaces compare it by identity). */
  readonly subnetSigs: Map<string, string>;
  /** The objects rebuilt every pass, by id. */
  base: Map<string, BaseEntry>;
  /** Pass counter (for `Unit.seen`). */
  pass: number;
  /** What change propagation starts from (see propagate.ts). */
  last: LastPass | undefined;
  /** Change propagation's indexes, built on first use after a pass that compared every unit
   * (`undefined`), or `null` when the last view is one propagation does not handle. */
  fast: FastState | undefined | null;
}

/** Everything a security group's chains depend on. */
export function sgSignature(sg: SecurityGroup, groups: ReadonlyMap<string, SecurityGroup>): string {
  let sig = JSON.stringify(sg.ingressRules) + JSON.stringify(sg.egressRules);
  for (const rules of [sg.ingressRules, sg.egressRules]) {
    for (const r of rules) if (r.groupId !== undefined) sig += groups.has(r.groupId) ? '+' : '-';
  }
  return sig;
}

/** Everything a VPC tree depends on beyond the global settings: the VPC itself, its DHCP
 * settings, numbers, held owners, and the interfaces its route tables route to. */
export function vpcSignature(
  b: TopologyBuilder,
  view: GlobalView,
  idx: ViewIndex,
  alloc: Allocations,
  vpc: ViewIndex['vpcs'][number],
): string {
  const h = (owner: string): string => (b.held.has(owner) ? '1' : '0');
  let sig = `${JSON.stringify(vpc)}|${JSON.stringify(dhcpSettings(view, idx, vpc.dhcpOptionSet))}|${alloc.routerIds.get(vpc.id)}|${h(vpc.id)}`;
  for (const s of vpc.subnets) {
    const first = idx.subnets.get(s.id)?.subnet === s;
    sig += `|${s.id}:${alloc.vnis.get(s.id)}:${h(s.id)}${h(`${s.id}/routes`)}${first ? 1 : 0}`;
  }
  for (const acl of vpc.networkAcls) sig += h(`${vpc.id}/${acl.id}`);
  for (const nat of vpc.natGateways) sig += `|${alloc.routerIds.get(nat.id)}:${h(nat.id)}`;
  for (const t of vpc.routeTables) {
    for (const r of t.routes) {
      const target = r.target;
      if (target?.type === 'internetGateway') {
        sig += idx.invalid('internetGateway', target.id) ? '|i1' : '|i0';
      } else if (target?.type === 'networkInterface') {
        const e = idx.eniById.get(target.id);
        sig += e === undefined ? '|e' : `|e${e.vpcId}:${e.subnetId}:${e.privateIp}`;
      }
    }
  }
  return sig;
}

/** The subnet part of an interface's inputs: the subnet and VPC fields the interface's
 * objects use. Computed once per subnet and pass; last pass's string when equal. */
export function subnetSignature(
  s: SubnetCtx,
  cache: Map<SubnetCtx, string>,
  last: Map<string, string>,
): string {
  let sig = cache.get(s);
  if (sig !== undefined) return sig;
  const v = s.vpc;
  sig = `${v.vpc.id}:${v.rtid}:${v.cidr?.addr}/${v.cidr?.len}:${v.md !== undefined}:${s.subnet.id}:${s.cidr.addr}/${s.cidr.len}:${JSON.stringify(s.dhcp.hostOpts)}`;
  const before = last.get(s.subnet.id);
  if (before === sig) sig = before;
  else last.set(s.subnet.id, sig);
  cache.set(s, sig);
  return sig;
}

/**
 * Everything an interface's objects depend on beyond the global settings, as a flat list
 * compared element by element (cheaper than building and comparing one string).
 */
export function interfaceInputs(
  e: InterfaceEntry,
  sub: string,
  idx: ViewIndex,
  sgs: ReadonlyMap<string, unknown>,
  alloc: Allocations,
): unknown[] {
  const { iface, instance } = e;
  const inputs: unknown[] = [
    e.key,
    iface.id,
    iface.deviceIndex,
    iface.macAddress,
    iface.publicIp,
    iface.sourceDestCheck,
    e.privateIp,
    instance.id,
    instance.node,
    instance.publicIp,
    instance.macAddress,
    alloc.eniIds.get(iface.id),
    sub,
  ];
  for (const sg of e.securityGroups) {
    inputs.push(sg, idx.securityGroups.has(sg), sgs.has(sg));
  }
  return inputs;
}

/** The context of a VPC tree mapped in an earlier pass: the recorded one with empty DHCP host
 * lists; its subnets are registered in `subnets` as `mapVpcTree` does. */
export function reuseVpcCtx(old: VpcCtx, subnets: Map<string, SubnetCtx>): void {
  const v: VpcCtx = { ...old, subnets: new Map() };
  for (const [id, s] of old.subnets) {
    const ns: SubnetCtx = { ...s, vpc: v, hosts: [] };
    v.subnets.set(id, ns);
    subnets.set(id, ns);
  }
}

export function mapVpcTree(
  b: TopologyBuilder,
  view: GlobalView,
  idx: ViewIndex,
  core: CoreRefs,
  md: MdRefs | undefined,
  alloc: Allocations,
  vpc: ViewIndex['vpcs'][number],
  subnets: Map<string, SubnetCtx>,
): VpcCtx | undefined {
  const rtid = alloc.routerIds.get(vpc.id);
  if (b.held.has(vpc.id) || rtid === undefined) {
    holdVpcTree(b, vpc, b.held.has(vpc.id) ? 'held' : 'no router id left');
    return undefined;
  }
  const v: VpcCtx = mapVpc(b, core, md, vpc, rtid);
  const dhcp = dhcpSettings(view, idx, vpc.dhcpOptionSet);
  for (const subnet of vpc.subnets) {
    const entry = idx.subnets.get(subnet.id);
    const vni = alloc.vnis.get(subnet.id);
    if (entry?.subnet !== subnet || b.held.has(subnet.id) || entry.cidr === undefined) continue;
    if (vni === undefined) continue;
    const s = mapSubnet(b, v, subnet, entry.cidr, vni, dhcp);
    v.subnets.set(subnet.id, s);
    subnets.set(subnet.id, s);
  }
  mapNetworkAcls(b, vpc);
  for (const nat of vpc.natGateways) {
    const s = nat.subnet === undefined ? undefined : v.subnets.get(nat.subnet);
    const natRtid = alloc.routerIds.get(nat.id);
    if (b.held.has(nat.id) || natRtid === undefined) continue;
    if (s === undefined) {
      b.hold(nat.id, `natGateway/${nat.id}`, `subnet ${nat.subnet ?? '(none)'} not mapped`);
      continue;
    }
    mapNatGateway(b, core, nat, s, natRtid);
  }
  for (const s of v.subnets.values()) mapRouteTable(b, idx, s);
  return v;
}

/** Maps one non-held interface; returns what it adds to DHCP hosts and SG members. */
export function mapInterface(
  b: TopologyBuilder,
  idx: ViewIndex,
  core: CoreRefs | undefined,
  md: MdRefs | undefined,
  alloc: Allocations,
  s: SubnetCtx | undefined,
  e: InterfaceEntry,
): InterfaceUnit['mapped'] {
  const path = `networkInterface/${e.iface.id}`;
  if (s === undefined || core === undefined) {
    b.hold(e.key, path, `subnet ${e.subnetId ?? '(none)'} not mapped`);
    return undefined;
  }
  const eniid = alloc.eniIds.get(e.iface.id);
  if (md !== undefined && eniid === undefined) return undefined; // held by allocate()
  const known: string[] = [];
  for (const sg of e.securityGroups) {
    if (idx.securityGroups.has(sg)) known.push(sg);
    else b.warn('mapping.sg-reference-missing', path, `${sg} referenced but not found`);
  }
  const m = mapNetworkInterface(b, e, s, known, core);
  if (md !== undefined && s.vpc.md !== undefined) {
    mapInterfaceMetadata(b, md, s.vpc.md, e.key, e.iface.id, eniid!, m.privateIp);
  }
  return { privateIp: m.privateIp, publicIp: m.publicIp, host: m.host, sgs: known };
}
