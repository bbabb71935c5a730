/**
 * Change propagation of VPC changes (see propagate.ts): a VPC, one of its subnets, route
 * tables, routes, network ACLs, NAT gateways or attached internet gateways changed, a VPC
 * added or removed, or a DHCP option set changed. A VPC is one top-level entity (contract C1:
 * a changed VPC is a new object, an unchanged one the very object of the last view), and its
 * tree (router, subnets, ACLs, NAT gateways, route tables) one mapping unit. What reads a VPC:
 *
 * - indexing: the holds of its subnets, route tables, ACLs and NAT gateways (its own only:
 *   VPC, subnet and NAT gateway ids are unique, else this declines), and the interfaces that
 *   name its id or one of its subnets (found or not, held or not);
 * - allocation: the router ids of the VPC and its NAT gateways, the VNIs of its subnets;
 * - its tree's unit, and the interfaces of a subnet whose VPC id, VPC CIDR, subnet CIDR,
 *   held flag or DHCP host options changed (an interface's objects read those and nothing
 *   else of its subnet's); other VPC trees read no other VPC;
 * - the containers: the DHCP subnets of its subnets.
 *
 * So a changed VPC's tree is compared again (and mapped again when its signature changed),
 * the instances naming a subnet whose interface-visible part changed (or a VPC that appeared
 * or vanished) are indexed and mapped again as changed instances, numbers are freed and
 * handed out as a full pass would (lowest free; router ids in view order, VNIs in id order),
 * and the DHCP subnets of its subnets are rebuilt (or dropped with their subnet).
 */
import type { DhcpOptionSet, GlobalView, Subnet, Vpc } from '../gni/index.js';
import { TopologyBuilder, type Note } from './builder.js';
import { PLAN } from './config.js';
import { firstById, indexVpc, type SubnetEntry, type ViewIndex } from './context.js';
import { nameVpc, register, type AnyUnit, type FastState } from './propagate-state.js';
import { dhcpSettings, type SubnetCtx } from './subnet.js';
import type { Allocations, MappingConfig } from './types.js';
import {
  mapVpcTree,
  subnetSignature,
  vpcSignature,
  VPC_ORDER,
  type InstanceRecord,
  type LastPass,
  type Memo,
  type VpcUnit,
} from './units.js';
import type { VpcCtx } from './vpc.js';

/** One VPC that changed: `old` absent when added, `now` absent when removed. */
export interface VpcChange {
  readonly id: string;
  readonly old: Vpc | undefined;
  readonly now: Vpc | undefined;
  /** Its place in the view's VPCs (-1 when removed). */
  readonly pos: number;
}

/** The VPC changes of a pass. */
export interface VpcPlan {
  /** Those in the view first, in view order, then the removed ones. */
  readonly changes: readonly VpcChange[];
  /** The view's VPCs when some were added or removed (the index's list becomes this). */
  readonly order: readonly Vpc[] | undefined;
  /** DHCP option sets changed, added or removed (absent: removed), by id. */
  readonly dopts: ReadonlyMap<string, DhcpOptionSet | undefined>;
}

/** An undo record of a number handed out or freed: the map, the id, the number before. */
export type Undo = [Map<string, number>, string, number | undefined];

/** More changed VPCs than this (plus an eighth of all) is no longer a small change. */
const FEW_VPCS = 8;

/**
 * Finds the VPCs and DHCP option sets that changed, by identity (a VPC whose option set
 * changed counts as changed). A string says why it declines: duplicate ids, VPCs reordered,
 * or too many changed. Touches nothing.
 */
