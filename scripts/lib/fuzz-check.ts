/**
 * The fuzzer's checks (scripts/fuzz-gni.ts, test/fuzz-gni.test.ts). For each source document a
 * memory store holds its applied topology; each mutant is then:
 * 1. read in full and incrementally against the source's read: no exception, same result;
 * 2. when it validates, planned (dry run): no update or delete of an object of a held entity,
 *    and no held entity's part of a shared object lost (DHCP host, group address, rule order,
 *    a route to a held interface);
 * 3. applied: no store error (an owner held because the store refused its ops counts as one),
 *    and afterwards every object of a held entity byte-equal to what it was;
 * 4. undone: the source applied again converges (a second pass plans nothing).
 * Also, as the daemon does it: mapping patches the source's mapping and the diff looks at the
 * delta; that plan must be the full plan.
 * A mutant taking longer than `hangMs` counts as a hang.
 */
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { derivedId } from '../../src/common/index.js';
import { discover } from '../../src/discovery/index.js';
import type { ActualTopology } from '../../src/discovery/index.js';
import { readGni, readGniWithState, writeGniJson, writeGniXml } from '../../src/gni/index.js';
import type { GlobalView, GniReadState } from '../../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG, mapTopology } from '../../src/mapping/index.js';
import { reconcileView, writableView } from '../../src/reconciler/index.js';
import { createMemoryStore, KINDS } from '../../src/store/index.js';
import type { AnyObject, DhcpHost, Kind, Op, TopologyStore } from '../../src/store/index.js';
import { generateView, prng } from './gni-generator.js';
import { mutate } from './fuzz-mutate.js';
import type { FuzzSource } from './fuzz-mutate.js';

/** Options of `runFuzz`; defaults: hangMs 10,000. */
export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly sources: readonly FuzzSource[];
  readonly hangMs?: number;
  /** Called after each mutant with its index. */
  readonly onProgress?: (done: number, figures: FuzzFigures) => void;
}

/** One failed check. */
export interface FuzzFailure {
  readonly index: number;
  readonly source: string;
  readonly operator: string;
  readonly check:
    | 'exception'
    | 'hang'
    | 'incremental-read'
    | 'incremental-plan'
    | 'held-changed'
    | 'unappliable'
    | 'not-converged';
  readonly detail: string;
  /** The mutant's text (first 200 KiB). */
  readonly text: string;
}

/** What a run counted. */
export interface FuzzFigures {
  mutants: number;
  rejected: number;
  validated: number;
  withHeld: number;
  planCheckHolds: number;
  applied: number;
  exceptions: number;
  hangs: number;
  incrementalMismatches: number;
  incrementalPlanMismatches: number;
  /** Validated mutants whose mapping was a patch of the source's (the daemon's fast path). */
  patched: number;
  heldChanged: number;
  unappliable: number;
  notConverged: number;
  maxMs: number;
  totalMs: number;
  readonly operators: Record<string, number>;
  readonly failures: FuzzFailure[];
}

const config = DEFAULT_MAPPING_CONFIG;

/** The shared samples and fixtures in fixtures/gni, plus generated documents (25 instances). */
export function defaultSources(root: URL, generated = 3): FuzzSource[] {
  const out: FuzzSource[] = [];
  for (const name of ['small', 'medium', 'nat-eip', 'edge-cases']) {
    const xml = readFileSync(new URL(`fixtures/gni/${name}.xml`, root), 'utf8');
    out.push(sourceOf(name, xml));
  }
  for (let seed = 1; seed <= generated; seed++) {
    const view = generateView({ instances: 25, seed });
    out.push(sourceOf(`generated-${seed}`, writeGniXml(view)));
  }
  return out;
}

function sourceOf(name: string, xml: string): FuzzSource {
  const read = readGni(xml);
  if (read.view === undefined) throw new Error(`fuzz source ${name} is rejected`);
  return { name, xml, json: JSON.parse(writeGniJson(read.view)) as unknown };
}

