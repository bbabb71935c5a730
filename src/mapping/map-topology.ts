/**
 * `mapTopology`: GlobalView + Allocations + config → desired topology, issues, allocations and
 * held owners. Order: index and held owners, allocations, hosts, core, metadata core, security
 * groups, then per VPC its router, subnets, network ACLs, NAT gateways and route tables, then
 * the interfaces, and last the containers that collect members (DHCP hosts, SG groups).
 */
import type { GlobalView } from '../gni/index.js';
import { allocate } from './allocation.js';
import { TopologyBuilder } from './builder.js';
import { indexView, type InterfaceEntry, type ViewIndex } from './context.js';
import { mapCore, type CoreRefs } from './core.js';
import { mapHosts } from './host.js';
import { mapInterfaceMetadata, mapMetadataCore, type MdRefs } from './metadata.js';
import { mapNatGateway } from './nat-gateway.js';
import { mapNetworkAcls } from './network-acl.js';
import { mapNetworkInterface } from './network-interface.js';
import { mapRouteTable } from './route-table.js';
import { finishSecurityGroups, mapSecurityGroups, type SgMembers } from './security-group.js';
import { dhcpSettings, finishSubnet, mapSubnet, type SubnetCtx } from './subnet.js';
import type { Allocations, MappingConfig, MappingResult } from './types.js';
import { mapVpc, type VpcCtx } from './vpc.js';

/**
 * Maps the view to the desired topology. Pure and deterministic: the same inputs give the
 * same objects in the same order. Never throws on bad input: bad entities are skipped (and
 * held) with issues while the rest maps.
 */
export function mapTopology(
  view: GlobalView,
  allocations: Allocations,
  config: MappingConfig,
): MappingResult {
  return run(view, allocations, config, undefined);
}

/** `mapTopology` that also returns every derived id with its key (for golden files and
 * debugging; slower). */
export function mapTopologyWithKeys(
  view: GlobalView,
  allocations: Allocations,
  config: MappingConfig,
): { readonly result: MappingResult; readonly keys: ReadonlyMap<string, string> } {
  const keys = new Map<string, string>();
  return { result: run(view, allocations, config, keys), keys };
}

function run(
  view: GlobalView,
  previous: Allocations,
  config: MappingConfig,
  keys: Map<string, string> | undefined,
): MappingResult {
  const b = new TopologyBuilder(config, keys);
  const idx = indexView(view, b);
  const allocations = allocate(idx, previous, config, b);
  mapHosts(view, b);
  const core = b.held.has('core') ? undefined : mapCore(view, b);
  const md = config.enableMidoMd ? mapMetadataCore(view, b) : undefined;
  const sgs = mapSecurityGroups(b, idx.securityGroups);
  const subnets = new Map<string, SubnetCtx>();
  if (core !== undefined) {
    for (const vpc of idx.vpcs) mapVpcTree(b, view, idx, core, md, allocations, vpc, subnets);
  } else {
    for (const vpc of idx.vpcs) b.hold(vpc.id, `vpc/${vpc.id}`, 'core held');
  }
  for (const e of idx.interfaces) {
    if (!e.held) mapInterface(b, idx, core, md, allocations, sgs, subnets, e);
  }
  for (const s of subnets.values()) finishSubnet(b, s);
  finishSecurityGroups(b, sgs);
  return { desired: b.topology(), issues: b.issues, allocations, held: b.held };
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
): void {
  const rtid = alloc.routerIds.get(vpc.id);
  if (b.held.has(vpc.id) || rtid === undefined) {
    for (const s of vpc.subnets) b.hold(s.id, `subnet/${s.id}`, `its VPC ${vpc.id} is held`);
    return;
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
}

function mapInterface(
  b: TopologyBuilder,
  idx: ViewIndex,
  core: CoreRefs | undefined,
  md: MdRefs | undefined,
  alloc: Allocations,
  sgs: ReadonlyMap<string, SgMembers>,
  subnets: ReadonlyMap<string, SubnetCtx>,
  e: InterfaceEntry,
): void {
  const s = e.subnetId === undefined ? undefined : subnets.get(e.subnetId);
  const path = `networkInterface/${e.iface.id}`;
  if (s === undefined || core === undefined) {
    b.hold(e.key, path, `subnet ${e.subnetId ?? '(none)'} not mapped`);
    return;
  }
  const eniid = alloc.eniIds.get(e.iface.id);
  if (md !== undefined && eniid === undefined) return; // held by allocate()
  const known: string[] = [];
  for (const sg of e.securityGroups) {
    if (idx.securityGroups.has(sg)) known.push(sg);
    else b.warn('mapping.sg-reference-missing', path, `${sg} referenced but not found`);
  }
  const m = mapNetworkInterface(b, e, s, known, core);
  if (md !== undefined && s.vpc.md !== undefined) {
    mapInterfaceMetadata(b, md, s.vpc.md, e.key, e.iface.id, eniid!, m.privateIp);
  }
  for (const sg of known) {
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