export function findVpcChanges(
  view: GlobalView,
  before: GlobalView,
  idx: ViewIndex,
): VpcPlan | string {
  const dopts = new Map<string, DhcpOptionSet | undefined>();
  const dn = view.dhcpOptionSets;
  const dold = before.dhcpOptionSets;
  if (dn !== dold) {
    let byId = dn.length !== dold.length;
    for (let i = 0; !byId && i < dn.length; i++) {
      const a = dn[i]!;
      const o = dold[i]!;
      if (a === o) continue;
      if (a.id !== o.id || idx.dhcpOptionSets.get(o.id) !== o) byId = true;
      else dopts.set(a.id, a);
    }
    if (byId) {
      dopts.clear();
      const m = firstById(dn);
      if (m.size !== dn.length) return 'duplicate DHCP option set ids';
      for (const [id, d] of m) if (idx.dhcpOptionSets.get(id) !== d) dopts.set(id, d);
      for (const id of idx.dhcpOptionSets.keys()) if (!m.has(id)) dopts.set(id, undefined);
    }
  }
  const vn = view.vpcs;
  const vo = before.vpcs;
  const olds = idx.lookups.vpcs;
  const changed = new Set<string>();
  let order: Vpc[] | undefined;
  if (vn !== vo) {
    let byId = vn.length !== vo.length;
    for (let i = 0; !byId && i < vn.length; i++) {
      const a = vn[i]!;
      const o = vo[i]!;
      if (a === o) continue;
      if (a.id !== o.id || olds.get(o.id) !== o) byId = true;
      else changed.add(a.id);
    }
    if (byId) {
      changed.clear();
      const m = firstById(vn);
      if (m.size !== vn.length) return 'duplicate VPC ids';
      // the VPCs both views have keep their order (a full pass maps trees in view order)
      const list = idx.vpcs;
      let k = 0;
      for (const v of vn) {
        const o = olds.get(v.id);
        if (o === undefined) {
          changed.add(v.id);
          continue;
        }
        while (k < list.length && list[k]!.id !== v.id) k++;
        if (k++ >= list.length) return 'VPCs reordered';
        if (o !== v) changed.add(v.id);
      }
      for (const id of olds.keys()) if (!m.has(id)) changed.add(id);
      order = [...vn];
    }
  }
  if (dopts.size > 0) {
    for (const v of vn) {
      if (v.dhcpOptionSet !== undefined && dopts.has(v.dhcpOptionSet)) changed.add(v.id);
    }
  }
  const changes: VpcChange[] = [];
  if (changed.size === 0) return { changes, order, dopts };
  if (changed.size > FEW_VPCS + (vn.length >> 3)) return 'many VPCs changed';
  vn.forEach((v, pos) => {
    if (changed.has(v.id)) changes.push({ id: v.id, old: olds.get(v.id), now: v, pos });
  });
  if (order !== undefined) {
    const now = new Set(vn.map((v) => v.id));
    for (const [id, o] of olds)
      if (!now.has(id)) changes.push({ id, old: o, now: undefined, pos: -1 });
  }
  return { changes, order, dopts };
}

/** Whether the notes hold `owner`. */
function heldIn(notes: readonly Note[] | undefined, owner: string): boolean {
  return notes !== undefined && notes.some((n) => Array.isArray(n) && n[0] === owner);
}

/** What an interface sees of its subnet (besides numbers, which a VPC that stays keeps). */
function subnetKey(view: GlobalView, idx: ViewIndex, vpc: Vpc, s: Subnet, held: boolean): string {
  const opts = dhcpSettings(view, idx, vpc.dhcpOptionSet).hostOpts;
  return `${vpc.id}|${vpc.cidr}|${s.cidr}|${held}|${JSON.stringify(opts)}`;
}

/** What indexing the changed VPCs gave. */
export interface VpcIndexed {
  /** The instances to index and map again (they name a subnet or VPC whose part they read
   * changed). */
  readonly records: Set<InstanceRecord>;
  /** Subnet ids whose interface-visible part changed (their interfaces are mapped again). */
  readonly remapped: Set<string>;
  /** Whether the VPCs' indexing notes changed (the notes before the instances are rebuilt). */
  readonly notesChanged: boolean;
}

/**
 * Indexes the changed VPCs again: updates the index (VPCs, subnets, DHCP option sets, the VPCs'
 * notes) and the state's subnet and router-id owners, and finds the instances that depend on
 * what changed. A string says why it declines; the index and the state may then be changed
 * already, which is safe: the caller's compare-every-unit patch indexes afresh and drops the
 * state.
 */