interface Prepared {
  readonly source: FuzzSource;
  readonly view: GlobalView;
  readonly state: GniReadState | undefined;
  readonly store: TopologyStore;
  /** Instance id → its secondary interfaces' ids, in the source. */
  readonly secondaries: ReadonlyMap<string, readonly string[]>;
}

async function prepare(source: FuzzSource): Promise<Prepared> {
  const bytes = Buffer.from(source.xml);
  const read = readGniWithState(bytes);
  const view = read.result.view!;
  const store = createMemoryStore();
  await reconcileView(store, view, config);
  const secondaries = new Map<string, string[]>();
  for (const i of view.instances) {
    const ids = i.networkInterfaces.filter((n) => n.deviceIndex !== 0).map((n) => n.id);
    secondaries.set(i.id, ids);
  }
  return { source, view, state: read.state, store, secondaries };
}

/** Runs `count` mutants over the sources (round robin) and returns the figures. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzFigures> {
  const figures: FuzzFigures = {
    mutants: 0,
    rejected: 0,
    validated: 0,
    withHeld: 0,
    planCheckHolds: 0,
    applied: 0,
    exceptions: 0,
    hangs: 0,
    incrementalMismatches: 0,
    incrementalPlanMismatches: 0,
    patched: 0,
    heldChanged: 0,
    unappliable: 0,
    notConverged: 0,
    maxMs: 0,
    totalMs: 0,
    operators: {},
    failures: [],
  };
  const prepared: Prepared[] = [];
  for (const s of options.sources) prepared.push(await prepare(s));
  const r = prng(options.seed);
  const hangMs = options.hangMs ?? 10_000;
  try {
    for (let index = 0; index < options.count; index++) {
      const p = prepared[index % prepared.length]!;
      const mutant = mutate(p.source, r);
      const fail = (check: FuzzFailure['check'], detail: string): void => {
        figures.failures.push({
          index,
          source: p.source.name,
          operator: mutant.operator,
          check,
          detail,
          text: mutant.text.slice(0, 200 * 1024),
        });
      };
      const family = mutant.operator.split('+')[0]!;
      figures.operators[family] = (figures.operators[family] ?? 0) + 1;
      const t = performance.now();
      try {
        await checkMutant(p, mutant.text, figures, fail);
      } catch (e) {
        figures.exceptions++;
        fail('exception', e instanceof Error ? (e.stack ?? e.message) : String(e));
      }
      const ms = performance.now() - t;
      figures.mutants++;
      figures.totalMs += ms;
      figures.maxMs = Math.max(figures.maxMs, ms);
      if (ms > hangMs) {
        figures.hangs++;
        fail('hang', `${Math.round(ms)} ms`);
      }
      options.onProgress?.(index + 1, figures);
    }
  } finally {
    for (const p of prepared) await p.store.close();
  }
  return figures;
}

type Fail = (check: FuzzFailure['check'], detail: string) => void;

async function checkMutant(p: Prepared, text: string, f: FuzzFigures, fail: Fail): Promise<void> {
  const bytes = Buffer.from(text);
  const full = readGni(bytes);
  const incremental = readGniWithState(bytes, {}, p.state);
  if (!isDeepStrictEqual(incremental.result, full)) {
    f.incrementalMismatches++;
    fail('incremental-read', 'the incremental read differs from the full read');
  }
  const view = full.view;
  if (view === undefined) {
    f.rejected++;
    return;
  }
  f.validated++;
  const store = p.store;
  const dry = await reconcileView(store, view, config, { dryRun: true, withOps: false });
  const held = new Set(dry.held);
  for (const key of view.invalid) {
    const [kind, id] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    if (kind === 'instance') for (const eni of p.secondaries.get(id) ?? []) held.add(eni);
  }
  if (held.size > 0) f.withHeld++;
  if ((dry.plan.held ?? []).some((h) => h.by === 'check')) f.planCheckHolds++;
  // the daemon's path: mapping patches the source's mapping, the diff looks at its delta
  const previous = mapTopology(p.view, dry.mapping.allocations, config);
  const patched = await reconcileView(store, view, config, {
    dryRun: true,
    withOps: false,
    actual: dry.actual,
    allocations: previous.allocations,
    previousMapping: previous,
    previous: previous.desired,
  });
  if (patched.mapping.delta !== undefined) f.patched++;
  if (!sameOps(patched.plan.storeOps, dry.plan.storeOps)) {
    f.incrementalPlanMismatches++;
    fail(
      'incremental-plan',
      `patched mapping plans ${patched.plan.storeOps.length} ops, a full one ${dry.plan.storeOps.length}`,
    );
  }
  const planned = [
    ...heldViolations(dry.plan.storeOps, dry.actual, held),
    ...erasedOwners(view, dry.plan.storeOps, dry.actual, held),
  ];
  const before = heldObjects(dry.actual, held);
  try {
    const r = await reconcileView(store, view, config);
    const refused = (r.plan.held ?? []).filter((h) => h.by === 'apply');
    if (refused.length > 0) {
      f.unappliable++;
      fail('unappliable', refused.map((h) => `${h.owner}: ${h.reason}`).join('; '));
    }
    f.applied++;
  } catch (e) {
    f.unappliable++;
    fail('unappliable', e instanceof Error ? e.message : String(e));
  }
  const after = heldObjects(await discover(store), held);
  const lost = [...before.keys()].filter((k) => !isDeepStrictEqual(before.get(k), after.get(k)));
  if (planned.length > 0 || lost.length > 0) {
    f.heldChanged++;
    fail('held-changed', [...planned, ...lost.map((k) => `changed by the apply: ${k}`)].join('; '));
  }
  // undo: the source again, which must converge whether or not the mutant applied
  await reconcileView(store, p.view, config);
  const again = await reconcileView(store, p.view, config, { dryRun: true, withOps: false });
  if (again.plan.storeOps.length > 0) {
    f.notConverged++;
    fail('not-converged', `${again.plan.storeOps.length} ops after the source was re-applied`);
  }
}

/** `kind/id` → writable fields of every stored object of a held owner. */
function heldObjects(actual: ActualTopology, held: ReadonlySet<string>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (held.size === 0) return out;
  for (const kind of KINDS) {
    for (const o of (actual.objects[kind] as ReadonlyMap<string, AnyObject>).values()) {
      if (o.owner !== undefined && held.has(o.owner))
        out.set(`${kind}/${o.id}`, writableView(kind, o));
    }
  }
  return out;
}

