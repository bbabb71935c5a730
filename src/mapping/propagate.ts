/**
 * Change propagation: a patch pass whose work is proportional to the change. The views a
 * reader returns share every unchanged entity object with the previous view (contract C1,
 * docs/mapping.md), so what changed is found by identity: a walk over the instances that
 * compares pointers, and the same for security groups, VPCs and DHCP option sets. Only the
 * changed instances are indexed and mapped again, with what depends on them: the route tables
 * that route to their interfaces, the DHCP subnets their hosts are in, the address groups of
 * their security groups, and the rule lists of the chains their units append to. The indexes
 * these need (instances by object and id, units by chain, DHCP hosts by subnet, members by
 * security group, route targets, the metadata-id pool) are kept up to date from pass to pass.
 *
 * What it handles: instances added, removed or changed (addresses, groups, interfaces,
 * placement), security groups changed, added or removed, and VPCs changed, added or removed
 * (routes, NAT gateways, subnets, route-table associations, ACL entries, internet gateways,
 * DHCP option sets: propagate-vpc.ts), with the invalid set, the settings and the
 * configuration (node instance lists aside) unchanged. Anything else, or a view that shares
 * nothing with the last one, is declined before the maps are touched, and the caller compares
 * every unit instead (map-topology.ts). The result equals a full recompute object for object.
 */
import type { GlobalView, SecurityGroup } from '../gni/index.js';
import type { DhcpHost } from '../store/index.js';
import { TopologyBuilder, type Note } from './builder.js';
import { firstById, holdInvalidGroups, indexInstance, type InterfaceEntry } from './context.js';
import { finishSecurityGroups, mapSecurityGroup } from './security-group.js';
import { finishSubnet, type SubnetCtx } from './subnet.js';
import type { Allocations, DesiredTopology, MappingConfig, MappingResult } from './types.js';
import {
  interfaceInputs,
  mapInterface,
  sgSignature,
  subnetSignature,
  compareUnits,
  VPC_ORDER,
  type InstanceRecord,
  type InterfaceUnit,
  type Memo,
  type Unit,
} from './units.js';
import {
  buildFast,
  FEW,
  inOrder,
  membersOf,
  nameGroups,
  placeNew,
  register,
  sameConfiguration,
  sameSet,
  unregister,
  type AnyUnit,
} from './propagate-state.js';
import {
  allocateVpcs,
  findVpcChanges,
  indexVpcs,
  mapVpcs,
  vpcPreNotes,
  type Undo,
  type VpcIndexed,
  type VpcPass,
} from './propagate-vpc.js';

/** Why the last call declined (for tests and benchmarks that explain a fallback). */
let declined = '';

/** Why the last `propagate` call declined or gave up, '' when it did not. */
export function lastDeclined(): string {
  return declined;
}

function decline(why: string): undefined {
  declined = why;
  return undefined;
}

/**
 * A patch pass by change propagation. Returns `undefined` when it does not apply (nothing was
 * touched: the caller patches by comparing every unit), `'full'` when it touched the maps and
 * then found it could not be exact (the caller maps in full), else the result.
 */
