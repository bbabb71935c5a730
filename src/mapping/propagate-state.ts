/**
 * Change propagation's state (see propagate.ts): the indexes it keeps between passes, built
 * from a pass that compared every unit and kept up to date by each propagated pass, and the
 * identity and content comparisons that decide whether a view can be propagated.
 */
import type { GlobalView, Instance, Vpc } from '../gni/index.js';
import { PLAN } from './config.js';
import type { InterfaceEntry } from './context.js';
import type { SgMembers } from './security-group.js';
import {
  compareUnits,
  VPC_ORDER,
  type InstanceRecord,
  type InterfaceUnit,
  type Memo,
  type Unit,
} from './units.js';

/** A unit of any kind. */
export type AnyUnit = Unit | InterfaceUnit;

/** The indexes change propagation keeps between passes. */
export interface FastState {
  /** Per instance of the last view (same positions). */
  recs: InstanceRecord[];
  /** The records and units with issues or holds to replay (usually none). */
  readonly notedRecs: Set<InstanceRecord>;
  readonly notedUnits: Set<Unit>;
  readonly byInstance: Map<Instance, InstanceRecord>;
  readonly byId: Map<string, InstanceRecord>;
  /** Chain id → the units that append rules to it. */
  readonly chainUnits: Map<string, Set<AnyUnit>>;
  /** Subnet id → the interfaces with a DHCP host in it. */
  readonly dhcpUnits: Map<string, Set<InterfaceUnit>>;
  /** Security group id → the interfaces that are its members. */
  readonly sgUnits: Map<string, Set<InterfaceUnit>>;
  /** Security group id → the instances with an interface that names it (found or not). */
  readonly sgRecs: Map<string, Set<InstanceRecord>>;
  /** Subnet id / VPC id → the instances with an interface that names it (found or not). */
  readonly subnetRecs: Map<string, Set<InstanceRecord>>;
  readonly vpcRecs: Map<string, Set<InstanceRecord>>;
  /** ENI id → the VPCs with a route to it. */
  readonly eniTargets: Map<string, string[]>;
  /** Metadata ids in use, and a number no free one is below. */
  readonly eniUsed: Set<number>;
  eniCursor: number;
  /** Whether VPC changes can be propagated: VPC, subnet and NAT gateway ids are unique across
   * the view (and NAT gateway ids are no VPC's), so a VPC's indexing reads no other VPC. */
  vpcOk: boolean;
  /** Subnet id → its VPC's id; router id owner (VPC or NAT gateway id) → its VPC's id. */
  readonly subnetVpc: Map<string, string>;
  readonly routerVpc: Map<string, string>;
  /** Router ids and VNIs in use, each with a number no free one is below. */
  readonly rtUsed: Set<number>;
  rtCursor: number;
  readonly vniUsed: Set<number>;
  vniCursor: number;
}

/** More changed instances than this (plus an eighth of all) is no longer a small change: the
 * caller's compare-every-unit patch is cheaper. */
export const FEW = 64;

/** Adds `v` to the set at `key`. */
export function addTo<K, V>(map: Map<K, Set<V>>, key: K, v: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(v);
}

/** Takes `v` from the set at `key` (dropping an empty set). */
export function takeFrom<K, V>(map: Map<K, Set<V>>, key: K, v: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(v);
  if (set.size === 0) map.delete(key);
}

/** Enters a unit in the indexes (chains it appends to, DHCP subnet, groups, notes). */
export function register(f: FastState, u: AnyUnit): void {
  for (const t of u.log.targets) addTo(f.chainUnits, t, u);
  if (!('inputs' in u)) {
    if (u.log.notes.length > 0) f.notedUnits.add(u);
    return;
  }
  if (u.log.notes.length > 0) f.notedRecs.add(u.rec!);
  const m = u.mapped;
  if (m === undefined) return;
  if (m.host !== undefined && u.subnetId !== undefined) addTo(f.dhcpUnits, u.subnetId, u);
  for (const sg of m.sgs) addTo(f.sgUnits, sg, u);
}