type Stored = AnyObject & {
  readonly name?: string;
  readonly addresses?: readonly string[];
  readonly ruleIds?: readonly string[];
};

/** What a plan would change of held owners: their objects, and their parts of shared ones. */
export function heldViolations(
  ops: readonly Op[],
  actual: ActualTopology,
  held: ReadonlySet<string>,
): string[] {
  if (held.size === 0) return [];
  const out: string[] = [];
  const stored = (kind: Kind, id: string): Stored | undefined =>
    (actual.objects[kind] as ReadonlyMap<string, Stored>).get(id);
  const addresses = new Set<string>();
  for (const owner of held) {
    for (const name of [`elip_pre_${owner}`, `elip_post_${owner}`]) {
      const g = stored('ip-addr-group', derivedId(`ip-addr-group:${name}`));
      if (g?.owner === owner) for (const a of g.addresses ?? []) addresses.add(a);
    }
  }
  const deleted = new Set(
    ops.filter((o) => o.op === 'delete').map((o) => (o as { id: string }).id),
  );
  for (const op of ops) {
    const id = op.op === 'delete' ? op.id : op.object.id;
    const a = stored(op.kind, id);
    if (a === undefined) continue;
    if (a.owner !== undefined && held.has(a.owner)) {
      out.push(`${op.op} ${op.kind}/${id} of held ${a.owner}`);
      continue;
    }
    const via = (a as { nextHopGateway?: string }).nextHopGateway;
    if (op.op === 'delete' && op.kind === 'route' && via !== undefined && addresses.has(via)) {
      out.push(`delete route/${id} to ${via} of a held interface`);
      continue;
    }
    if (op.op !== 'update') continue;
    const body = op.object as unknown as Record<string, unknown>;
    if (op.kind === 'dhcp-subnet') {
      const want = (body['hosts'] ?? []) as readonly DhcpHost[];
      for (const h of (a as { hosts?: readonly DhcpHost[] }).hosts ?? []) {
        if (held.has(h.name) && !want.some((w) => isDeepStrictEqual(w, h)))
          out.push(`dhcp-subnet/${id} loses the host of held ${h.name}`);
      }
    } else if (op.kind === 'ip-addr-group') {
      const want = new Set((body['addresses'] ?? []) as readonly string[]);
      for (const x of a.addresses ?? []) {
        if (addresses.has(x) && !want.has(x))
          out.push(`ip-addr-group/${id} (${a.name}) loses ${x} of a held interface`);
      }
    } else if (op.kind === 'chain' && body['ruleIds'] !== undefined) {
      const heldRule = (r: string): boolean => {
        const o = stored('rule', r)?.owner;
        return o !== undefined && held.has(o) && !deleted.has(r);
      };
      const before = (a.ruleIds ?? []).filter(heldRule);
      const after = (body['ruleIds'] as readonly string[]).filter(heldRule);
      if (!isDeepStrictEqual(before, after))
        out.push(`chain/${id} (${a.name}) moves or drops rules of held owners`);
    }
  }
  return out;
}

