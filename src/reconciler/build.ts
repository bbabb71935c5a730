/**
 * The build path: when the store holds none of our objects (a cold build, a rebuild after a
 * flush), the plan is "create every desired object" and needs no diff; it is committed with
 * the store's `bulkCreate` (one commit; the file store writes it as a snapshot) instead of
 * chunked transactions. Hosts are create-if-missing, as in the diff.
 */
import type { ActualTopology } from '../discovery/index.js';
import { SLOT, type DesiredOf, type DesiredTopology } from '../mapping/index.js';
import { KINDS } from '../store/index.js';
import type { Kind, Op, TopologyWriter } from '../store/index.js';
import type { ApplyResult } from './apply.js';
import { describeObject } from './describe.js';
import type { Plan, PlanOp } from './plan.js';

type CreateOp = Extract<Op, { readonly op: 'create' }>;
type Desired = {
  readonly id: string;
  readonly owner?: string;
  readonly ruleIds?: readonly string[];
};

/** True when the store holds no object of ours but hosts (which are never flushed). */
export function holdsNoTopology(actual: ActualTopology): boolean {
  for (const kind of KINDS) if (kind !== 'host' && actual.objects[kind].size > 0) return false;
  return true;
}

/**
 * The plan of a build into a store that holds none of our objects but hosts: every desired
 * object created (hosts only when missing), parents first, rules chain by chain in the
 * chain's order (so no reorder follows). Object-level ops are listed when `withOps`.
 */
export function buildPlan(
  desired: DesiredTopology,
  actual: ActualTopology,
  withOps: boolean,
): Plan {
  const desiredOf = (kind: Kind): ReadonlyMap<string, Desired> =>
    desired[kind] as ReadonlyMap<string, Desired>;
  let total = 0;
  for (const kind of KINDS) total += desiredOf(kind).size;
  // the list at its final size (grown op by op, ~400,000 ops at L, it was copied ~30 times)
  const storeOps = new Array<CreateOp>(total);
  let n = 0;
  const ops: PlanOp[] = [];
  let unchanged = 0;
  const create = (kind: Kind, d: Desired): void => {
    const object = kind === 'chain' ? withoutRuleIds(d) : d;
    storeOps[n++] = { op: 'create', kind, object: object as never };
    if (!withOps) return;
    const name = describeObject(kind, d, (k, id) => desiredOf(k).get(id));
    ops.push({ op: 'create', kind, id: d.id, name, ...(d.owner ? { owner: d.owner } : {}) });
  };
  for (const kind of KINDS) {
    if (kind === 'rule') {
      createRules(
        desiredOf('chain'),
        desiredOf('rule') as ReadonlyMap<string, DesiredRule>,
        create,
      );
      continue;
    }
    // forEach rather than for-of: no iterator result object per entry
    desiredOf(kind).forEach((d) => {
      if (kind === 'host' && actual.objects.host.has(d.id)) unchanged++;
      else create(kind, d);
    });
  }
  storeOps.length = n; // hosts that exist are not created
  const counts = { create: n, update: 0, delete: 0, unchanged, held: 0 };
  return { ops, storeOps, counts };
}

type DesiredRule = Desired & { readonly chainId?: string };

/**
 * Creates the rules chain by chain in each chain's order. The mapping lists every rule in the
 * chain it names, once: then each rule is met once and no set of done ids is needed. Anything
 * else (a rule listed twice or in no chain) is planned the careful way.
 */
function createRules(
  chains: ReadonlyMap<string, Desired>,
  rules: ReadonlyMap<string, DesiredRule>,
  create: (kind: Kind, d: Desired) => void,
): void {
  const inOrder = new Array<DesiredRule>(rules.size);
  let met = 0;
  chains.forEach((chain) => {
    const ids = chain.ruleIds;
    if (ids === undefined) return;
    for (let i = 0; i < ids.length; i++) {
      const r = rules.get(ids[i]!);
      if (r !== undefined && r.chainId === chain.id) inOrder[met++] = r;
    }
  });
  // each rule names one chain, so a rule met as many times as there are rules and never twice
  // in one chain's list was met exactly once
  if (met === rules.size && noRepeats(chains)) {
    for (let i = 0; i < met; i++) create('rule', inOrder[i]!);
    return;
  }
  const done = new Set<string>();
  for (const chain of chains.values()) {
    for (const id of chain.ruleIds ?? []) {
      const r = rules.get(id);
      if (r === undefined || done.has(id)) continue;
      done.add(id);
      create('rule', r);
    }
  }
  for (const r of rules.values()) if (!done.has(r.id)) create('rule', r); // in no chain
}

/** Lists up to this long are checked for repeats pairwise (no set: clearing a set allocates a
 * new table, which for the ~42,000 chains at L was most of the plan's garbage). */
const PAIRWISE = 32;

/** True when no chain lists a rule twice. */
function noRepeats(chains: ReadonlyMap<string, Desired>): boolean {
  let repeats = false;
  chains.forEach((chain) => {
    const ids = chain.ruleIds;
    if (repeats || ids === undefined || ids.length < 2) return;
    if (ids.length > PAIRWISE) {
      repeats = new Set(ids).size !== ids.length;
      return;
    }
    for (let i = 1; i < ids.length && !repeats; i++) {
      const id = ids[i];
      for (let j = 0; j < i; j++) if (ids[j] === id) repeats = true;
    }
  });
  return !repeats;
}

/** The fields `TopologyBuilder.chain` writes, in its order. */
const CHAIN_FIELDS = ['id', 'owner', 'name', 'tenantId', 'metadata', 'ruleIds'] as const;

/**
 * The object to create for a desired chain: without its `ruleIds` (the desired order, which
 * the rules' creates give the stored chain) and, for a chain as the mapping writes it, as a
 * literal with the store's slots (mapping/slots.ts), which a bulk create adopts as it is
 * (~42,000 chains at L, each copied by the store otherwise).
 */
function withoutRuleIds(d: Desired): object {
  const c = d as DesiredOf<'chain'>;
  let n = 0; // how many of its fields are CHAIN_FIELDS in order; -1 when one is not
  for (const k in c) {
    if (k !== CHAIN_FIELDS[n]) {
      n = -1;
      break;
    }
    n++;
  }
  if (n === CHAIN_FIELDS.length)
    return {
      id: c.id,
      owner: c.owner,
      name: c.name,
      tenantId: c.tenantId,
      metadata: c.metadata,
      ruleIds: SLOT,
      jumpRuleIds: SLOT,
      routerInboundIds: SLOT,
      routerOutboundIds: SLOT,
      bridgeInboundIds: SLOT,
      bridgeOutboundIds: SLOT,
      portInboundIds: SLOT,
      portOutboundIds: SLOT,
      version: 0,
    };
  const { ruleIds: _ruleIds, ...rest } = d;
  return rest;
}

/** Commits a build plan's creates as one bulk commit (the writer must have `bulkCreate`). */
export async function applyBuild(
  store: TopologyWriter,
  ops: readonly Op[],
  options: {
    readonly signal?: AbortSignal;
    readonly onProgress?: (done: number, total: number) => void;
  },
): Promise<ApplyResult> {
  if (options.signal?.aborted) return { transactions: 0, opsApplied: 0, aborted: true };
  if (store.bulkCreate === undefined) throw new Error('applyBuild: the store has no bulkCreate');
  const creates = ops as readonly CreateOp[];
  const { revision } = await store.bulkCreate(creates);
  options.onProgress?.(ops.length, ops.length);
  return { transactions: 1, opsApplied: ops.length, revision, aborted: false };
}