/** Takes a unit out of the indexes. */
export function unregister(f: FastState, u: AnyUnit): void {
  for (const t of u.log.targets) takeFrom(f.chainUnits, t, u);
  if (!('inputs' in u)) {
    f.notedUnits.delete(u);
    return;
  }
  const m = u.mapped;
  if (m === undefined) return;
  if (m.host !== undefined && u.subnetId !== undefined) takeFrom(f.dhcpUnits, u.subnetId, u);
  for (const sg of m.sgs) takeFrom(f.sgUnits, sg, u);
}

/** Records (or forgets) which security groups, subnets and VPCs the record's interfaces
 * name. */
export function nameGroups(f: FastState, rec: InstanceRecord, add: boolean): void {
  const put = add ? addTo : takeFrom;
  for (const e of rec.entries) {
    for (const sg of e.securityGroups) put(f.sgRecs, sg, rec);
    if (e.subnetId !== undefined) put(f.subnetRecs, e.subnetId, rec);
    if (e.vpcId !== undefined) put(f.vpcRecs, e.vpcId, rec);
  }
}

/** Enters (or takes out) a VPC's subnets and router-id owners in `subnetVpc` and
 * `routerVpc`; false when entering meets an id another VPC (or this one) has. */
export function nameVpc(f: FastState, vpc: Vpc, add: boolean): boolean {
  const ids: [Map<string, string>, string][] = [[f.routerVpc, vpc.id]];
  for (const s of vpc.subnets) ids.push([f.subnetVpc, s.id]);
  for (const n of vpc.natGateways) ids.push([f.routerVpc, n.id]);
  let ok = true;
  for (const [map, id] of ids) {
    if (!add) {
      if (map.get(id) === vpc.id) map.delete(id);
    } else if (map.has(id)) ok = false;
    else map.set(id, vpc.id);
  }
  return ok;
}

/** Builds the indexes from a pass that compared (or mapped) every unit; `null` when the view
 * has duplicate instance or interface ids (first-occurrence rules make changes non-local). */
export function buildFast(memo: Memo): FastState | null {
  const last = memo.last!;
  const { view, idx } = last;
  if (idx.perInstance.duplicates > 0) return null;
  const f: FastState = {
    recs: [],
    notedRecs: new Set(),
    notedUnits: new Set(),
    byInstance: new Map(),
    byId: new Map(),
    chainUnits: new Map(),
    dhcpUnits: new Map(),
    sgUnits: new Map(),
    sgRecs: new Map(),
    eniTargets: new Map(),
    eniUsed: new Set(last.allocations.eniIds.values()),
    eniCursor: PLAN.firstEniid,
    subnetRecs: new Map(),
    vpcRecs: new Map(),
    vpcOk: true,
    subnetVpc: new Map(),
    routerVpc: new Map(),
    rtUsed: new Set(last.allocations.routerIds.values()),
    rtCursor: PLAN.firstRtid,
    vniUsed: new Set(last.allocations.vnis.values()),
    vniCursor: 1,
  };
  if (idx.vpcs.length !== view.vpcs.length) f.vpcOk = false;
  for (const vpc of idx.vpcs) if (!nameVpc(f, vpc, true)) f.vpcOk = false;
  let n = 0;
  for (const id of idx.securityGroups.keys()) {
    const u = memo.sgs.get(id);
    if (u === undefined) continue;
    u.ord = n++;
    register(f, u);
  }
  idx.vpcs.forEach((vpc, i) => {
    const u = memo.vpcs.get(vpc.id);
    if (u !== undefined) {
      u.ord = VPC_ORDER + i;
      register(f, u);
    }
    for (const t of vpc.routeTables) {
      for (const r of t.routes) {
        if (r.target?.type !== 'networkInterface') continue;
        const list = f.eniTargets.get(r.target.id);
        if (list === undefined) f.eniTargets.set(r.target.id, [vpc.id]);
        else if (!list.includes(vpc.id)) list.push(vpc.id);
      }
    }
  });
  const ifs = idx.interfaces;
  let k = 0;
  view.instances.forEach((inst, i) => {
    const entries: InterfaceEntry[] = [];
    while (k < ifs.length && ifs[k]!.instance === inst) entries.push(ifs[k++]!);
    const rec: InstanceRecord = {
      inst,
      entries,
      notes: idx.perInstance.notes.get(i),
      units: [],
      pos: i,
    };
    entries.forEach((e, x) => {
      const u = e.held ? undefined : memo.interfaces.get(e.iface.id);
      rec.units.push(u);
      if (u === undefined) return;
      u.rec = rec;
      u.ifx = x;
      register(f, u);
    });
    if (rec.notes !== undefined) f.notedRecs.add(rec);
    nameGroups(f, rec, true);
    f.recs.push(rec);
    f.byInstance.set(inst, rec);
    f.byId.set(inst.id, rec);
  });
  return f;
}