export function indexVpcs(
  plan: VpcPlan,
  view: GlobalView,
  idx: ViewIndex,
  fast: FastState,
  config: MappingConfig,
): VpcIndexed | string {
  if (!fast.vpcOk) return 'duplicate VPC, subnet or NAT gateway ids';
  const keys = new Map<string, string>(); // subnet id → what its interfaces saw last pass
  let notesChanged = false;
  for (const c of plan.changes) {
    if (c.old === undefined) continue;
    const notes = idx.vpcNotes.get(c.id);
    if (notes !== undefined) notesChanged = true;
    for (const s of c.old.subnets) {
      keys.set(s.id, subnetKey(view, idx, c.old, s, heldIn(notes, s.id)));
    }
  }
  const dsets = idx.dhcpOptionSets as Map<string, DhcpOptionSet>;
  for (const [id, d] of plan.dopts) {
    if (d === undefined) dsets.delete(id);
    else dsets.set(id, d);
  }
  const subnets = idx.lookups.subnets as Map<string, SubnetEntry>;
  const vpcs = idx.lookups.vpcs as Map<string, Vpc>;
  for (const c of plan.changes) {
    if (c.old === undefined) continue;
    nameVpc(fast, c.old, false);
    for (const s of c.old.subnets) if (subnets.get(s.id)?.vpc === c.old) subnets.delete(s.id);
    vpcs.delete(c.id);
    idx.vpcNotes.delete(c.id);
  }
  const remapped = new Set<string>();
  for (const c of plan.changes) {
    const now = c.now;
    if (now === undefined) continue;
    if (!nameVpc(fast, now, true)) return 'duplicate subnet or NAT gateway ids';
    const sb = new TopologyBuilder(config);
    indexVpc(now, sb, idx.invalid, subnets);
    if (sb.notes.length > 0) {
      idx.vpcNotes.set(c.id, sb.notes);
      notesChanged = true;
    }
    vpcs.set(c.id, now);
    for (const s of now.subnets) {
      if (keys.get(s.id) !== subnetKey(view, idx, now, s, sb.held.has(s.id))) remapped.add(s.id);
      keys.delete(s.id);
    }
  }
  for (const id of keys.keys()) remapped.add(id); // subnets gone
  const records = new Set<InstanceRecord>();
  for (const id of remapped) for (const r of fast.subnetRecs.get(id) ?? []) records.add(r);
  for (const c of plan.changes) {
    if (c.old !== undefined && c.now !== undefined) continue;
    for (const r of fast.vpcRecs.get(c.id) ?? []) records.add(r);
  }
  const list = idx.vpcs as Vpc[];
  if (plan.order !== undefined) list.splice(0, list.length, ...plan.order);
  else for (const c of plan.changes) list[c.pos] = c.now!;
  return { records, remapped, notesChanged };
}

/** The notes before the instances with the VPCs' part rebuilt from their notes, and where the
 * security groups' holds now are in them. */
export function vpcPreNotes(
  idx: ViewIndex,
  preNotes: readonly Note[],
  sgNotes: readonly [number, number],
): [Note[], [number, number]] {
  const head: Note[] = [];
  for (const v of idx.vpcs) {
    const n = idx.vpcNotes.get(v.id);
    if (n !== undefined) head.push(...n);
  }
  const [from, to] = sgNotes;
  return [
    [...head, ...preNotes.slice(from)],
    [head.length, head.length + to - from],
  ];
}

function routerOwners(vpc: Vpc): string[] {
  return [vpc.id, ...vpc.natGateways.map((n) => n.id)];
}

/**
 * Frees the numbers of router-id owners and subnets gone with the changed VPCs and hands out
 * numbers to new ones not held, as a full pass would. False when a pool is exhausted (the
 * caller maps in full); `undo` records every change to the allocations.
 */
