/**
 * Incremental cross-entity checks: what `checkReferences` finds on a whole view, found from the
 * entities that changed since the last clean read, with lookups kept between reads.
 *
 * The last read was clean (no issue, nothing invalid): that is what lets an incremental read
 * start from it. So the new view is clean too exactly when the changed entities pass their own
 * checks against the updated lookups, no removed entity is still referred to, and every
 * instance is listed on one node. If so, `checkReferences` would report nothing either, and
 * only the placement of the moved or new instances changes; anything else (an issue, or a
 * change these checks do not follow: a subnet's cidr or VPC, the set of cluster names) makes
 * the caller run `checkReferences` on the whole view, which gives the issues in a full read's
 * order. Pure: no I/O.
 */
import { IssueSink } from './issues.js';
import { BuildContext, type Mutable } from './build-context.js';
import {
  checkInstances,
  checkVpcs,
  emptyIndex,
  type Index,
  type Lookups,
  type SubnetEntry,
  type ViewParts,
} from './references.js';
import { RESERVED_IDS } from './shared-ids.js';
import { parseCidr } from './net.js';
import { clusterNames, findById, nodeSlots, sameList, type NodeSlot } from './placement.js';
import type {
  DhcpOptionSet,
  EntityKind,
  GniConfig,
  Instance,
  InternetGateway,
  SecurityGroup,
  Vpc,
} from './types.js';

/** Reference counts by the id referred to. */
type Counter = Map<string, number>;

/**
 * The lookups of a clean view, updated read after read. Owned by one read state at a time: an
 * incremental read takes it from the last state (see `CheckStateHolder`) and hands it on.
 */
export interface CheckState {
  readonly index: Index;
  readonly acls: Set<string>;
  readonly tables: Set<string>;
  readonly nats: Set<string>;
  /** Instances by id (the view's objects or equal ones). */
  readonly instances: Map<string, Instance>;
  /** Ids of the kinds that own topology, with their kind (see `sharedIds`). */
  readonly topo: Map<string, EntityKind>;
  readonly refs: {
    readonly vpc: Counter;
    readonly subnet: Counter;
    readonly sg: Counter;
    readonly eni: Counter;
    readonly dopt: Counter;
    readonly igw: Counter;
  };
  /** The node listing each instance (its key in `nodes`). */
  readonly placement: Map<string, string>;
  nodes: Map<string, NodeSlot>;
  clusterNames: string;
}

/** Holds a read state's `CheckState` until a later read takes it (then built again if needed). */
export class CheckStateHolder {
  constructor(private state: CheckState | undefined) {}

  /** The lookups, or `undefined` if an earlier read took them. */
  take(): CheckState | undefined {
    const s = this.state;
    this.state = undefined;
    return s;
  }
}

/** What changed between the last view and the new one, by section. */
export interface ViewDelta {
  /** Entities built by this read (new or changed), by section. */
  readonly added: ReadonlyMap<string, readonly unknown[]>;
  /** Entities of the last view that are not in the new one, by section. */
  readonly removed: ReadonlyMap<string, readonly unknown[]>;
}

const KNOWN = new Set([
  'vpcs',
  'instances',
  'dhcpOptionSets',
  'internetGateways',
  'securityGroups',
]);

function list<T>(m: ReadonlyMap<string, readonly unknown[]>, section: string): readonly T[] {
  return (m.get(section) ?? []) as readonly T[];
}

function count(c: Counter, id: string | undefined, by: number): void {
  if (id === undefined) return;
  const n = (c.get(id) ?? 0) + by;
  if (n === 0) c.delete(id);
  else c.set(id, n);
}

/**
 * The lookups of a clean view (the last read's); `undefined` if its nodes are ambiguous.
 * `checked`: the lookups `checkReferences` found the same view clean with (its index and the
 * kinds of its ids), taken over rather than built again; they must not be used elsewhere.
 */