/** Element-by-element identity of two lists. */
export function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Equal sets of strings. */
export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Plain-data equality (JSON-like values). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  for (const k of kx) if (!Object.hasOwn(y, k) || !sameValue(x[k], y[k])) return false;
  return true;
}

/** Whether two configurations map alike: equal apart from the nodes' instance lists (which
 * change with every instance added or removed and which mapping does not read). */
export function sameConfiguration(
  a: GlobalView['configuration'],
  b: GlobalView['configuration'],
): boolean {
  if (a === b) return true;
  const { clusters: ca, ...ra } = a;
  const { clusters: cb, ...rb } = b;
  if (!sameValue(ra, rb) || ca.length !== cb.length) return false;
  for (let i = 0; i < ca.length; i++) {
    const { nodes: na, ...xa } = ca[i]!;
    const { nodes: nb, ...xb } = cb[i]!;
    if (!sameValue(xa, xb) || na.length !== nb.length) return false;
    for (let j = 0; j < na.length; j++) if (na[j]!.name !== nb[j]!.name) return false;
  }
  return true;
}

/**
 * Gives the new records (at `added`, increasing) a place number between their neighbours'
 * (the others keep theirs); renumbers all when doubles run out of room between two.
 */
export function placeNew(recs: InstanceRecord[], added: readonly number[]): void {
  for (let a = 0; a < added.length; a++) {
    const i = added[a]!;
    let n = i + 1;
    for (let b = a + 1; b < added.length && added[b] === n; b++) n++;
    const lo = i > 0 ? recs[i - 1]!.pos : undefined;
    const hi = n < recs.length ? recs[n]!.pos : undefined;
    const pos =
      lo === undefined
        ? hi === undefined
          ? 0
          : hi - 1
        : hi === undefined
          ? lo + 1
          : (lo + hi) / 2;
    if ((lo !== undefined && pos <= lo) || (hi !== undefined && pos >= hi)) {
      recs.forEach((r, k) => (r.pos = k));
      return;
    }
    recs[i]!.pos = pos;
  }
}

/** Units in the order a full pass maps them. */
export function inOrder<U extends AnyUnit>(units: ReadonlySet<U> | undefined): U[] {
  if (units === undefined) return [];
  const list = [...units];
  if (list.length > 1) list.sort(compareUnits);
  return list;
}

/** A security group's member addresses from its interfaces' units, in full-pass order. */
export function membersOf(units: readonly InterfaceUnit[]): SgMembers {
  const m: SgMembers = { priv: new Set(), pub: new Set(), all: new Set() };
  for (const u of units) {
    const { privateIp, publicIp } = u.mapped!;
    m.priv.add(privateIp);
    m.all.add(privateIp);
    if (publicIp !== undefined) {
      m.pub.add(publicIp);
      m.all.add(publicIp);
    }
  }
  return m;
}