export function allocateVpcs(
  plan: VpcPlan,
  alloc: Allocations,
  held: ReadonlySet<string>,
  fast: FastState,
  config: MappingConfig,
  undo: Undo[],
): boolean {
  const rt = alloc.routerIds as Map<string, number>;
  const vni = alloc.vnis as Map<string, number>;
  const keepR = new Set<string>();
  const keepS = new Set<string>();
  for (const c of plan.changes) {
    if (c.now === undefined) continue;
    for (const id of routerOwners(c.now)) keepR.add(id);
    for (const s of c.now.subnets) keepS.add(s.id);
  }
  const free = (map: Map<string, number>, used: Set<number>, id: string): number | undefined => {
    const n = map.get(id);
    if (n === undefined) return undefined;
    undo.push([map, id, n]);
    map.delete(id);
    used.delete(n);
    return n;
  };
  for (const c of plan.changes) {
    if (c.old === undefined) continue;
    for (const id of routerOwners(c.old)) {
      if (keepR.has(id)) continue;
      const n = free(rt, fast.rtUsed, id);
      if (n !== undefined && n < fast.rtCursor) fast.rtCursor = n;
    }
    for (const s of c.old.subnets) {
      if (keepS.has(s.id)) continue;
      const n = free(vni, fast.vniUsed, s.id);
      if (n !== undefined && n < fast.vniCursor) fast.vniCursor = n;
    }
  }
  const maxRt = Math.min(config.maxRtid, 32751);
  const reserved = (n: number): boolean => n >= PLAN.rtidSkipFrom && n <= PLAN.rtidSkipTo;
  for (const c of plan.changes) {
    if (c.now === undefined) continue;
    for (const id of routerOwners(c.now)) {
      if (rt.has(id) || held.has(id)) continue;
      let n = fast.rtCursor;
      while (n < maxRt && (fast.rtUsed.has(n) || reserved(n))) n++;
      if (n >= maxRt) return false;
      fast.rtCursor = n + 1;
      fast.rtUsed.add(n);
      undo.push([rt, id, undefined]);
      rt.set(id, n);
    }
  }
  const wanted: string[] = [];
  for (const c of plan.changes) {
    for (const s of c.now?.subnets ?? []) if (!vni.has(s.id) && !held.has(s.id)) wanted.push(s.id);
  }
  wanted.sort();
  for (const id of wanted) {
    let n = fast.vniCursor;
    while (n <= PLAN.maxVni && fast.vniUsed.has(n)) n++;
    if (n > PLAN.maxVni) return false;
    fast.vniCursor = n + 1;
    fast.vniUsed.add(n);
    undo.push([vni, id, undefined]);
    vni.set(id, n);
  }
  return true;
}

/** The ENIs a VPC's routes target. */
function eniTargetsOf(vpc: Vpc): string[] {
  const out: string[] = [];
  for (const t of vpc.routeTables) {
    for (const r of t.routes) if (r.target?.type === 'networkInterface') out.push(r.target.id);
  }
  return out;
}

/** Enters (or takes out) a VPC's route targets in `fast.eniTargets`. */
function targetEnis(fast: FastState, vpc: Vpc, add: boolean): void {
  for (const id of eniTargetsOf(vpc)) {
    const list = fast.eniTargets.get(id);
    if (add) {
      if (list === undefined) fast.eniTargets.set(id, [vpc.id]);
      else if (!list.includes(vpc.id)) list.push(vpc.id);
    } else if (list !== undefined) {
      const rest = list.filter((v) => v !== vpc.id);
      if (rest.length > 0) fast.eniTargets.set(id, rest);
      else fast.eniTargets.delete(id);
    }
  }
}

/** What mapping the VPC trees needs from the pass. */
export interface VpcPass {
  readonly b: TopologyBuilder;
  readonly view: GlobalView;
  readonly idx: ViewIndex;
  readonly allocations: Allocations;
  readonly last: LastPass;
  readonly memo: Memo;
  readonly fast: FastState;
  readonly pass: number;
  /** Subnets whose DHCP subnet is rebuilt (added to). */
  readonly dirtySubnets: Set<string>;
  readonly subnetSigs: Map<SubnetCtx, string>;
  readonly dropUnit: (u: AnyUnit) => void;
}

