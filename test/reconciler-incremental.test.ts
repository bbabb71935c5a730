/**
 * The incremental diff (`diffTopology(…, { incremental: { delta, previousHeld } })`, fed by a
 * patched mapping) must plan exactly what a full diff plans, and applying it must leave the
 * store as full cycles (full mapping, full diff) over the same documents leave theirs. Checked
 * over seeded edit sequences on generated documents, applied to real (memory) stores cycle
 * after cycle.
 */
import { expect } from 'chai';
import { discover } from '../src/discovery/index.js';
import type { GlobalView } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  type MappingResult,
} from '../src/mapping/index.js';
import { applyOps, diffTopology, type Plan } from '../src/reconciler/index.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { generateView, prng } from '../scripts/lib/gni-generator.js';
import { canonicalJson, expectSameTopology } from './helpers/topology.js';
import { EDITS, pick } from './helpers/view-edits.js';

/** The store ops as a sorted list of canonical lines (order within a plan may differ). */
function opsOf(plan: Plan): string[] {
  return plan.storeOps.map((op) => canonicalJson(op)).sort();
}

/** One full cycle: full mapping (allocations recovered from the store), full diff, apply. */
async function fullCycle(store: TopologyStore, view: GlobalView, prev: MappingResult | undefined) {
  const m = mapTopology(view, prev?.allocations ?? emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  await applyOps(store, diffTopology(m.desired, await discover(store), m.held).storeOps);
  return m;
}

describe('reconciler: incremental diff equals a full diff', function () {
  this.timeout(60_000);

  for (const seed of [1, 2]) {
    it(`over 14 random edits (seed ${seed}), applied cycle after cycle`, async () => {
      const r = prng(seed * 104729);
      // a view with a duplicate id always maps in full (see src/mapping/incremental.test.ts)
      const names = Object.keys(EDITS).filter((n) => n !== 'duplicate a private IP');
      let view = generateView({ size: 'S', seed });
      const store = createMemoryStore();
      const reference = createMemoryStore(); // driven by full cycles only
      let m = await fullCycle(store, view, undefined);
      let ref = await fullCycle(reference, view, undefined);
      let incremental = 0;
      let changed = 0;
      const fallbacks: string[] = [];
      for (let step = 0; step < 14; step++) {
        const name = pick(names, r);
        view = EDITS[name]!(view, r);
        const actual = await discover(store);
        const previousHeld = m.held;
        const next = mapTopology(view, m.allocations, DEFAULT_MAPPING_CONFIG, m);
        const full = diffTopology(next.desired, actual, next.held, { withOps: false });
        if (next.delta === undefined) {
          fallbacks.push(name);
          await applyOps(store, full.storeOps);
        } else {
          incremental++;
          const inc = diffTopology(next.desired, actual, next.held, {
            withOps: false,
            incremental: { delta: next.delta, previousHeld },
          });
          expect(opsOf(inc), `step ${step}: ${name}`).to.deep.equal(opsOf(full));
          const { create, update, delete: del } = inc.counts;
          expect({ create, update, delete: del }).to.deep.equal({
            create: full.counts.create,
            update: full.counts.update,
            delete: full.counts.delete,
          });
          if (inc.storeOps.length > 0) changed++;
          // the incremental plan's own order must be valid for the store
          await applyOps(store, inc.storeOps);
        }
        const again = diffTopology(next.desired, await discover(store), next.held);
        expect(again.storeOps, `step ${step}: ${name}, second pass`).to.deep.equal([]);
        m = next;
        ref = await fullCycle(reference, view, ref);
        await expectSameTopology(store, reference);
      }
      expect(incremental, `cycles that patched (full: ${fallbacks.join(', ')})`).to.be.greaterThan(
        8,
      );
      expect(changed).to.be.greaterThan(5);
    });
  }
});
