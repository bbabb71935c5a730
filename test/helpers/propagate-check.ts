/**
 * Checking change propagation (src/mapping/propagate*.ts) against a full recompute: a pass
 * patched from the previous result must equal a full recompute of the same view (objects,
 * chain rule orders, issues, held owners and reasons, allocations), and the previous desired
 * topology plus the pass's delta must be the patched topology. Shared by the propagation
 * tests.
 */
import { expect } from 'chai';
import { readGniWithState, type GlobalView, type GniReadState } from '../../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  serializeDesired,
  type MappingResult,
} from '../../src/mapping/index.js';
import { wasPropagated } from '../../src/mapping/map-topology.js';
import { lastDeclined } from '../../src/mapping/propagate.js';
import { KINDS } from '../../src/store/index.js';
import { cloudDocument, type Edit } from './view-edits.js';

/** Every object of a result, by kind and id. */
export type Snapshot = Record<string, Map<string, object>>;

/** A copy of the result's maps (the next patch edits them in place). */
export function snapshot(r: MappingResult): Snapshot {
  const out: Snapshot = {};
  for (const kind of KINDS) out[kind] = new Map(r.desired[kind] as ReadonlyMap<string, object>);
  return out;
}

function lines(r: MappingResult): string[] {
  return serializeDesired(r.desired).split('\n').sort();
}

/** The patched result equals the full one, and previous + delta = patched. */
export function check(
  inc: MappingResult,
  full: MappingResult,
  before: Snapshot,
  what: string,
): void {
  expect(lines(inc), what).to.deep.equal(lines(full));
  expect(inc.issues, what).to.deep.equal(full.issues);
  expect([...inc.held], what).to.deep.equal([...full.held]);
  expect([...inc.heldReasons], what).to.deep.equal([...full.heldReasons]);
  expect(inc.allocations, what).to.deep.equal(full.allocations);
  if (inc.delta === undefined) return;
  for (const kind of KINDS) {
    const now = new Map(before[kind]!);
    for (const id of inc.delta[kind].removed) now.delete(id);
    for (const o of inc.delta[kind].put) now.set((o as { id: string }).id, o);
    const got = inc.desired[kind] as ReadonlyMap<string, object>;
    expect(now.size, `${what}: ${kind} count`).to.equal(got.size);
    for (const [id, o] of got) expect(now.get(id), `${what}: ${kind}/${id}`).to.equal(o);
  }
}

/** How often an edit ran, how many of its passes were propagated, and why the others were
 * not (`lastDeclined`). */
export interface EditCount {
  runs: number;
  propagated: number;
  readonly declined: Set<string>;
}

/** What a chain of edits did. */
export interface ChainRun {
  /** Passes done by change propagation. */
  readonly propagated: number;
  /** Per edit name: how many times it ran and how many of those passes were propagated. */
  readonly byEdit: Map<string, EditCount>;
}

/**
 * Runs `steps` edits from `start` (each named by `next`, taken from `edits`), each view made
 * by `load` from the edited one, and checks each patched pass against a full recompute. An
 * edit that leaves duplicate objects (every pass is then a full one) is taken back the pass
 * after.
 */
export function runChain(
  what: string,
  r: () => number,
  start: GlobalView,
  steps: number,
  next: () => string,
  edits: Record<string, Edit>,
  load: (v: GlobalView) => GlobalView,
): ChainRun {
  let view = load(start);
  let good = view;
  let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  let duplicate = false;
  let propagated = 0;
  const byEdit = new Map<string, EditCount>();
  for (let step = 0; step < steps; step++) {
    const name = duplicate ? 'take the duplicate back' : next();
    view = load(duplicate ? good : edits[name]!(view, r));
    const label = `${what} step ${step}: ${name}`;
    const full = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    check(inc, full, before, label);
    const count = byEdit.get(name) ?? { runs: 0, propagated: 0, declined: new Set<string>() };
    count.runs++;
    if (wasPropagated(inc)) {
      propagated++;
      count.propagated++;
    } else count.declined.add(lastDeclined());
    byEdit.set(name, count);
    duplicate = full.issues.some((i) => i.code === 'mapping.duplicate-object');
    if (!duplicate) good = view;
    prev = inc;
  }
  return { propagated, byEdit };
}

/** Views passed through documents: each is written as a GNI document and read back with
 * readGniWithState, from the previous read's state (incremental where the reader can). */
export interface DocumentLoader {
  readonly load: (v: GlobalView) => GlobalView;
  /** How many reads were incremental so far. */
  readonly incremental: () => number;
}

/** A fresh DocumentLoader (versions 1, 2, ...). */
export function documentLoader(): DocumentLoader {
  let version = 0;
  let state: GniReadState | undefined;
  let incremental = 0;
  return {
    load: (v) => {
      const read = readGniWithState(cloudDocument(v, ++version), {}, state);
      if (read.incremental) incremental++;
      state = read.state;
      return read.result.view!;
    },
    incremental: () => incremental,
  };
}
