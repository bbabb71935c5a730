/**
 * Adoption: a bulk create keeps an object its writer handed over (`handOver`) as the stored
 * object itself when validation would not change it and its kind has no back-references
 * (store/validate.ts); the reconciler hands over its desired objects, so after a cold build the
 * mapping's rules, routes, DHCP subnets, ARP and MAC entries are the stored objects. Anything
 * else is copied as before, and nothing can change a stored object afterwards.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer } from '../src/api/testing.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { checkBulkCreate, runBulkCreate } from '../src/store/bulk.js';
import { StoreState } from '../src/store/state.js';
import {
  createMemoryStore,
  handOver,
  handOverBatch,
  openFileStore,
  type Kind,
  type TopologyStore,
} from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';

type Obj = Record<string, unknown>;
const create = (kind: Kind, object: Obj) => ({
  op: 'create' as const,
  kind,
  object: object as never,
});
const handed = <T extends object>(o: T): T => {
  handOver(o);
  return o;
};

describe('store: adopting handed-over objects in a bulk create', () => {
  let store: TopologyStore;
  beforeEach(() => (store = createMemoryStore()));
  afterEach(() => store.close());

  it('keeps a handed-over rule as the stored object, frozen, with its version', async () => {
    const tpDst = Object.freeze({ start: 22, end: 22 });
    const rule = handed({ id: 'r1', chainId: 'c', type: 'accept', nwProto: 6, tpDst });
    await store.bulkCreate!([create('chain', { id: 'c', name: 'c' }), create('rule', rule)]);
    const stored = (await store.get('rule', 'r1'))!;
    expect(stored).to.equal(rule);
    expect(stored.version).to.equal(1);
    expect(Object.isFrozen(rule)).to.equal(true);
    // nobody can change it any more, in place or by adding a field
    expect(() => ((rule as Obj)['type'] = 'drop')).to.throw(TypeError);
    expect(() => ((rule as Obj)['nwSrcAddress'] = '10.0.0.1')).to.throw(TypeError);
    expect((await store.get('rule', 'r1'))!.type).to.equal('accept');
    // the chain (a kind with back-references) is a copy with its rule list
    expect((await store.get('chain', 'c'))!.ruleIds).to.deep.equal(['r1']);
  });

  it('copies what was not handed over, what a transaction writes, and kinds with back-references', async () => {
    const plain = { id: 'r1', chainId: 'c', type: 'accept' };
    const viaTx = handed({ id: 'r2', chainId: 'c', type: 'drop' });
    const chain = handed({ id: 'c', name: 'c' });
    await store.bulkCreate!([create('chain', chain), create('rule', plain)]);
    await store.transaction([create('rule', viaTx)]);
    for (const [id, input] of [
      ['r1', plain],
      ['r2', viaTx],
    ] as const) {
      const stored = (await store.get('rule', id))!;
      expect(stored, id).to.not.equal(input);
      expect(Object.isFrozen(input), id).to.equal(false);
      expect(input, id).to.not.have.property('version');
    }
    expect(await store.get('chain', 'c')).to.not.equal(chain);
    expect(chain).to.deep.equal({ id: 'c', name: 'c' });
    // a later change of a copied input never reaches the store
    (plain as Obj)['type'] = 'reject';
    expect((await store.get('rule', 'r1'))!.type).to.equal('accept');
  });

  it('copies a handed-over object that validation changes, leaving it as it was', async () => {
    const upper = handed({ id: 'm1', bridgeId: 'b', macAddr: 'AA:BB:CC:00:00:01', portId: 'p' });
    const open = handed({ id: 'r1', chainId: 'c', type: 'accept', tpDst: { start: 1, end: 2 } });
    const extra = handed({ id: 'r2', chainId: 'c', type: 'accept', version: 7 });
    const sealed = handed(Object.seal({ id: 'r3', chainId: 'c', type: 'accept' }));
    await store.bulkCreate!([
      create('chain', { id: 'c', name: 'c' }),
      create('bridge', { id: 'b', name: 'b' }),
      create('port', { id: 'p', type: 'Bridge', bridgeId: 'b' }),
      create('mac-entry', upper),
      create('rule', open),
      create('rule', extra),
      create('rule', sealed),
    ]);
    const mac = (await store.get('mac-entry', 'm1'))!;
    expect(mac).to.not.equal(upper);
    expect(mac.macAddr).to.equal('aa:bb:cc:00:00:01');
    expect(upper.macAddr).to.equal('AA:BB:CC:00:00:01');
    expect(await store.get('rule', 'r1')).to.not.equal(open);
    open.tpDst.end = 99; // its own, unfrozen value: the store holds a copy
    expect((await store.get('rule', 'r1'))!.tpDst).to.deep.equal({ start: 1, end: 2 });
    // `version` is a slot (docs/store.md, "Slots"): written in place, the object adopted
    expect(await store.get('rule', 'r2')).to.equal(extra);
    expect(extra.version).to.equal(1);
    expect(await store.get('rule', 'r3')).to.not.equal(sealed);
  });

  it('copies a handed-over object with a getter, and keeps the value it read', async () => {
    let reads = 0;
    const getter = handed(
      Object.defineProperty({ id: 'r1', chainId: 'c' }, 'type', {
        enumerable: true,
        get: () => (reads++ === 0 ? 'accept' : 'drop'),
      }),
    );
    await store.bulkCreate!([create('chain', { id: 'c', name: 'c' }), create('rule', getter)]);
    const stored = (await store.get('rule', 'r1'))!;
    expect(stored).to.not.equal(getter);
    expect(Object.getOwnPropertyDescriptor(stored, 'type')).to.have.property('value', 'accept');
    expect(Object.isFrozen(getter)).to.equal(false);
  });

  it('a check of the whole set (the etcd backend) changes no handed-over object', () => {
    const rule = { id: 'r1', chainId: 'c', type: 'accept' };
    const ops = [create('chain', { id: 'c', name: 'c' }), create('rule', rule)];
    handOverBatch(ops);
    const state = new StoreState();
    expect(checkBulkCreate(state, ops)).to.equal(true);
    expect(checkBulkCreate(state, [])).to.equal(false);
    expect(Object.isFrozen(rule)).to.equal(false);
    expect(rule).to.deep.equal({ id: 'r1', chainId: 'c', type: 'accept' });
    // so a run after it still adopts the object
    const changes = runBulkCreate(state, ops);
    expect(changes.find((c) => c.id === 'r1')!.object).to.equal(rule);
    // and it refuses what the run refuses
    const bad = [create('rule', { id: 'r2', chainId: 'nope', type: 'accept' })];
    expect(() => checkBulkCreate(state, bad)).to.throw(/chain\/nope/);
    expect(() => runBulkCreate(state, bad)).to.throw(/chain\/nope/);
  });

  it('a refused bulk create leaves the handed-over objects untouched', async () => {
    const rule = handed({ id: 'r1', chainId: 'c', type: 'accept' });
    const dangling = handed({ id: 'r2', chainId: 'nope', type: 'accept' });
    let error: unknown;
    try {
      await store.bulkCreate!([
        create('chain', { id: 'c', name: 'c' }),
        create('rule', rule),
        create('rule', dangling),
      ]);
    } catch (e) {
      error = e;
    }
    expect(String(error)).to.match(/chain\/nope/);
    expect(await store.get('rule', 'r1')).to.equal(undefined);
    expect(Object.isFrozen(rule)).to.equal(false);
    expect(rule).to.deep.equal({ id: 'r1', chainId: 'c', type: 'accept' });
  });
});

describe('reconciler: one object for the desired and the stored rule after a cold build', () => {
  const view = viewOf(loadDoc(repoPath('fixtures/gni/medium.xml')));
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'store-adopt-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shares them; an API write replaces the stored one and never reaches the mapping', async () => {
    const store = await openFileStore(join(dir, 'store'), { fsync: false });
    const server = await startTestApiServer(store);
    const client = createApiClient({ url: server.url, token: server.token });
    try {
      const r = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(r.plan.counts.create).to.be.greaterThan(0);
      let shared = 0;
      let rules = 0;
      for (const kind of ['rule', 'route', 'arp-entry', 'mac-entry'] as const) {
        for (const d of r.mapping.desired[kind].values()) {
          if ((await store.get(kind, d.id)) === d) shared++;
          if (kind === 'rule') rules++;
        }
      }
      expect(shared, 'most rules, routes and entries are one object').to.be.greaterThan(rules / 2);
      const desired = [...r.mapping.desired.rule.values()].find((d) => d.type === 'accept')!;
      expect(await store.get('rule', desired.id)).to.equal(desired);
      const before = structuredClone(desired);
      // the mapping's object cannot be changed: the store's neither
      expect(() => ((desired as Obj)['type'] = 'drop')).to.throw(TypeError);

      // an API write replaces the stored object; the mapping's stays as it was
      await client.transaction([
        { op: 'update', kind: 'rule', object: { ...desired, nwProto: 17 } as never },
      ]);
      expect((await store.get('rule', desired.id))!.nwProto).to.equal(17);
      expect(desired).to.deep.equal(before);

      // the next cycle repairs that drift from the same desired objects; a second plans nothing
      const repair = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(repair.plan.counts.update).to.equal(1);
      expect((await store.get('rule', desired.id))!.nwProto).to.equal(before.nwProto);
      const again = await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
      expect(again.plan.counts).to.include({ create: 0, update: 0, delete: 0 });
    } finally {
      await server.close();
      await store.close();
    }
    // what was written is what a reopened store reads
    const reopened = await openFileStore(join(dir, 'store'), { readOnly: true });
    try {
      const r = await reconcileView(reopened, view, DEFAULT_MAPPING_CONFIG, { dryRun: true });
      expect(r.plan.counts).to.include({ create: 0, update: 0, delete: 0 });
    } finally {
      await reopened.close();
    }
  });
});
