/**
 * `mapTopology`: GlobalView + Allocations + config → desired topology, issues, allocations and
 * held owners. Order: index and held owners, allocations, hosts, core, metadata core, security
 * groups, then per VPC its router, subnets, network ACLs, NAT gateways and route tables, then
 * the interfaces, and last the containers that collect members (DHCP hosts, SG groups).
 *
 * Patch mode: given the previous result, the pass edits that result's maps in place instead
 * of building new ones. Each security group, VPC tree and interface is a unit recorded with
 * everything it reads (a signature string; a flat list for interfaces); a unit whose inputs are
 * unchanged keeps its objects (only its issues and holds are recorded again), a changed unit's
 * objects are removed and mapped again, a vanished unit's removed. Objects rebuilt every pass
 * (hosts, core, DHCP subnets and address groups) replace last pass's only when they differ.
 * The result lists what changed (`delta`), and equals a full recompute object for object (map
 * order aside: changed objects come last). See docs/mapping.md.
 */
import type { GlobalView, SecurityGroup } from '../gni/index.js';
import type { DhcpHost } from '../store/index.js';
import { allocate } from './allocation.js';
import { sameList, TopologyBuilder, type UnitLog } from './builder.js';
import { holdVpcTree, indexView, type InterfaceEntry, type ViewIndex } from './context.js';
import { mapCore, type CoreRefs } from './core.js';
import { mapHosts } from './host.js';
import { mapInterfaceMetadata, mapMetadataCore, type MdRefs } from './metadata.js';
import { mapNatGateway } from './nat-gateway.js';
import { mapNetworkAcls } from './network-acl.js';
import { mapNetworkInterface } from './network-interface.js';
import { mapRouteTable } from './route-table.js';
import { finishSecurityGroups, mapSecurityGroups, type SgMembers } from './security-group.js';
import { dhcpSettings, finishSubnet, mapSubnet, type SubnetCtx } from './subnet.js';
import type { Allocations, DesiredTopology, MappingConfig, MappingResult } from './types.js';
import { mapVpc, type VpcCtx } from './vpc.js';

/**
 * Maps the view to the desired topology. Pure and deterministic: the same inputs give the
 * same objects in the same order. Never throws on bad input: bad entities are skipped (and
 * held) with issues while the rest maps.
 *
 * With `previous` (the result of an earlier call, typically the previous cycle's), the
 * security groups, VPC trees and interfaces whose inputs did not change reuse that result's
 * objects; the result is identical to a full recompute (only faster). Objects of a result are
 * shared with later results and must not be mutated.
 */
export function mapTopology(
  view: GlobalView,
  allocations: Allocations,
  config: MappingConfig,
  previous?: MappingResult,
): MappingResult {
  const memo = previous === undefined ? undefined : MEMOS.get(previous);
  if (previous !== undefined && memo !== undefined) {
    // the record and the maps move to the new result: one patch per result
    MEMOS.delete(previous);
    const patched = mapPass(view, allocations, config, undefined, { memo, maps: previous.desired });
    if (patched !== undefined) return patched;
  }
  return mapPass(view, allocations, config, undefined, undefined)!;
}

/** `mapTopology` that also returns every derived id with its key (for golden files and
 * debugging; slower). */
export function mapTopologyWithKeys(
  view: GlobalView,
  allocations: Allocations,
  config: MappingConfig,
): { readonly result: MappingResult; readonly keys: ReadonlyMap<string, string> } {
  const keys = new Map<string, string>();
  return { result: mapPass(view, allocations, config, keys, undefined)!, keys };
}

/** A recorded unit with the signature of the inputs it was mapped from. */
interface Unit {
  readonly sig: string;
  readonly log: UnitLog;
  /** The last pass that saw the unit's entity. */
  seen: number;
}

interface VpcUnit extends Unit {
  readonly ctx: VpcCtx | undefined;
}

interface InterfaceUnit {
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
}

