/**
 * Diff: desired topology vs actual managed objects → an ordered plan.
 *
 * Order (the reconcile contract): unlink ports whose peer changes; then creates and updates in
 * dependency order (`KINDS`: chains and address groups before the devices that use them,
 * devices before ports, ports before routes and rules); then deletes in the reverse order
 * (children first, so no delete relies on a cascade); then rule reorders of chains. Rules are
 * created chain by chain in their desired order, so a fresh chain needs no reorder.
 * Hosts are create-if-missing only (agents own their addresses). Objects whose owner is held
 * (invalid input) are neither updated nor deleted.
 */
import { atomizeChangeset, diff as jsonDiff } from 'json-diff-ts';
import type { ActualTopology } from '../discovery/index.js';
import type { DesiredTopology, TopologyDelta } from '../mapping/index.js';
import { KINDS } from '../store/index.js';
import type { AnyObject, Kind, Op, WritableOf } from '../store/index.js';
import { describeObject } from './describe.js';
import { sameWritableFields, writableView } from './equal.js';
import { anchoredMerge, HeldParts } from './hold.js';
import type { FieldChange, Plan, PlanOp } from './plan.js';

/** Options of `diffTopology`. */
export interface DiffOptions {
  /** Compute field-level changes for updates (plan output); default false. */
  readonly withChanges?: boolean;
  /** List the object-level ops with their names (plan output); default true. The daemon only
   * needs the store ops and the counts. */
  readonly withOps?: boolean;
  /**
   * What changed in the desired topology since the last cycle (mapping's `delta`), valid only
   * when that cycle's desired topology was fully applied and nobody wrote to the store since:
   * then only the changed objects are compared, only the removed ones deleted and only the
   * chains they touch reordered, so a cycle costs what changed. Ignored (a full diff is done)
   * when an owner held then (`previousHeld`) is not held now: its stored objects need a look.
   */
  readonly incremental?: {
    readonly delta: TopologyDelta;
    readonly previousHeld: ReadonlySet<string>;
  };
}

type Desired = WritableOf<Kind> & { readonly owner: string; readonly ruleIds?: readonly string[] };

const DIFF_KEYS = {
  embeddedObjKeys: {
    addresses: '$value',
    dnsServerAddrs: '$value',
    ntpServers: '$value',
    portGroupIds: '$value',
    ruleIds: '$value',
    hosts: 'macAddr',
  },
};

function fieldChanges(before: object, after: object): FieldChange[] {
  const changes = atomizeChangeset(jsonDiff(before, after, DIFF_KEYS as never));
  return changes.map((c) => {
    const out: { type: FieldChange['type']; path: string; value?: unknown; oldValue?: unknown } = {
      type: c.type as FieldChange['type'],
      path: c.path,
    };
    if (c.value !== undefined) out.value = c.value;
    if (c.oldValue !== undefined) out.oldValue = c.oldValue;
    return out;
  });
}

function withoutKeys(o: object, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(o as Record<string, unknown>) };
  for (const k of keys) delete out[k];
  return out;
}

/** True when a chain's stored rule list is the desired order followed by rules not ours. */
function sameOrder(
  stored: readonly string[],
  want: readonly string[],
  actual: ActualTopology,
  chainId: string,
): boolean {
  const foreign = actual.unmanagedRules.get(chainId)?.length ?? 0;
  if (stored.length !== want.length + foreign) return false;
  for (let i = 0; i < want.length; i++) if (stored[i] !== want[i]) return false;
  return true;
}