/** Drops the DHCP subnets (and subnet records) of an old tree's subnets the new tree does not
 * map under the same bridge. */
function dropSubnets(p: VpcPass, old: VpcCtx | undefined, now: VpcCtx | undefined): void {
  const { b, last, memo } = p;
  for (const [id, s] of old?.subnets ?? []) {
    if (now?.subnets.get(id)?.bridgeName === s.bridgeName) continue;
    if (last.subnets.get(id)?.bridgeName === s.bridgeName) {
      last.subnets.delete(id);
      memo.subnetSigs.delete(id);
    }
    b.dropBase(memo.base, b.id(`dhcp:${s.bridgeName}`));
  }
}

/**
 * The VPC trees: removed ones dropped, changed and new ones and those that route to a changed
 * interface compared again (and mapped again when their signature changed), the others' notes
 * replayed, in a full pass's order. Says why when it cannot be exact (the caller maps in full):
 * a subnet its interfaces see changed that was not in `remapped`.
 */
export function mapVpcs(
  p: VpcPass,
  plan: VpcPlan | undefined,
  remapped: ReadonlySet<string>,
  changedEnis: ReadonlySet<string>,
): string | undefined {
  const { b, view, idx, allocations, last, memo, fast } = p;
  const dirty = new Set<string>();
  const pos = new Map<string, number>();
  for (const c of plan?.changes ?? []) {
    if (c.old !== undefined) targetEnis(fast, c.old, false);
    if (c.now !== undefined) {
      targetEnis(fast, c.now, true);
      dirty.add(c.id);
      pos.set(c.id, c.pos);
      continue;
    }
    const u = memo.vpcs.get(c.id);
    if (u === undefined) continue;
    p.dropUnit(u);
    memo.vpcs.delete(c.id);
    dropSubnets(p, u.ctx, undefined);
  }
  if (plan?.order !== undefined) {
    idx.vpcs.forEach((v, i) => {
      const u = memo.vpcs.get(v.id);
      if (u !== undefined) u.ord = VPC_ORDER + i;
    });
  }
  for (const id of changedEnis) for (const v of fast.eniTargets.get(id) ?? []) dirty.add(v);
  for (const u of fast.notedUnits) if (u.ord! >= VPC_ORDER) pos.set(u.id, u.ord! - VPC_ORDER);
  for (const id of dirty) {
    if (pos.has(id)) continue;
    const u = memo.vpcs.get(id);
    if (u === undefined) return `no unit of ${id}`;
    pos.set(id, u.ord! - VPC_ORDER);
  }
  const work = [...pos].sort((x, y) => x[1] - y[1]);
  for (const [id, i] of work) {
    const u = memo.vpcs.get(id);
    if (!dirty.has(id)) {
      b.replayNotes(u!.log);
      continue;
    }
    const vpc = idx.vpcs[i]!;
    const sig = vpcSignature(b, view, idx, allocations, vpc);
    if (u !== undefined && sig === u.sig) {
      b.replayNotes(u.log);
      continue;
    }
    if (u !== undefined) p.dropUnit(u);
    b.begin();
    const ctx = mapVpcTree(b, view, idx, last.core!, last.md, allocations, vpc, last.subnets);
    const unit: VpcUnit = { id, sig, log: b.end(), ctx, seen: p.pass, ord: VPC_ORDER + i };
    memo.vpcs.set(id, unit);
    register(fast, unit);
    dropSubnets(p, u?.ctx, ctx);
    for (const s of ctx?.subnets.values() ?? []) {
      const sid = s.subnet.id;
      const was = memo.subnetSigs.get(sid);
      const now = subnetSignature(s, p.subnetSigs, memo.subnetSigs);
      // a subnet whose interfaces were not mapped again must look the same to them (`was` is
      // last set when an interface in it was mapped: only compared when there are some)
      const seen = was !== undefined && fast.subnetRecs.has(sid);
      if (seen && now !== was && !remapped.has(sid)) return `subnet ${sid} changed`;
      p.dirtySubnets.add(sid);
    }
  }
  return undefined;
}