/** What a pass recorded for the next one (which patches its maps and updates it in place). */
interface Memo {
  /** Signature of what every unit reads (config, whether core and metadata are mapped). */
  readonly global: string;
  readonly sgs: Map<string, Unit>;
  readonly vpcs: Map<string, VpcUnit>;
  readonly interfaces: Map<string, InterfaceUnit>;
  /** Subnet id → the subnet part of its interfaces' inputs last pass (reused when equal, so
   * interfaces compare it by identity). */
  readonly subnetSigs: Map<string, string>;
  /** The objects rebuilt every pass (kind index, object, …). */
  base: readonly unknown[];
  /** Pass counter (for `Unit.seen`). */
  pass: number;
}

/** Each result's record, for `mapTopology(…, previous)`; weak, so it goes with the result. */
const MEMOS = new WeakMap<MappingResult, Memo>();

/** Removes the units whose entity is not in `live` any more. */
function sweep(
  b: TopologyBuilder,
  units: Map<string, { readonly log: UnitLog; seen: number }>,
  live: Iterable<string>,
  pass: number,
): void {
  for (const id of live) {
    const u = units.get(id);
    if (u !== undefined) u.seen = pass;
  }
  for (const [id, u] of units) {
    if (u.seen === pass) continue;
    b.remove(u.log);
    units.delete(id);
  }
}

/**
 * One pass: a full one (`patch` undefined), or a patch of the previous result's maps, which
 * returns `undefined` when it cannot be exact (the settings changed, an id is put twice, or a
 * unit appended a rule to a base chain): the caller then maps in full.
 */
function mapPass(
  view: GlobalView,
  previous: Allocations,
  config: MappingConfig,
  keys: Map<string, string> | undefined,
  patch: { readonly memo: Memo; readonly maps: DesiredTopology } | undefined,
): MappingResult | undefined {
  const b = new TopologyBuilder(config, keys, patch === undefined ? undefined : { ...patch.maps });
  const idx = indexView(view, b);
  const allocations = allocate(idx, previous, config, b);
  b.base = true;
  mapHosts(view, b);
  const core = b.held.has('core') ? undefined : mapCore(view, b);
  const md = config.enableMidoMd ? mapMetadataCore(view, b) : undefined;
  b.base = false;
  const global = `${JSON.stringify(config)}|${core !== undefined}|${md !== undefined}`;
  if (patch !== undefined && patch.memo.global !== global) return undefined;
  const memo: Memo = patch?.memo ?? {
    global,
    sgs: new Map(),
    vpcs: new Map(),
    interfaces: new Map(),
    subnetSigs: new Map(),
    base: [],
    pass: 0,
  };
  const pass = ++memo.pass;
  if (patch !== undefined) {
    const liveSgs = [...idx.securityGroups.keys()].filter((id) => !b.held.has(id));
    sweep(b, memo.sgs, liveSgs, pass);
    sweep(b, memo.vpcs, core === undefined ? [] : idx.vpcs.map((v) => v.id), pass);
    const liveIfaces: string[] = [];
    for (const e of idx.interfaces) if (!e.held) liveIfaces.push(e.iface.id);
    sweep(b, memo.interfaces, liveIfaces, pass);
  }

  const sgs = mapSecurityGroups(b, idx.securityGroups, (sg, map) => {
    const sig = sgSignature(sg, idx.securityGroups);
    const prev = memo.sgs.get(sg.id);
    if (prev !== undefined && prev.sig === sig) {
      b.replayNotes(prev.log);
      return;
    }
    if (prev !== undefined) b.remove(prev.log);
    b.begin();
    map();
    memo.sgs.set(sg.id, { sig, log: b.end(), seen: pass });
  });
  const subnets = new Map<string, SubnetCtx>();
  if (core !== undefined) {
    for (const vpc of idx.vpcs) {
      const sig = vpcSignature(b, view, idx, allocations, vpc);
      const prev = memo.vpcs.get(vpc.id);
      if (prev !== undefined && prev.sig === sig) {
        b.replayNotes(prev.log);
        if (prev.ctx !== undefined) reuseVpcCtx(prev.ctx, subnets);
        continue;
      }
      if (prev !== undefined) b.remove(prev.log);
      b.begin();
      const ctx = mapVpcTree(b, view, idx, core, md, allocations, vpc, subnets);
      memo.vpcs.set(vpc.id, { sig, log: b.end(), ctx, seen: pass });
    }
  } else {
    for (const vpc of idx.vpcs) holdVpcTree(b, vpc, 'core held');
  }
  const subnetSigs = new Map<SubnetCtx, string>();
  for (const e of idx.interfaces) {
    if (e.held) continue;
    const s = e.subnetId === undefined ? undefined : subnets.get(e.subnetId);
    const sub = s === undefined ? 'none' : subnetSignature(s, subnetSigs, memo.subnetSigs);
    const inputs = interfaceInputs(e, sub, idx, sgs, allocations);
    const id = e.iface.id;
    let unit = memo.interfaces.get(id);
    if (unit !== undefined && sameList(unit.inputs, inputs)) {
      b.replayNotes(unit.log);
    } else {
      if (unit !== undefined) b.remove(unit.log);
      b.begin();
      const mapped = mapInterface(b, idx, core, md, allocations, s, e);
      unit = { inputs, log: b.end(), mapped, seen: pass };
      memo.interfaces.set(id, unit);
    }
    const m = unit.mapped;
    if (m === undefined || s === undefined) continue;
    if (m.host !== undefined) s.hosts.push(m.host);
    for (const sg of m.sgs) {
      const members = sgs.get(sg);
      if (members === undefined) continue;
      members.priv.add(m.privateIp);
      members.all.add(m.privateIp);
      if (m.publicIp !== undefined) {
        members.pub.add(m.publicIp);
        members.all.add(m.publicIp);
      }
    }
  }
  for (const id of memo.subnetSigs.keys()) if (!subnets.has(id)) memo.subnetSigs.delete(id);
  b.base = true;
  for (const s of subnets.values()) finishSubnet(b, s);
  finishSecurityGroups(b, sgs);
  b.base = false;
  if (patch !== undefined) {
    b.settleBase(memo.base);
    b.rebuildChains(unitsInOrder(memo, idx, sgs));
    if (b.duplicates > 0 || b.crossBase) return undefined;
  }
  memo.base = b.baseObjects;
  const result: MappingResult = {
    desired: b.topology(),
    issues: b.issues,
    allocations,
    held: b.held,
    heldReasons: b.heldReasons,
    ...(patch !== undefined ? { delta: b.delta() } : {}),
  };
  if (b.duplicates === 0 && !b.crossBase) MEMOS.set(result, memo);
  return result;
}

