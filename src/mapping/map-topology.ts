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
import type { GlobalView } from '../gni/index.js';
import { allocate } from './allocation.js';
import { sameList, TopologyBuilder, type BaseEntry, type UnitLog } from './builder.js';
import { holdVpcTree, indexView, type ViewIndex } from './context.js';
import { mapCore } from './core.js';
import { mapHosts } from './host.js';
import { mapMetadataCore } from './metadata.js';
import { propagate } from './propagate.js';
import { buildFast } from './propagate-state.js';
import { finishSecurityGroups, mapSecurityGroups, type SgMembers } from './security-group.js';
import { finishSubnet, type SubnetCtx } from './subnet.js';
import type { Allocations, DesiredTopology, MappingConfig, MappingResult } from './types.js';
import {
  interfaceInputs,
  mapInterface,
  mapVpcTree,
  reuseVpcCtx,
  sgSignature,
  subnetSignature,
  vpcSignature,
  type Memo,
} from './units.js';

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
    // change propagation first; it declines (before touching anything) what it cannot do
    const propagated = propagate(view, allocations, config, memo, previous.desired);
    if (propagated !== undefined) {
      if (propagated === 'full') return mapPass(view, allocations, config, undefined, undefined)!;
      MEMOS.set(propagated, memo);
      PROPAGATED.add(propagated);
      return propagated;
    }
    const patched = mapPass(view, allocations, config, undefined, { memo, maps: previous.desired });
    if (patched !== undefined) return patched;
  }
  return mapPass(view, allocations, config, undefined, undefined)!;
}

/**
 * Builds now what the next `mapTopology(…, result)` would build first: change propagation's
 * indexes, made on first use after a pass that mapped or compared every unit (a cold build).
 * The daemon calls it after a bulk build is committed, so that the first change costs what it
 * changes. Nothing to do when they exist already or `result` cannot be patched.
 */
export function prepareNextPatch(result: MappingResult): void {
  const memo = MEMOS.get(result);
  if (memo?.last !== undefined && memo.fast === undefined) memo.fast = buildFast(memo);
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

/** Each result's record, for `mapTopology(…, previous)`; weak, so it goes with the result. */
const MEMOS = new WeakMap<MappingResult, Memo>();
/** The results of passes done by change propagation (propagate.ts). */
const PROPAGATED = new WeakSet<MappingResult>();

/** Whether `result` came from change propagation (for tests and benchmarks). */
export function wasPropagated(result: MappingResult): boolean {
  return PROPAGATED.has(result);
}

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
  const allocStart = b.notes.length;
  const allocations = allocate(idx, previous, config, b);
  const baseStart = b.notes.length;
  b.base = true;
  mapHosts(view, b);
  const core = b.held.has('core') ? undefined : mapCore(view, b);
  const md = config.enableMidoMd ? mapMetadataCore(view, b) : undefined;
  b.base = false;
  const baseEnd = b.notes.length;
  const global = `${JSON.stringify(config)}|${core !== undefined}|${md !== undefined}`;
  if (patch !== undefined && patch.memo.global !== global) return undefined;
  const memo: Memo = patch?.memo ?? {
    global,
    sgs: new Map(),
    vpcs: new Map(),
    interfaces: new Map(),
    subnetSigs: new Map(),
    base: new Map(),
    pass: 0,
    last: undefined,
    fast: undefined,
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
    memo.sgs.set(sg.id, { id: sg.id, sig, log: b.end(), seen: pass });
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
      memo.vpcs.set(vpc.id, { id: vpc.id, sig, log: b.end(), ctx, seen: pass });
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
      unit = { inputs, log: b.end(), mapped, seen: pass, subnetId: e.subnetId };
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
    memo.base = b.settleBase(memo.base);
    b.rebuildChains(unitsInOrder(memo, idx, sgs));
    if (b.duplicates > 0 || b.crossBase) return undefined;
  } else {
    const base = new Map<string, BaseEntry>();
    const o = b.baseObjects;
    for (let i = 0; i < o.length; i += 2) {
      const obj = o[i + 1] as { readonly id: string };
      base.set(obj.id, [o[i] as number, obj]);
    }
    memo.base = base;
  }
  memo.last = {
    view,
    idx,
    allocations,
    core,
    md,
    subnets,
    liveSgs: sgs,
    preNotes: b.notes.slice(0, idx.notesBeforeInstances),
    sgNotes: [idx.notesBeforeSgs, idx.notesAfterSgs],
    allocNotes: b.notes.slice(allocStart, baseStart),
    baseNotes: b.notes.slice(baseStart, baseEnd),
  };
  memo.fast = undefined;
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