export function buildCheckState(view: ViewParts, checked?: Lookups): CheckState | undefined {
  const nodes = nodeSlots(view.configuration);
  if (nodes === undefined) return undefined;
  const s: CheckState = {
    index: checked?.index ?? emptyIndex(),
    acls: new Set(),
    tables: new Set(),
    nats: new Set(),
    instances: new Map(),
    topo: checked?.topo ?? new Map(),
    refs: {
      vpc: new Map(),
      subnet: new Map(),
      sg: new Map(),
      eni: new Map(),
      dopt: new Map(),
      igw: new Map(),
    },
    placement: new Map(),
    nodes,
    clusterNames: clusterNames(view.configuration),
  };
  for (const slot of nodes.values()) {
    for (const id of slot.ids) {
      if (s.placement.has(id)) return undefined;
      s.placement.set(id, slot.key);
    }
  }
  const apply = new Delta(s, checked !== undefined);
  for (const v of view.vpcs) apply.addVpc(v);
  for (const i of view.instances) apply.addInstance(i);
  for (const g of view.securityGroups) apply.addSg(g);
  for (const d of view.dhcpOptionSets) apply.addDopt(d);
  for (const g of view.internetGateways) apply.addIgw(g);
  return apply.ok && apply.stillResolved() ? s : undefined;
}

/**
 * Checks the new view `parts` (sections holding the reused and the new entities) from the
 * change `delta` and the last view's lookups `s`, updating `s`. True: the view is clean, and
 * every instance carries its placement (new ones were placed in place, moved ones replaced by
 * copies). False: run `checkReferences` instead (`s` is then unusable; `parts` may hold placed
 * instances, which `checkReferences` accepts as they are).
 */
export function checkIncremental(
  s: CheckState,
  parts: ViewParts,
  delta: ViewDelta,
  configChanged: boolean,
): boolean {
  for (const section of [...delta.added.keys(), ...delta.removed.keys()])
    if (!KNOWN.has(section)) return false;
  const d = new Delta(s);
  for (const v of list<Vpc>(delta.removed, 'vpcs')) d.removeVpc(v);
  for (const i of list<Instance>(delta.removed, 'instances')) d.removeInstance(i);
  for (const g of list<SecurityGroup>(delta.removed, 'securityGroups')) d.removeSg(g);
  for (const x of list<DhcpOptionSet>(delta.removed, 'dhcpOptionSets')) d.removeDopt(x);
  for (const g of list<InternetGateway>(delta.removed, 'internetGateways')) d.removeIgw(g);
  const vpcs = list<Vpc>(delta.added, 'vpcs');
  const instances = list<Mutable<Instance>>(delta.added, 'instances');
  const sgs = list<SecurityGroup>(delta.added, 'securityGroups');
  for (const v of vpcs) d.addVpc(v);
  for (const i of instances) d.addInstance(i);
  for (const g of sgs) d.addSg(g);
  for (const x of list<DhcpOptionSet>(delta.added, 'dhcpOptionSets')) d.addDopt(x);
  for (const g of list<InternetGateway>(delta.added, 'internetGateways')) d.addIgw(g);
  if (!d.ok || !d.stillResolved()) return false;
  if (configChanged && !d.moveListings(parts.configuration)) return false;
  // The checks of the new and changed entities, against the updated lookups.
  const scratch = new BuildContext(new IssueSink());
  const sub: ViewParts = {
    ...parts,
    vpcs,
    instances: [...instances],
    securityGroups: sgs,
  };
  checkVpcs(sub, s.index, scratch);
  checkInstances(sub, s.index, scratch);
  if (scratch.issues.list.length > 0 || !sorted(parts.instances)) return false;
  return d.place(parts.instances, new Set(instances));
}

/** Whether instance ids never go down (else `checkReferences` warns `unsorted`). */
function sorted(instances: readonly Instance[]): boolean {
  for (let i = 1; i < instances.length; i++)
    if (instances[i]!.id < instances[i - 1]!.id) return false;
  return true;
}

/** One update of a `CheckState`; `ok` turns false on anything a full check would report. */
class Delta {
  ok = true;
  private readonly gone: [EntityKind, string][] = [];
  private readonly oldSubnets = new Map<string, SubnetEntry>();
  /** Instances whose placement must be looked at again. */
  private readonly touched = new Set<string>();

  /** `indexed`: `s.index` and `s.topo` already hold the entities added (see `buildCheckState`). */
  constructor(
    private readonly s: CheckState,
    private readonly indexed = false,
  ) {}

  private claim(set: Set<string> | Map<string, unknown>, id: string): void {
    if (set.has(id)) this.ok = false;
  }

  private addTopo(kind: EntityKind, id: string): void {
    if (this.s.topo.has(id) || RESERVED_IDS.has(id)) this.ok = false;
    else this.s.topo.set(id, kind);
  }

  private dropTopo(kind: EntityKind, id: string): void {
    this.s.topo.delete(id);
    this.gone.push([kind, id]);
  }

