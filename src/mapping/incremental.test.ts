/**
 * Incremental mapping (`mapTopology(view, allocations, config, previous)`, which patches the
 * previous result's maps) must give exactly what a full recompute gives: the same objects (map
 * order aside), chain rule orders, issues, held owners and allocations; and its `delta` must
 * say exactly what changed. Checked over generated documents with seeded random edits, each edit applied to
 * a freshly generated copy of the view (as a re-read document would be: no shared objects).
 */
import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { EDITS, pick } from '../../test/helpers/view-edits.js';
import { KINDS } from '../store/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  serializeDesired,
  type MappingConfig,
  type MappingResult,
} from './index.js';

const rng = prng;

/** The topology as sorted lines: equal for equal content, whatever the map order. */
function content(r: MappingResult): string {
  return serializeDesired(r.desired).split('\n').sort().join('\n');
}

function same(inc: MappingResult, full: MappingResult): void {
  expect(content(inc)).to.equal(content(full));
  expect(inc.issues).to.deep.equal(full.issues);
  expect([...inc.held]).to.deep.equal([...full.held]);
  expect(inc.allocations).to.deep.equal(full.allocations);
}

type Snapshot = Record<string, Map<string, object>>;

/** A copy of a result's maps (a patch edits them in place). */
function snapshot(r: MappingResult): Snapshot {
  const out: Snapshot = {};
  for (const kind of KINDS) out[kind] = new Map(r.desired[kind] as ReadonlyMap<string, object>);
  return out;
}

/** The `delta` contract the reconciler relies on: every object not listed in `put` is the very
 * object the previous result had, every listed one is in the result, and `removed` lists
 * exactly the ids that are gone. Returns whether the pass was a patch. */
function checkDelta(inc: MappingResult, before: Snapshot): boolean {
  if (inc.delta === undefined) return false; // a full pass (e.g. the duplicate fallback)
  for (const kind of KINDS) {
    const { put, removed } = inc.delta[kind];
    const now = inc.desired[kind] as ReadonlyMap<string, object>;
    const puts = new Set<object>(put);
    for (const o of puts) expect(now.get((o as { id: string }).id), kind).to.equal(o);
    for (const [id, o] of now) {
      if (!puts.has(o)) expect(before[kind]!.get(id), `${kind}/${id}`).to.equal(o);
    }
    for (const id of before[kind]!.keys()) {
      if (!now.has(id)) expect(removed, `${kind}/${id} gone`).to.include(id);
    }
    for (const id of removed) expect(now.has(id), `${kind}/${id} removed`).to.equal(false);
  }
  return true;
}

describe('incremental mapping equals a full recompute', () => {
  for (const [name, edit] of Object.entries(EDITS)) {
    it(`after: ${name} (three seeds, edits stacked)`, () => {
      let duplicates = 0;
      let patches = 0;
      for (const seed of [1, 2, 3]) {
        const r = rng(seed * 7919);
        let view = generateView({ size: 'S', seed });
        let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
        for (let step = 0; step < 3; step++) {
          // a re-read document: a fresh copy, then the edit
          view = edit(step === 0 ? generateView({ size: 'S', seed }) : view, r);
          const full = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG);
          const before = snapshot(prev);
          const inc = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
          same(inc, full);
          if (checkDelta(inc, before)) patches++;
          duplicates += full.issues.filter((i) => i.code === 'mapping.duplicate-object').length;
          prev = inc;
        }
      }
      // the duplicate edit exercises the fallback to a full pass
      if (name === 'duplicate a private IP') expect(duplicates).to.be.greaterThan(0);
      else expect(patches, 'passes that patched').to.equal(9);
    });
  }

  it('after random mixes of edits, also when the config changes', () => {
    const names = Object.keys(EDITS);
    const r = rng(42);
    let view = generateView({ size: 'S', seed: 5 });
    let config: MappingConfig = DEFAULT_MAPPING_CONFIG;
    let prev = mapTopology(view, emptyAllocations(), config);
    for (let step = 0; step < 12; step++) {
      view = EDITS[pick(names, r)]!(view, r);
      if (step === 6) config = { ...config, disableL2Isolation: true };
      const full = mapTopology(view, prev.allocations, config);
      const before = snapshot(prev);
      const inc = mapTopology(view, prev.allocations, config, prev);
      same(inc, full);
      checkDelta(inc, before);
      prev = inc;
    }
  });

  it('reuses the previous objects of unchanged entities (and only those)', () => {
    const view = generateView({ size: 'S', seed: 3 });
    const prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const edited = EDITS['change a public IP']!(generateView({ size: 'S', seed: 3 }), rng(1));
    const inc = mapTopology(edited, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(checkDelta(inc, before)).to.equal(true);
    let reused = 0;
    let fresh = 0;
    for (const [id, rule] of inc.desired.rule) {
      if (before['rule']!.get(id) === rule) reused++;
      else fresh++;
    }
    expect(reused).to.be.greaterThan(20 * fresh);
    expect(fresh).to.be.greaterThan(0);
    expect(fresh).to.equal(inc.delta!.rule.put.length);
    // the changed instance's NAT rules go into its VPC's chains: only those are new copies
    const chains = inc.delta!.chain.put;
    expect(chains.length).to.be.greaterThan(0).and.lessThan(5);
    expect(inc.desired.chain.size - chains.length).to.be.greaterThan(20 * chains.length);
  });

  it('a previous result patches once: a second patch of it maps in full', () => {
    const view = generateView({ size: 'S', seed: 4 });
    const prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const again = generateView({ size: 'S', seed: 4 });
    const first = mapTopology(again, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(first.delta).to.not.equal(undefined);
    const second = mapTopology(again, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(second.delta).to.equal(undefined);
    same(second, mapTopology(again, prev.allocations, DEFAULT_MAPPING_CONFIG));
  });
});
