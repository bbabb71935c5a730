/**
 * Bulk creates and deletes on the etcd backend, against real etcd on loopback: the same objects
 * as the one-commit bulk of the memory store, in batches that fit etcd's request limits (its own
 * defaults too), every batch a consistent commit; a refused bulk writes nothing; the reconciler
 * takes its build path and a flush its bulk delete.
 */
import { expect } from 'chai';
import { discover } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { buildPlan, diffTopology, flushManaged, reconcileView } from '../src/reconciler/index.js';
import {
  createMemoryStore,
  NotFoundError,
  openEtcdStore,
  StoreUnavailableError,
  verifyStore,
  type ChangeEvent,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { generateView } from '../scripts/lib/gni-generator.js';
import { EtcdCluster, etcdAvailable } from './helpers/etcd.js';
import { bridgePort, host } from './helpers/store-conformance.js';
import { expectReject, storeContents as contents } from './helpers/store-conformance-support.js';

type CreateOp = Extract<Op, { op: 'create' }>;

describe('store etcd backend: bulk create and delete', function () {
  this.timeout(120_000);
  const view = generateView({ size: 'S', seed: 5, gateways: 'shared-peer' });
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  let cluster: EtcdCluster;
  let prefixes = 0;
  const open = (prefix: string, bulkMaxOps?: number): Promise<TopologyStore> =>
    openEtcdStore(cluster.spec(prefix), bulkMaxOps !== undefined ? { bulkMaxOps } : {});

  /** The memory store's one-commit bulk of the same plan, for comparison. */
  async function reference(): Promise<TopologyStore> {
    const mem = createMemoryStore();
    await mem.transaction([host('h1')]);
    const plan = buildPlan(mapped.desired, await discover(mem), false);
    await mem.bulkCreate!(plan.storeOps as CreateOp[]);
    return mem;
  }

  before(async function () {
    if (!etcdAvailable()) this.skip();
    cluster = await EtcdCluster.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  it('creates in batches the objects the one-commit bulk creates; a reader and a reopen see them', async () => {
    const prefix = `bulk${prefixes++}`;
    const store = await open(prefix, 300);
    const reader = await openEtcdStore(cluster.spec(prefix), { readOnly: true });
    try {
      await store.transaction([host('h1')]); // an existing object the build links to
      for (let i = 0; i < 400 && (await reader.revision()) < 1; i++)
        await new Promise((r) => setTimeout(r, 25));
      const events: ChangeEvent[] = [];
      const ac = new AbortController();
      const watching = (async () => {
        for await (const ev of reader.watch(1, ac.signal)) events.push(ev);
      })().catch(() => undefined);
      const plan = buildPlan(mapped.desired, await discover(store), false);
      expect(plan.storeOps.length).to.be.greaterThan(3000);
      const { revision } = await store.bulkCreate!(plan.storeOps as CreateOp[]);
      // several commits of at most 300 changed objects, consecutive revisions
      expect(revision).to.be.greaterThan(plan.storeOps.length / 300);
      const mem = await reference();
      const want = await contents(mem);
      expect(await contents(store)).to.deep.equal(want);
      expect(await verifyStore(store)).to.deep.equal([]);
      for (let i = 0; i < 400 && (await reader.revision()) < revision; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(await contents(reader)).to.deep.equal(want);
      ac.abort();
      await watching;
      expect(events.map((e) => e.revision)).to.deep.equal(
        Array.from({ length: revision - 1 }, (_, i) => i + 2),
      );
      for (const e of events) expect(e.changes.length).to.be.at.most(300);
      // the diff then finds nothing to do, and a fresh process loads the same store
      const again = diffTopology(mapped.desired, await discover(store), mapped.held);
      expect(again.storeOps).to.deep.equal([]);
      const reopened = await openEtcdStore(cluster.spec(prefix), { readOnly: true });
      expect(await contents(reopened)).to.deep.equal(want);
      await reopened.close();
      await mem.close();
    } finally {
      await reader.close();
      await store.close();
    }
  });

  it('refuses a bad op anywhere in the set before writing any batch', async () => {
    const store = await open(`bulk${prefixes++}`, 100);
    try {
      await store.transaction([host('h1')]);
      const plan = buildPlan(mapped.desired, await discover(store), false);
      const ops = [...(plan.storeOps as CreateOp[]), bridgePort('late', 'no-such-bridge')];
      await expectReject(
        store.bulkCreate!(ops as CreateOp[]),
        NotFoundError,
        'port/late: bridgeId references bridge/no-such-bridge',
      );
      expect(await store.revision()).to.equal(1);
      expect((await contents(store))['router']).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });

  it('flushes in batches to what the one-commit bulk delete leaves', async () => {
    const store = await open(`bulk${prefixes++}`, 400);
    try {
      await store.transaction([host('h1')]);
      await store.bulkCreate!(
        buildPlan(mapped.desired, await discover(store), false).storeOps as CreateOp[],
      );
      const mem = await reference();
      const before = await store.revision();
      const flushed = await flushManaged(store);
      const memFlushed = await flushManaged(mem);
      expect(flushed.deleted).to.equal(memFlushed.deleted);
      expect(flushed.apply.transactions).to.equal(1);
      expect(await store.revision()).to.be.greaterThan(before + 1);
      expect(await contents(store)).to.deep.equal(await contents(mem));
      expect((await store.get('host', 'h1'))!.portIds).to.deep.equal([]);
      expect(await verifyStore(store)).to.deep.equal([]);
      await mem.close();
    } finally {
      await store.close();
    }
  });

  it('the reconciler builds an empty etcd store through the bulk path; a second pass does nothing', async () => {
    const store = await open(`bulk${prefixes++}`);
    try {
      const first = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(first.plan.counts.create).to.equal(first.apply!.opsApplied);
      const mem = createMemoryStore();
      await reconcileView(mem, view, DEFAULT_MAPPING_CONFIG);
      expect(await contents(store)).to.deep.equal(await contents(mem));
      const second = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(second.plan.storeOps).to.deep.equal([]);
      await mem.close();
    } finally {
      await store.close();
    }
  });

  it('an etcd restart in the middle of a bulk build leaves a consistent prefix; the next cycle completes it', async () => {
    const restartable = await EtcdCluster.start();
    const spec = restartable.spec('restart');
    const store = await openEtcdStore(spec, { bulkMaxOps: 50 });
    try {
      const member = restartable.members[0]!;
      // stop etcd once the build's second batch is committed: a later batch meets a dead etcd
      const ac = new AbortController();
      const killer = (async () => {
        for await (const ev of store.watch(0, ac.signal)) {
          if (ev.revision >= 2) {
            await member.stop();
            return;
          }
        }
      })().catch(() => undefined);
      const err = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG).catch((e: unknown) => e);
      ac.abort();
      await killer;
      expect(err, String(err)).to.be.instanceOf(StoreUnavailableError);
      member.start();
      await restartable.waitHealthy();
      // what the build committed is a consistent prefix of it, at consecutive revisions
      const partial = await openEtcdStore(spec, { readOnly: true });
      const committed = await partial.revision();
      expect(committed).to.be.at.least(2);
      expect(await verifyStore(partial)).to.deep.equal([]);
      const routers = (await partial.list('router')).length;
      expect(routers).to.be.lessThan(mapped.desired.router.size + 1);
      await partial.close();
      // the next cycle finds a store that is not empty and diffs; then nothing is left to do
      let done;
      for (let i = 0; i < 40; i++) {
        done = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG).catch((e: unknown) => e);
        if (!(done instanceof StoreUnavailableError)) break;
        await new Promise((r) => setTimeout(r, 250)); // the daemon's backoff, shortened
      }
      if (done instanceof Error) throw done;
      const mem = createMemoryStore();
      await reconcileView(mem, view, DEFAULT_MAPPING_CONFIG);
      expect(await contents(store)).to.deep.equal(await contents(mem));
      expect(await verifyStore(store)).to.deep.equal([]);
      const again = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(again.plan.storeOps).to.deep.equal([]);
      await mem.close();
    } finally {
      await store.close();
      await restartable.stop();
    }
  });

  describe('with etcd at its default request limits (128 ops per transaction)', () => {
    let small: EtcdCluster;
    before(async function () {
      if (!etcdAvailable()) this.skip();
      small = await EtcdCluster.start(1, { etcdDefaultLimits: true });
    });
    after(async () => {
      await small?.stop();
    });

    it('splits the batches until etcd takes them, and gets the same store', async () => {
      const store = await openEtcdStore(small.spec('bulk'));
      try {
        await store.transaction([host('h1')]);
        const plan = buildPlan(mapped.desired, await discover(store), false);
        const { revision } = await store.bulkCreate!(plan.storeOps as CreateOp[]);
        expect(revision).to.be.greaterThan(plan.storeOps.length / 128);
        const mem = await reference();
        expect(await contents(store)).to.deep.equal(await contents(mem));
        await flushManaged(store);
        await flushManaged(mem);
        expect(await contents(store)).to.deep.equal(await contents(mem));
        expect(await verifyStore(store)).to.deep.equal([]);
        await mem.close();
      } finally {
        await store.close();
      }
    });
  });
});