/**
 * Entities of the document that are not held yet lose every object they have, with nothing
 * created or changed for them: an entity still listed must either map (something of it
 * stays) or be held. Route-table routes are left out (a table may lose all its routes).
 */
export function erasedOwners(
  view: GlobalView,
  ops: readonly Op[],
  actual: ActualTopology,
  held: ReadonlySet<string>,
): string[] {
  const present = new Set<string>();
  for (const v of view.vpcs) {
    present.add(v.id);
    for (const x of v.subnets) present.add(x.id);
    for (const a of v.networkAcls) present.add(`${v.id}/${a.id}`);
    for (const n of v.natGateways) present.add(n.id);
  }
  for (const g of view.securityGroups) present.add(g.id);
  for (const i of view.instances)
    for (const n of i.networkInterfaces) present.add(n.deviceIndex === 0 ? i.id : n.id);
  const owner = (kind: Kind, id: string): string | undefined =>
    (actual.objects[kind] as ReadonlyMap<string, AnyObject>).get(id)?.owner;
  const deletes = new Map<string, number>();
  const written = new Set<string>();
  for (const op of ops) {
    if (op.op !== 'delete') {
      written.add(op.object.owner ?? '');
      continue;
    }
    const o = owner(op.kind, op.id);
    if (o !== undefined && present.has(o) && !held.has(o))
      deletes.set(o, (deletes.get(o) ?? 0) + 1);
  }
  if (deletes.size === 0) return [];
  const stored = new Map<string, number>();
  for (const kind of KINDS) {
    for (const o of (actual.objects[kind] as ReadonlyMap<string, AnyObject>).values()) {
      if (o.owner !== undefined && deletes.has(o.owner))
        stored.set(o.owner, (stored.get(o.owner) ?? 0) + 1);
    }
  }
  return [...deletes]
    .filter(([o, n]) => !written.has(o) && stored.get(o) === n)
    .map(([o, n]) => `${o} is in the document, not held, and loses all its ${n} objects`);
}

/** The same store ops, in any order. */
function sameOps(a: readonly Op[], b: readonly Op[]): boolean {
  if (a.length !== b.length) return false;
  const key = (o: Op): string => JSON.stringify(o);
  const x = a.map(key).sort();
  const y = b.map(key).sort();
  return x.every((k, i) => k === y[i]);
}
