/**
 * After a bulk build (cold build, rebuild after a flush) the daemon brings its view of the store
 * current and builds the mapping's propagation indexes at once (`prepareAfterBuild`), so the
 * first change after it does not re-list the store (a bulk commit is not in the change history).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover, discoverLive, refreshActual } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { prepareAfterBuild, reconcileView } from '../src/reconciler/cycle.js';
import { openFileStore, type TopologyStore } from '../src/store/index.js';
import { addInstanceLike, loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';

describe('reconciler: prepared for the next change after a bulk build', () => {
  let dir: string;
  let store: TopologyStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prepare-build-'));
    store = await openFileStore(join(dir, 'store'), { fsync: false });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('brings the actual topology current without the change history; the next cycle patches', async () => {
    const doc = loadDoc(repoPath('fixtures/gni/medium.xml'));
    const view = viewOf(doc);
    const r = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG, {
      actual: await discoverLive(store),
      withOps: false,
    });
    expect(r.built).to.equal(true);
    expect(r.actual.revision).to.be.lessThan(await store.revision());

    const fresh = await prepareAfterBuild(store, r.actual, r.mapping);
    expect(fresh.revision).to.equal(await store.revision());
    // the next cycle's refresh has nothing to catch up with: the very same view, no re-listing
    expect(await refreshActual(store, fresh)).to.equal(fresh);
    const full = await discover(store);
    expect(fresh.managed).to.equal(full.managed);
    expect(fresh.unmanaged).to.equal(full.unmanaged);
    for (const [kind, objects] of Object.entries(full.objects))
      expect([...fresh.objects[kind as keyof typeof full.objects].keys()].sort()).to.deep.equal(
        [...objects.keys()].sort(),
      );

    // one added instance: only its objects are written, and a second pass does nothing
    const template = doc.instances.find((i: { networkInterfaces: unknown[] }) => {
      return i.networkInterfaces.length === 1;
    }).name;
    addInstanceLike(doc, template, 'c0ffee01', 250);
    const view2 = viewOf(doc);
    const opts = { withOps: false, previous: r.mapping.desired, previousMapping: r.mapping };
    const r2 = await reconcileView(store, view2, DEFAULT_MAPPING_CONFIG, {
      ...opts,
      actual: fresh,
      previousHeld: r.held,
    });
    expect(r2.built).to.equal(undefined);
    expect(r2.plan.counts.create).to.be.greaterThan(0);
    expect(r2.plan.counts.delete).to.equal(0);
    expect(r2.plan.counts.create + r2.plan.counts.update).to.be.lessThan(100);
    const again = await reconcileView(store, view2, DEFAULT_MAPPING_CONFIG, { withOps: false });
    expect(again.plan.counts).to.include({ create: 0, update: 0, delete: 0 });
  });

  it('is not a build when the store already holds the topology', async () => {
    const view = viewOf(loadDoc(repoPath('fixtures/gni/medium.xml')));
    await reconcileView(store, view, DEFAULT_MAPPING_CONFIG, { withOps: false });
    const r = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG, { withOps: false });
    expect(r.built).to.equal(undefined);
    expect(r.plan.counts).to.include({ create: 0, update: 0, delete: 0 });
  });
});