  addVpc(v: Vpc): void {
    const { index } = this.s;
    const indexed = this.indexed;
    if (!indexed) {
      this.claim(index.vpcs, v.id);
      index.vpcs.set(v.id, v);
      this.addTopo('vpc', v.id);
      for (const x of v.subnets) {
        this.claim(index.subnets, x.id);
        index.subnets.set(x.id, {
          subnet: x,
          vpc: v,
          cidr: x.cidr === undefined ? undefined : parseCidr(x.cidr),
        });
        this.addTopo('subnet', x.id);
      }
    }
    for (const a of v.networkAcls) this.add(this.s.acls, a.id);
    for (const r of v.routeTables) this.add(this.s.tables, r.id);
    for (const n of v.natGateways) {
      this.add(this.s.nats, n.id);
      if (!indexed) this.addTopo('natGateway', n.id);
    }
    this.vpcRefs(v, 1);
  }

  removeVpc(v: Vpc): void {
    const { index } = this.s;
    index.vpcs.delete(v.id);
    this.dropTopo('vpc', v.id);
    for (const x of v.subnets) {
      const e = index.subnets.get(x.id);
      if (e !== undefined) this.oldSubnets.set(x.id, e);
      index.subnets.delete(x.id);
      this.dropTopo('subnet', x.id);
    }
    for (const a of v.networkAcls) this.s.acls.delete(a.id);
    for (const r of v.routeTables) this.s.tables.delete(r.id);
    for (const n of v.natGateways) {
      this.s.nats.delete(n.id);
      this.dropTopo('natGateway', n.id);
    }
    this.vpcRefs(v, -1);
  }

  private vpcRefs(v: Vpc, by: number): void {
    const refs = this.s.refs;
    count(refs.dopt, v.dhcpOptionSet, by);
    for (const g of v.internetGateways) count(refs.igw, g, by);
    for (const t of v.routeTables)
      for (const r of t.routes)
        if (r.target?.type === 'networkInterface') count(refs.eni, r.target.id, by);
  }

  addInstance(i: Instance): void {
    this.claim(this.s.instances, i.id);
    this.s.instances.set(i.id, i);
    if (!this.indexed) {
      this.addTopo('instance', i.id);
      for (const e of i.networkInterfaces) {
        this.add(this.s.index.enis, e.id);
        this.addTopo('networkInterface', e.id);
      }
    }
    this.instanceRefs(i, 1);
    this.touched.add(i.id);
  }

  removeInstance(i: Instance): void {
    this.s.instances.delete(i.id);
    this.dropTopo('instance', i.id);
    for (const e of i.networkInterfaces) {
      this.s.index.enis.delete(e.id);
      this.dropTopo('networkInterface', e.id);
    }
    this.instanceRefs(i, -1);
    this.touched.add(i.id);
  }

  private instanceRefs(i: Instance, by: number): void {
    const refs = this.s.refs;
    count(refs.vpc, i.vpc, by);
    count(refs.subnet, i.subnet, by);
    for (const g of i.securityGroups) count(refs.sg, g, by);
    for (const e of i.networkInterfaces) {
      count(refs.vpc, e.vpc, by);
      count(refs.subnet, e.subnet, by);
      for (const g of e.securityGroups) count(refs.sg, g, by);
    }
  }

  addSg(g: SecurityGroup): void {
    if (!this.indexed) {
      this.add(this.s.index.groups, g.id);
      this.addTopo('securityGroup', g.id);
    }
    this.sgRefs(g, 1);
  }

  removeSg(g: SecurityGroup): void {
    this.s.index.groups.delete(g.id);
    this.dropTopo('securityGroup', g.id);
    this.sgRefs(g, -1);
  }

  private sgRefs(g: SecurityGroup, by: number): void {
    for (const r of g.ingressRules) count(this.s.refs.sg, r.groupId, by);
    for (const r of g.egressRules) count(this.s.refs.sg, r.groupId, by);
  }

  addDopt(x: DhcpOptionSet): void {
    if (!this.indexed) this.add(this.s.index.dopts, x.id);
  }

  removeDopt(x: DhcpOptionSet): void {
    this.s.index.dopts.delete(x.id);
    this.gone.push(['dhcpOptionSet', x.id]);
  }

  addIgw(g: InternetGateway): void {
    if (!this.indexed) this.add(this.s.index.topIgws, g.id);
  }

  removeIgw(g: InternetGateway): void {
    this.s.index.topIgws.delete(g.id);
    this.gone.push(['internetGateway', g.id]);
  }

  private add(set: Set<string>, id: string): void {
    if (set.has(id)) this.ok = false;
    else set.add(id);
  }