/** The live units' records in the order a full pass maps them. */
function unitsInOrder(memo: Memo, idx: ViewIndex, sgs: ReadonlyMap<string, SgMembers>): UnitLog[] {
  const out: UnitLog[] = [];
  for (const id of sgs.keys()) {
    const u = memo.sgs.get(id);
    if (u !== undefined) out.push(u.log);
  }
  for (const vpc of idx.vpcs) {
    const u = memo.vpcs.get(vpc.id);
    if (u !== undefined) out.push(u.log);
  }
  for (const e of idx.interfaces) {
    if (e.held) continue;
    const u = memo.interfaces.get(e.iface.id);
    if (u !== undefined) out.push(u.log);
  }
  return out;
}

/** Everything a security group's chains depend on. */
function sgSignature(sg: SecurityGroup, groups: ReadonlyMap<string, SecurityGroup>): string {
  let sig = JSON.stringify(sg.ingressRules) + JSON.stringify(sg.egressRules);
  for (const rules of [sg.ingressRules, sg.egressRules]) {
    for (const r of rules) if (r.groupId !== undefined) sig += groups.has(r.groupId) ? '+' : '-';
  }
  return sig;
}

/** Everything a VPC tree depends on beyond the global settings: the VPC itself, its DHCP
 * settings, numbers, held owners, and the interfaces its route tables route to. */
function vpcSignature(
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
function subnetSignature(
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
function interfaceInputs(
  e: InterfaceEntry,
  sub: string,
  idx: ViewIndex,
  sgs: ReadonlyMap<string, SgMembers>,
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
function reuseVpcCtx(old: VpcCtx, subnets: Map<string, SubnetCtx>): void {
  const v: VpcCtx = { ...old, subnets: new Map() };
  for (const [id, s] of old.subnets) {
    const ns: SubnetCtx = { ...s, vpc: v, hosts: [] };
    v.subnets.set(id, ns);
    subnets.set(id, ns);
  }
}

function mapVpcTree(
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
function mapInterface(
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
