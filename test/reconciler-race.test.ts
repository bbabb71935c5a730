/**
 * Another writer changing the store between discovery and apply (an agent registering its host
 * while the controller's first build runs) is a race, not the owner's fault: the cycle plans
 * again against the store as it is and applies everything, holding nothing.
 */
import { expect } from 'chai';
import { allObjects, discover } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, recoverAllocations } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore } from '../src/store/index.js';
import type { Op, TopologyStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import { expectSameTopology } from './helpers/topology.js';

type Create = Extract<Op, { readonly op: 'create' }>;

/** A store whose first write is preceded by another writer creating the hosts that write
 * creates (as an agent registering itself would; the reconciler leaves a host's addresses and
 * heartbeat to its agent, so the same object keeps the end state comparable). */
function registeringFirst(inner: TopologyStore): { store: TopologyStore; raced: () => number } {
  let raced = 0;
  const race = async (ops: readonly Op[]): Promise<void> => {
    if (raced > 0) return;
    const hosts = ops.filter((op): op is Create => op.op === 'create' && op.kind === 'host');
    if (hosts.length === 0) return;
    raced = hosts.length;
    await inner.transaction(
      hosts.map((op) => ({
        op: 'create',
        kind: 'host',
        object: op.object,
      })),
    );
  };
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'transaction')
        return async (ops: readonly Op[]) => (await race(ops), target.transaction(ops));
      if (prop === 'bulkCreate' && target.bulkCreate)
        return async (ops: readonly Create[]) => (await race(ops), target.bulkCreate!(ops));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, raced: () => raced };
}

describe('reconciler: another writer between discovery and apply', () => {
  for (const fixture of ['fixtures/datapath/multi-host.xml', 'fixtures/gni/medium.xml']) {
    it(`applies all of ${fixture} when hosts appear during the first build, holding nothing`, async () => {
      const view = viewOf(loadDoc(repoPath(fixture)));
      const inner = createMemoryStore();
      const { store, raced } = registeringFirst(inner);
      const r = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(raced(), 'the race happened').to.be.greaterThan(0);
      expect([...r.held].filter((o) => !view.invalid.has(o))).to.deep.equal([]);
      // end state: a fresh build of the same view
      const fresh = createMemoryStore();
      const allocations = recoverAllocations(allObjects(await discover(inner)) as never);
      await reconcileView(fresh, view, DEFAULT_MAPPING_CONFIG, { allocations });
      await expectSameTopology(inner, fresh);
      // a second pass plans nothing
      const again = await reconcileView(inner, view, DEFAULT_MAPPING_CONFIG);
      expect(again.plan.storeOps).to.have.length(0);
      await fresh.close();
      await inner.close();
    });
  }
});