  /** Whether every removed entity is either back or referred to by nobody, and no subnet
   * that stayed changed its cidr or VPC (instances in it would need checking again). */
  stillResolved(): boolean {
    const { index, refs } = this.s;
    for (const [kind, id] of this.gone) {
      switch (kind) {
        case 'vpc':
          if (!index.vpcs.has(id) && refs.vpc.has(id)) return false;
          break;
        case 'subnet': {
          const now = index.subnets.get(id);
          const was = this.oldSubnets.get(id);
          if (now === undefined) {
            if (refs.subnet.has(id)) return false;
          } else if (was?.vpc.id !== now.vpc.id || was.subnet.cidr !== now.subnet.cidr) {
            return false;
          }
          break;
        }
        case 'networkInterface':
          if (!index.enis.has(id) && refs.eni.has(id)) return false;
          break;
        case 'securityGroup':
          if (!index.groups.has(id) && refs.sg.has(id)) return false;
          break;
        case 'dhcpOptionSet':
          if (!index.dopts.has(id) && refs.dopt.has(id)) return false;
          break;
        case 'internetGateway':
          if (!index.topIgws.has(id) && refs.igw.has(id)) return false;
          break;
        default:
          break; // instances and NAT gateways: no reference outside their own entity
      }
    }
    return true;
  }

  /** Follows the node lists of a changed configuration into `placement` and `nodes` (in place:
   * only changed nodes get a new slot); false if an instance would be listed twice, two nodes
   * share cluster and name, or the cluster names changed. */
  moveListings(config: GniConfig): boolean {
    const s = this.s;
    if (clusterNames(config) !== s.clusterNames) return false;
    const seen = new Set<string>();
    const changed: NodeSlot[] = [];
    for (const c of config.clusters) {
      for (const n of c.nodes) {
        const key = `${c.name}\u0000${n.name}`;
        if (seen.has(key)) return false;
        seen.add(key);
        const old = s.nodes.get(key);
        if (old !== undefined && (old.ids === n.instanceIds || sameList(old.ids, n.instanceIds)))
          continue;
        changed.push({ key, node: n.name, cluster: c.name, ids: n.instanceIds });
      }
    }
    const listed = new Map<string, string>();
    for (const [key, old] of s.nodes) {
      if (seen.has(key)) continue;
      for (const id of old.ids) this.unlist(id, key);
      s.nodes.delete(key);
    }
    for (const slot of changed) {
      const before = s.nodes.get(slot.key)?.ids ?? [];
      const now = new Set(slot.ids);
      if (now.size < slot.ids.length) return false; // listed twice on one node
      const was = new Set(before);
      for (const id of before) if (!now.has(id)) this.unlist(id, slot.key);
      for (const id of slot.ids) {
        if (was.has(id)) continue;
        if (listed.has(id)) return false;
        listed.set(id, slot.key);
      }
    }
    for (const [id, key] of listed) {
      if (s.placement.has(id)) return false; // still listed on another node
      s.placement.set(id, key);
      this.touched.add(id);
    }
    for (const slot of changed) s.nodes.set(slot.key, slot);
    return true;
  }

  private unlist(id: string, key: string): void {
    if (this.s.placement.get(id) === key) this.s.placement.delete(id);
    this.touched.add(id);
  }

  /**
   * Checks that each touched instance is listed and each touched listing is an instance, then
   * places the instances: `fresh` ones (built by this read) in place, others by a copy.
   */
  place(instances: Mutable<Instance>[], fresh: ReadonlySet<Instance>): boolean {
    const s = this.s;
    const moves: [Instance, NodeSlot][] = [];
    for (const id of this.touched) {
      const inst = s.instances.get(id);
      const key = s.placement.get(id);
      const slot = key === undefined ? undefined : s.nodes.get(key);
      if ((inst === undefined) !== (slot === undefined)) return false;
      if (inst === undefined || slot === undefined) continue;
      if (inst.node !== slot.node || inst.cluster !== slot.cluster) moves.push([inst, slot]);
    }
    for (const [inst, slot] of moves) {
      if (fresh.has(inst)) {
        const m = inst as Mutable<Instance>;
        m.node = slot.node;
        m.cluster = slot.cluster;
        continue;
      }
      const at = findById(instances, inst.id);
      if (at < 0) return false; // not in the view: a bug, let the full check decide
      const copy = { ...instances[at]!, node: slot.node, cluster: slot.cluster };
      instances[at] = copy;
      s.instances.set(inst.id, copy);
    }
    return true;
  }
}