export function propagate(
  view: GlobalView,
  allocations: Allocations,
  config: MappingConfig,
  memo: Memo,
  maps: DesiredTopology,
): MappingResult | 'full' | undefined {
  declined = '';
  const last = memo.last;
  if (last === undefined || last.core === undefined || allocations !== last.allocations) {
    return decline('no last pass, core held, or other allocations');
  }
  const before = last.view;
  const idx = last.idx;
  if (last.allocNotes.length > 0) return decline('allocation issues last pass');
  if (memo.global !== `${JSON.stringify(config)}|true|${last.md !== undefined}`)
    return decline('settings changed');
  const vplan = findVpcChanges(view, before, idx);
  if (typeof vplan === 'string') return decline(vplan);
  if (!sameSet(view.invalid, before.invalid)) return decline('invalid set changed');
  if (!sameConfiguration(view.configuration, before.configuration))
    return decline('configuration changed');
  // security groups: the same ids in the same places, changed ones new objects; else (groups
  // added or removed) compared by id, with the groups and interfaces that name those
  const sgNew = view.securityGroups;
  const sgOld = before.securityGroups;
  let changedSgs: SecurityGroup[] = [];
  let newGroups: Map<string, SecurityGroup> | undefined;
  for (let i = 0; i < sgNew.length && sgNew.length === sgOld.length; i++) {
    const a = sgNew[i]!;
    const o = sgOld[i]!;
    if (a === o) continue;
    if (a.id !== o.id || idx.securityGroups.get(o.id) !== o) {
      newGroups = firstById(sgNew);
      break;
    }
    changedSgs.push(a);
  }
  if (sgNew.length !== sgOld.length) newGroups = firstById(sgNew);
  const setChanged = new Set<string>(); // ids that appeared or vanished
  if (newGroups !== undefined) {
    changedSgs = [];
    for (const [id, g] of newGroups) {
      const o = idx.securityGroups.get(id);
      if (o === undefined) setChanged.add(id);
      else if (o !== g) changedSgs.push(g);
    }
    for (const id of idx.securityGroups.keys()) if (!newGroups.has(id)) setChanged.add(id);
    for (const g of newGroups.values()) {
      const refs = [...g.ingressRules, ...g.egressRules];
      if (refs.some((r) => r.groupId !== undefined && setChanged.has(r.groupId))) {
        if (!changedSgs.includes(g)) changedSgs.push(g);
      }
    }
  }
  const fast = memo.fast === undefined ? (memo.fast = buildFast(memo)) : memo.fast;
  if (fast === null) return decline('duplicate instance or interface ids');

  // the instances: a walk comparing pointers with the last view's
  const olds = before.instances;
  const news = view.instances;
  const recs = fast.recs;
  const newRecs: (InstanceRecord | undefined)[] = new Array(news.length);
  const added: number[] = [];
  const removed: InstanceRecord[] = [];
  const limit = FEW + (news.length >> 3);
  let j = 0;
  for (let i = 0; i < news.length; i++) {
    const inst = news[i]!;
    if (j < olds.length && inst === olds[j]) {
      newRecs[i] = recs[j++];
      continue;
    }
    if (fast.byInstance.has(inst)) {
      const k = olds.indexOf(inst, j);
      if (k < 0) return decline('instances reordered'); // or one object twice
      while (j < k) removed.push(recs[j++]!);
      newRecs[i] = recs[j++];
      continue;
    }
    added.push(i);
    if (added.length > limit) return decline('many instances changed');
  }
  while (j < olds.length) removed.push(recs[j++]!);
  if (removed.length > limit) return decline('many instances removed');
  // instances naming a group that appeared or vanished, or a VPC or subnet whose part they
  // read changed, are indexed and mapped again
  const naming = new Set<InstanceRecord>();
  for (const id of setChanged) for (const rec of fast.sgRecs.get(id) ?? []) naming.add(rec);
  let preNotes = last.preNotes;
  let sgNoteRange = last.sgNotes;
  let vpcs: VpcIndexed | undefined;
  if (vplan.changes.length > 0 || vplan.dopts.size > 0) {
    const got = indexVpcs(vplan, view, idx, fast, config);
    if (typeof got === 'string') return decline(got);
    vpcs = got;
    for (const rec of got.records) naming.add(rec);
    if (got.notesChanged) [preNotes, sgNoteRange] = vpcPreNotes(idx, preNotes, sgNoteRange);
  }
  if (naming.size > limit) return decline('many instances depend on a changed group or VPC');
  if (naming.size > 0) {
    for (let i = 0; i < newRecs.length; i++) {
      const rec = newRecs[i];
      if (rec === undefined || !naming.has(rec)) continue;
      removed.push(rec);
      added.push(i);
    }
    added.sort((x, y) => x - y);
  }

  const b = new TopologyBuilder(config, undefined, { ...maps });
  if (newGroups !== undefined) {
    const sgNotes: Note[] = [];
    b.capture = sgNotes;
    holdInvalidGroups(newGroups, b, idx.lookups.invalid);
    b.capture = undefined;
    const [from, to] = sgNoteRange;
    preNotes = [...preNotes.slice(0, from), ...sgNotes, ...preNotes.slice(to)];
    sgNoteRange = [from, from + sgNotes.length];
  }
  b.replay(preNotes);
  // index the new and changed instances (their notes are replayed in their place below)
  const gone = new Set(removed);
  const ids = new Set<string>();
  const enis = new Set<string>();
  const fresh: InstanceRecord[] = [];
  for (const i of added) {
    const inst = news[i]!;
    const other = fast.byId.get(inst.id);
    if ((other !== undefined && !gone.has(other)) || ids.has(inst.id))
      return decline('duplicate instance id');
    ids.add(inst.id);
    const entries: InterfaceEntry[] = [];
    const notes: Note[] = [];
    b.capture = notes;
    const unique = indexInstance(inst, b, idx.lookups, new Map(), entries);
    b.capture = undefined;
    if (!unique) return decline('duplicate interface id');
    for (const e of entries) {
      const id = e.iface.id;
      const was = idx.eniById.get(id);
      if (was !== undefined && !gone.has(fast.byInstance.get(was.instance)!))
        return decline('interface id in another instance');
      if (enis.has(id)) return decline('interface id twice');
      enis.add(id);
    }
    const rec: InstanceRecord = {
      inst,
      entries,
      notes: notes.length > 0 ? notes : undefined,
      units: [],
      pos: 0, // below
    };
    newRecs[i] = rec;
    fresh.push(rec);
  }

  // from here on the maps change: a failure means a full pass
  const pass = ++memo.pass;
  const dirtySubnets = new Set<string>();
  const dirtySgs = new Set<string>();
  const changedEnis = new Set<string>();
  const dropUnit = (u: AnyUnit): void => {
    b.remove(u.log);
    unregister(fast, u);
    if (!('inputs' in u) || u.mapped === undefined) return;
    if (u.subnetId !== undefined) dirtySubnets.add(u.subnetId);
    for (const sg of u.mapped.sgs) dirtySgs.add(sg);
  };
  for (const rec of removed) {
    for (const u of rec.units) if (u !== undefined) dropUnit(u);
    for (const e of rec.entries) {
      const id = e.iface.id;
      changedEnis.add(id);
      if (idx.eniById.get(id) === e) (idx.eniById as Map<string, InterfaceEntry>).delete(id);
      const u = memo.interfaces.get(id);
      if (u !== undefined && u.rec === rec) memo.interfaces.delete(id);
    }
    if (fast.byInstance.get(rec.inst) === rec) fast.byInstance.delete(rec.inst);
    if (fast.byId.get(rec.inst.id) === rec) fast.byId.delete(rec.inst.id);
    fast.notedRecs.delete(rec);
    nameGroups(fast, rec, false);
  }
  for (const rec of fresh) {
    for (const e of rec.entries) {
      changedEnis.add(e.iface.id);
      (idx.eniById as Map<string, InterfaceEntry>).set(e.iface.id, e);
    }
    fast.byInstance.set(rec.inst, rec);
    fast.byId.set(rec.inst.id, rec);
    nameGroups(fast, rec, true);
  }
  placeNew(newRecs as InstanceRecord[], added);

  // metadata ids: numbers of interfaces gone are freed, new interfaces get the lowest free
  const undo: Undo[] = [];
  const eniIds = allocations.eniIds as Map<string, number>;
  if (config.enableMidoMd) {
    for (const rec of removed) {
      for (const e of rec.entries) {
        const id = e.iface.id;
        const n = eniIds.get(id);
        if (n === undefined || enis.has(id)) continue;
        undo.push([eniIds, id, n]);
        eniIds.delete(id);
        fast.eniUsed.delete(n);
        if (n < fast.eniCursor) fast.eniCursor = n;
      }
    }
    const wanted: string[] = [];
    for (const rec of fresh) {
      for (const e of rec.entries) if (!e.held && !eniIds.has(e.iface.id)) wanted.push(e.iface.id);
    }
    wanted.sort();
    const max = Math.min(config.maxEniid, 16777216);
    for (const id of wanted) {
      while (fast.eniCursor < max && fast.eniUsed.has(fast.eniCursor)) fast.eniCursor++;
      if (fast.eniCursor >= max) return fail(memo, undo, 'no metadata id left');
      const n = fast.eniCursor++;
      undo.push([eniIds, id, undefined]);
      eniIds.set(id, n);
      fast.eniUsed.add(n);
    }
  }

  if (vplan.changes.length > 0 && !allocateVpcs(vplan, allocations, b.held, fast, config, undo))
    return fail(memo, undo, 'no router id or VNI left');

  // issues and holds, in a full pass's order: indexing, allocating, the base, then units
  const noted = [...fast.notedRecs];
  for (const rec of fresh) if (rec.notes !== undefined) noted.push(rec);
  noted.sort((x, y) => x.pos - y.pos);
  for (const rec of noted) if (rec.notes !== undefined) b.replay(rec.notes);
  b.replay(last.baseNotes);
  const changedSgIds = new Set(changedSgs.map((g) => g.id));
  let groups = idx.securityGroups as Map<string, SecurityGroup>;
  let liveSgs = last.liveSgs;
  const remapSg = (sg: SecurityGroup, u: Unit | undefined, ord: number): void => {
    const sig = sgSignature(sg, groups);
    if (u !== undefined && sig === u.sig) {
      b.replayNotes(u.log);
      u.ord = ord;
      return;
    }
    if (u !== undefined) dropUnit(u);
    b.begin();
    mapSecurityGroup(b, sg, groups);
    const unit: Unit = { id: sg.id, sig, log: b.end(), seen: pass, ord };
    memo.sgs.set(sg.id, unit);
    register(fast, unit);
  };
  if (newGroups === undefined) {
    for (const sg of changedSgs) groups.set(sg.id, sg);
    // the changed groups and the units with notes to replay, in order
    const sgWork: Unit[] = [];
    for (const u of fast.notedUnits) if (u.ord! < VPC_ORDER) sgWork.push(u);
    for (const sg of changedSgs) {
      if (b.held.has(sg.id)) continue;
      const u = memo.sgs.get(sg.id);
      if (u === undefined) return fail(memo, undo, `no unit of ${sg.id}`);
      if (!fast.notedUnits.has(u)) sgWork.push(u);
    }
    sgWork.sort(compareUnits);
    for (const u of sgWork) {
      if (changedSgIds.has(u.id)) remapSg(groups.get(u.id)!, u, u.ord!);
      else b.replayNotes(u.log);
    }
  } else {
    // groups added or removed: every group in order (their number, not the cloud's)
    groups = newGroups;
    (idx as { securityGroups: ReadonlyMap<string, SecurityGroup> }).securityGroups = groups;
    const live = new Map<string, true>();
    for (const id of groups.keys()) if (!b.held.has(id)) live.set(id, true);
    for (const [id, u] of memo.sgs) {
      if (live.has(id)) continue;
      dropUnit(u);
      memo.sgs.delete(id);
    }
    for (const id of liveSgs.keys()) {
      if (live.has(id)) continue;
      for (const kind of ['priv', 'pub', 'all']) {
        b.dropBase(memo.base, b.id(`ip-addr-group:sg_${kind}_${id}`));
      }
    }
    let n = 0;
    for (const id of live.keys()) {
      const u = memo.sgs.get(id);
      if (u === undefined || changedSgIds.has(id)) remapSg(groups.get(id)!, u, n++);
      else {
        b.replayNotes(u.log);
        u.ord = n++;
      }
      if (!liveSgs.has(id)) dirtySgs.add(id);
    }
    liveSgs = live;
  }

  // VPC trees: changed ones and those that route to a changed interface are compared again
  const subnetSigs = new Map<SubnetCtx, string>();
  const vp: VpcPass = {
    b,
    view,
    idx,
    allocations,
    last,
    memo,
    fast,
    pass,
    dirtySubnets,
    subnetSigs,
    dropUnit,
  };
  const vpcFailed = mapVpcs(vp, vplan, vpcs?.remapped ?? new Set(), changedEnis);
  if (vpcFailed !== undefined) return fail(memo, undo, vpcFailed);

  // interfaces: the new and changed instances' are mapped, the others' notes replayed
  const isFresh = new Set(fresh);
  const ifWork = [...fast.notedRecs, ...fresh].sort((x, y) => x.pos - y.pos);
  for (const rec of ifWork) {
    if (!isFresh.has(rec)) {
      for (const u of rec.units) if (u !== undefined) b.replayNotes(u.log);
      continue;
    }
    rec.entries.forEach((e, x) => {
      if (e.held) {
        rec.units.push(undefined);
        return;
      }
      const s = e.subnetId === undefined ? undefined : last.subnets.get(e.subnetId);
      const sub = s === undefined ? 'none' : subnetSignature(s, subnetSigs, memo.subnetSigs);
      const inputs = interfaceInputs(e, sub, idx, liveSgs, allocations);
      b.begin();
      const mapped = mapInterface(b, idx, last.core, last.md, allocations, s, e);
      const unit: InterfaceUnit = {
        inputs,
        log: b.end(),
        mapped,
        seen: pass,
        subnetId: e.subnetId,
        rec,
        ifx: x,
      };
      rec.units.push(unit);
      memo.interfaces.set(e.iface.id, unit);
      register(fast, unit);
      if (unit.log.notes.length > 0 || rec.notes !== undefined) fast.notedRecs.add(rec);
      if (mapped === undefined) return;
      if (e.subnetId !== undefined) dirtySubnets.add(e.subnetId);
      for (const sg of mapped.sgs) dirtySgs.add(sg);
    });
  }

  // the containers whose members changed
  b.base = true;
  for (const id of dirtySubnets) {
    const s = last.subnets.get(id);
    if (s === undefined) continue;
    const hosts: DhcpHost[] = [];
    for (const u of inOrder(fast.dhcpUnits.get(id))) hosts.push(u.mapped!.host!);
    finishSubnet(b, { ...s, hosts });
  }
  for (const id of dirtySgs) {
    if (!liveSgs.has(id)) continue;
    finishSecurityGroups(b, new Map([[id, membersOf(inOrder(fast.sgUnits.get(id)))]]));
  }
  b.base = false;
  b.settleSome(memo.base);
  b.rebuildChainsOf((chainId) => inOrder(fast.chainUnits.get(chainId)).map((u) => u.log));
  if (b.duplicates > 0) return fail(memo, undo, 'an object id put twice');
  if (b.crossBase) return fail(memo, undo, 'a rule appended to a base chain');

  for (const rec of fresh) if (rec.notes !== undefined) fast.notedRecs.add(rec);
  fast.recs = newRecs as InstanceRecord[];
  memo.last = { ...last, view, liveSgs, preNotes, sgNotes: sgNoteRange };
  return {
    desired: b.topology(),
    issues: b.issues,
    allocations,
    held: b.held,
    heldReasons: b.heldReasons,
    delta: b.delta(),
  };
}

/** Gives up after touching the maps: restores the numbers handed out or freed (the caller's
 * full pass starts from them) and drops the indexes. */
function fail(memo: Memo, undo: readonly Undo[], why: string): 'full' {
  declined = `gave up after touching the maps: ${why}`;
  for (let i = undo.length - 1; i >= 0; i--) {
    const [map, id, n] = undo[i]!;
    if (n === undefined) map.delete(id);
    else map.set(id, n);
  }
  memo.fast = undefined;
  memo.last = undefined;
  return 'full';
}