/** Computes the plan that turns `actual` into `desired`, leaving `held` owners alone. */
export function diffTopology(
  desired: DesiredTopology,
  actual: ActualTopology,
  held: ReadonlySet<string>,
  options: DiffOptions = {},
): Plan {
  const actualOf = (kind: Kind): ReadonlyMap<string, AnyObject> =>
    actual.objects[kind] as ReadonlyMap<string, AnyObject>;
  const desiredOf = (kind: Kind): ReadonlyMap<string, Desired> =>
    desired[kind] as ReadonlyMap<string, Desired>;
  const isHeld = (o: AnyObject): boolean => o.owner !== undefined && held.has(o.owner);
  const parts = new HeldParts(held, actual);
  const nameOf = (kind: Kind, o: object): string =>
    describeObject(kind, o, (k, id) => desiredOf(k).get(id) ?? actualOf(k).get(id));

  const storeOps: Op[] = [];
  const ops: PlanOp[] = [];
  const record = options.withOps !== false;
  const counts = { create: 0, update: 0, delete: 0, unchanged: 0, held: 0 };
  const created = new Set<string>();
  const updatedAt = new Map<string, number>(); // id → index in ops (for reorder notes)

  let delta = options.incremental?.delta;
  for (const owner of options.incremental?.previousHeld ?? []) {
    if (!held.has(owner)) delta = undefined;
  }

  // Phase 0: unlink ports whose peer changes, so that relinking never conflicts.
  const unlinkIfPeerChanges = (a: AnyObject): void => {
    const port = a as AnyObject & { peerId?: string };
    if (!port.peerId || isHeld(a)) return;
    const d = desiredOf('port').get(a.id) as { peerId?: string } | undefined;
    const peerWants = (desiredOf('port').get(port.peerId) as { peerId?: string } | undefined)
      ?.peerId;
    const changes = d ? d.peerId !== port.peerId : peerWants !== undefined && peerWants !== a.id;
    if (!changes) return;
    const object = withoutKeys(writableView('port', a), ['peerId']);
    storeOps.push({ op: 'update', kind: 'port', object: object as never });
  };
  if (delta === undefined) {
    for (const a of actualOf('port').values()) unlinkIfPeerChanges(a);
  } else {
    // only a changed or removed port, or the port linked to one, can change its peer
    const ports = actualOf('port');
    const checked = new Set<string>();
    const check = (id: string | undefined): void => {
      const a = id === undefined ? undefined : ports.get(id);
      if (a === undefined || checked.has(a.id)) return;
      checked.add(a.id);
      unlinkIfPeerChanges(a);
    };
    const changed = [...delta.port.put.map((p) => p.id), ...delta.port.removed];
    for (const id of changed) {
      check(id);
      check((ports.get(id) as { peerId?: string } | undefined)?.peerId);
    }
  }

  const deferRefs = (kind: Kind, d: Desired): Desired => {
    if (kind !== 'port') return d;
    const peerId = (d as { peerId?: string }).peerId;
    if (peerId === undefined || actualOf('port').has(peerId) || created.has(peerId)) return d;
    return withoutKeys(d, ['peerId']) as unknown as Desired;
  };

  const bodyOf = (kind: Kind, d: Desired): Desired =>
    kind === 'chain' ? (withoutKeys(d, ['ruleIds']) as unknown as Desired) : d;
  const create = (kind: Kind, d: Desired): void => {
    storeOps.push({ op: 'create', kind, object: deferRefs(kind, bodyOf(kind, d)) as never });
    created.add(d.id);
    counts.create++;
    if (record) ops.push({ op: 'create', kind, id: d.id, name: nameOf(kind, d), owner: d.owner });
  };
  const pendingRules = new Map<string, Desired>(); // rules to create, emitted in chain order
  const createPendingRules = (): void => {
    const chains = new Set<string>();
    for (const r of pendingRules.values())
      chains.add((r as unknown as { chainId: string }).chainId);
    for (const chainId of chains) {
      for (const id of desiredOf('chain').get(chainId)?.ruleIds ?? []) {
        const r = pendingRules.get(id);
        if (r === undefined) continue;
        pendingRules.delete(id);
        create('rule', r);
      }
    }
    for (const r of pendingRules.values()) create('rule', r); // listed by no chain
  };
  let matched = 0; // desired objects of the current kind that exist in the store
  const visit = (kind: Kind, desiredObject: Desired): void => {
    const a = actualOf(kind).get(desiredObject.id);
    // an owner held by the plan check still has desired objects: none is created or changed
    const ownerHeld = held.size > 0 && held.has(desiredObject.owner);
    if (!a) {
      if (ownerHeld) return;
      if (kind === 'rule') pendingRules.set(desiredObject.id, desiredObject);
      else create(kind, desiredObject);
      return;
    }
    matched++;
    // chain.ruleIds is a back-reference: the comparison ignores it (phase 3 handles order)
    if (kind === 'host' || sameWritableFields(kind, desiredObject, a)) {
      counts.unchanged++;
      return;
    }
    if (ownerHeld || isHeld(a)) {
      counts.held++;
      return;
    }
    // a shared object keeps the parts of held owners (DHCP hosts, group addresses)
    const d = parts.keep(kind, desiredObject, a);
    if (d !== desiredObject && sameWritableFields(kind, d, a)) {
      counts.unchanged++;
      return;
    }
    const body = bodyOf(kind, d);
    storeOps.push({ op: 'update', kind, object: deferRefs(kind, body) as never });
    counts.update++;
    updatedAt.set(d.id, ops.length);
    if (!record) return;
    const op: PlanOp = { op: 'update', kind, id: d.id, name: nameOf(kind, d), owner: d.owner };
    ops.push(
      options.withChanges ? { ...op, changes: fieldChanges(writableView(kind, a), body) } : op,
    );
  };

  // Phase 1: creates and updates, parents first; new rules are created chain by chain in the
  // chain's order, so a fresh chain needs no reorder.
  const fullyMatched = new Set<Kind>();
  for (const kind of KINDS) {
    matched = 0;
    const changed = delta?.[kind].put as readonly Desired[] | undefined;
    if (changed === undefined) {
      for (const d of desiredOf(kind).values()) visit(kind, d);
    } else {
      // everything else is the very object applied last cycle: in sync, and stored
      counts.unchanged += desiredOf(kind).size - changed.length;
      for (const d of changed) visit(kind, d);
    }
    if (matched === actualOf(kind).size) fullyMatched.add(kind);
    if (kind === 'rule' && pendingRules.size > 0) createPendingRules();
  }

  // Phase 2: deletes, children first.
  const deleted = new Set<string>();
  for (let i = KINDS.length - 1; i >= 0; i--) {
    const kind = KINDS[i]!;
    // every stored object of this kind is desired: nothing to delete (no per-object lookups)
    if (kind === 'host' || (delta === undefined && fullyMatched.has(kind))) continue;
    const wanted = desiredOf(kind);
    const stored = actualOf(kind);
    const candidates: Iterable<AnyObject> =
      delta === undefined ? stored.values() : removedObjects(stored, delta[kind].removed);
    for (const a of candidates) {
      if (wanted.has(a.id)) continue;
      if (isHeld(a) || (kind === 'route' && parts.keepsRoute(a))) {
        counts.held++;
        continue;
      }
      storeOps.push({ op: 'delete', kind, id: a.id, ignoreMissing: true });
      deleted.add(a.id);
      counts.delete++;
      if (record)
        ops.push({
          op: 'delete',
          kind,
          id: a.id,
          name: nameOf(kind, a),
          ...(a.owner !== undefined ? { owner: a.owner } : {}),
        });
    }
  }

  // Phase 3: rule order. Simulate each chain's list after phases 1-2 and reorder if needed.
  const createdRulesByChain = new Map<string, string[]>();
  for (const op of storeOps) {
    if (op.op !== 'create' || op.kind !== 'rule') continue;
    const rule = op.object as { id: string; chainId: string };
    const list = createdRulesByChain.get(rule.chainId) ?? [];
    list.push(rule.id);
    createdRulesByChain.set(rule.chainId, list);
  }
  const touchedChains = new Set<string>(createdRulesByChain.keys());
  for (const id of deleted) {
    const r = actualOf('rule').get(id) as { chainId?: string } | undefined;
    if (r?.chainId) touchedChains.add(r.chainId);
  }
  // with a delta, only a changed chain or one that gained or lost rules can be out of order
  const chains: Iterable<Desired> =
    delta === undefined
      ? desiredOf('chain').values()
      : changedChains(desiredOf('chain'), delta.chain.put, touchedChains);
  for (const chain of chains) {
    const a = actualOf('chain').get(chain.id) as { ruleIds?: readonly string[] } | undefined;
    if (a && isHeld(a as AnyObject)) continue;
    if (
      a &&
      !touchedChains.has(chain.id) &&
      sameOrder(a.ruleIds ?? [], chain.ruleIds ?? [], actual, chain.id)
    ) {
      continue;
    }
    const current = [
      ...(a?.ruleIds ?? []).filter((id) => !deleted.has(id)),
      ...(createdRulesByChain.get(chain.id) ?? []),
    ];
    const want = chain.ruleIds ?? [];
    const wantSet = new Set(want);
    const currentSet = new Set(current);
    // held owners' rules stay where they are; rules not ours go last
    const heldRule = (id: string): boolean => parts.isHeld(actualOf('rule').get(id)?.owner);
    const target = [
      ...anchoredMerge(
        want.filter((id) => currentSet.has(id)),
        current,
        (id) => id,
        heldRule,
      ),
      ...current.filter((id) => !wantSet.has(id) && !heldRule(id)),
    ];
    if (target.length === current.length && target.every((id, i) => id === current[i])) continue;
    storeOps.push({ op: 'update', kind: 'chain', object: { ...chain, ruleIds: target } as never });
    const change: FieldChange = {
      type: 'UPDATE',
      path: '$.ruleIds',
      value: target,
      oldValue: current,
    };
    const at = updatedAt.get(chain.id);
    if (at !== undefined) {
      if (!record) continue;
      const prev = ops[at]!;
      ops[at] = {
        ...prev,
        changes: [...(prev.changes ?? []), ...(options.withChanges ? [change] : [])],
      };
    } else if (!created.has(chain.id)) {
      counts.update++;
      counts.unchanged--;
      if (!record) continue;
      const op: PlanOp = {
        op: 'update',
        kind: 'chain',
        id: chain.id,
        name: nameOf('chain', chain),
        owner: chain.owner,
      };
      ops.push(options.withChanges ? { ...op, changes: [change] } : op);
    }
  }

  return { ops, storeOps, counts };
}

/** The stored objects among `ids`. */
function* removedObjects(
  stored: ReadonlyMap<string, AnyObject>,
  ids: readonly string[],
): Generator<AnyObject> {
  for (const id of ids) {
    const a = stored.get(id);
    if (a !== undefined) yield a;
  }
}

/** The desired chains that changed or whose rules were created or deleted, once each. */
function* changedChains(
  chains: ReadonlyMap<string, Desired>,
  put: readonly { readonly id: string }[],
  touched: ReadonlySet<string>,
): Generator<Desired> {
  const seen = new Set<string>();
  for (const id of [...put.map((c) => c.id), ...touched]) {
    if (seen.has(id)) continue;
    seen.add(id);
    const chain = chains.get(id);
    if (chain !== undefined) yield chain;
  }
}
