/**
 * Slots (docs/store.md, "Slots"): a handed-over object that holds `version` and every
 * back-reference field of its kind as `BACK_REFERENCE_SLOT` is adopted by a bulk create, the
 * store writing into those fields in place. The fast way must give exactly what the careful
 * way gives: the same stored objects (fields in the same order), the same snapshot bytes, the
 * same errors; and a refused run or a check leaves the handed-over objects as they were given.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyActual } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { buildPlan } from '../src/reconciler/index.js';
import { freezeForStore } from '../src/reconciler/share.js';
import { checkBulkCreate, runBulkCreate } from '../src/store/bulk.js';
import { StoreState } from '../src/store/state.js';
import {
  BACK_REFERENCE_FIELDS,
  BACK_REFERENCE_SLOT,
  createMemoryStore,
  handOverBatch,
  KINDS,
  openFileStore,
  type Kind,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { generateView } from '../scripts/lib/gni-generator.js';

type Obj = Record<string, unknown>;
type CreateOp = Extract<Op, { op: 'create' }>;
const create = (kind: Kind, object: Obj): CreateOp => ({
  op: 'create',
  kind,
  object: object as never,
});

const NONE: readonly string[] = Object.freeze([]);

/** The defaults validation adds (an object with them is kept as it is). */
const DEFAULTS: Partial<Record<Kind, Obj>> = {
  chain: { metadata: NONE },
  router: { adminStateUp: true },
  bridge: { adminStateUp: true },
  port: { adminStateUp: true, portGroupIds: NONE },
  route: { weight: 100 },
};

/** `o` with the defaults validation adds and its kind's slots: back-references (first or
 * last) and `version` last. */
function slotted(kind: Kind, o: Obj, backs: 'first' | 'last' = 'last'): Obj {
  const slots = Object.fromEntries(
    (BACK_REFERENCE_FIELDS[kind] as readonly string[]).map((f) => [f, BACK_REFERENCE_SLOT]),
  );
  const d: Obj = {};
  for (const [k, v] of Object.entries(DEFAULTS[kind] ?? {})) if (!(k in o)) d[k] = v;
  return backs === 'first'
    ? { ...slots, ...o, ...d, version: 0 }
    : { ...o, ...d, ...slots, version: 0 };
}

/** A chain, a router and its port, a bridge, and rules of the chain, all with slots. */
function small(): CreateOp[] {
  return [
    create('chain', slotted('chain', { id: 'c', name: 'c' })),
    create('router', slotted('router', { id: 'r', name: 'r', inboundFilterId: 'c' }, 'first')),
    create('bridge', slotted('bridge', { id: 'b', name: 'b' })),
    create('port', slotted('port', { id: 'p1', type: 'Router', routerId: 'r', peerId: 'p2' })),
    create('port', slotted('port', { id: 'p2', type: 'Bridge', bridgeId: 'b', peerId: 'p1' })),
    create('rule', slotted('rule', { id: 'r1', chainId: 'c', type: 'accept' })),
    create('rule', slotted('rule', { id: 'r2', chainId: 'c', type: 'drop' })),
  ];
}

/** Every object's JSON (fields in order), kind by kind in id order. */
async function json(store: TopologyStore): Promise<string[]> {
  const out: string[] = [];
  for (const kind of KINDS) for (const o of await store.list(kind)) out.push(JSON.stringify(o));
  return out;
}

/** The error `fn` throws, as `name: message`. */
function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('store: slots of handed-over objects in a bulk create', () => {
  it('adopts objects of kinds with back-references, writing version and lists in place', async () => {
    const ops = small();
    handOverBatch(ops);
    const store = createMemoryStore();
    try {
      await store.bulkCreate!(ops);
      for (const op of ops) {
        const stored = await store.get(op.kind, (op.object as { id: string }).id);
        expect(stored, `${op.kind}`).to.equal(op.object);
        expect(Object.isFrozen(stored)).to.equal(true);
        expect(stored!.version).to.equal(1);
      }
      const chain = (await store.get('chain', 'c'))!;
      expect(chain.ruleIds).to.deep.equal(['r1', 'r2']);
      expect(Object.isFrozen(chain.ruleIds)).to.equal(true);
      expect(chain.routerInboundIds).to.deep.equal(['r']);
      expect(chain.jumpRuleIds).to.equal(BACK_REFERENCE_SLOT); // empty: the placeholder itself
      expect((await store.get('router', 'r'))!.portIds).to.deep.equal(['p1']);
      expect((await store.get('port', 'p1'))!.peerId).to.equal('p2');
      // the field order is the literal's (back-references first for the router)
      expect(Object.keys((await store.get('router', 'r'))!).slice(0, 2)).to.deep.equal([
        'portIds',
        'routeIds',
      ]);
      expect(Object.keys(chain).at(-1)).to.equal('version');
      expect(BACK_REFERENCE_SLOT).to.deep.equal([]);
      expect(Object.isFrozen(BACK_REFERENCE_SLOT)).to.equal(true);
    } finally {
      await store.close();
    }
  });

  it('gives the same stored objects and snapshot bytes as copies of the same objects', async () => {
    const view = generateView({ size: 'S', seed: 5, gateways: 'shared-peer' });
    const plan = (): CreateOp[] => {
      const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
      const ops = buildPlan(mapped.desired, emptyActual(), false).storeOps as CreateOp[];
      freezeForStore(ops); // nested values frozen (and this list handed over)
      return ops.map((op) => create(op.kind, slotted(op.kind, op.object as unknown as Obj)));
    };
    const handed = plan();
    handOverBatch(handed);
    const copied = plan(); // not handed over: every object copied
    const bare = buildPlan(
      mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG).desired,
      emptyActual(),
      false,
    ).storeOps as CreateOp[]; // no slots, handed over as the reconciler does
    freezeForStore(bare);
    const dir = await mkdtemp(join(tmpdir(), 'store-slots-'));
    const stores: TopologyStore[] = [];
    try {
      const snapshots: string[][] = [];
      const objects: string[][] = [];
      for (const [name, ops] of [
        ['handed', handed],
        ['copied', copied],
        ['bare', bare],
      ] as const) {
        const store = await openFileStore(join(dir, name), { fsync: false });
        stores.push(store);
        await store.bulkCreate!(ops);
        const text = await readFile(join(dir, name, 'snapshot.ndjson'), 'utf8');
        snapshots.push(text.split('\n').slice(1, -2)); // without header and trailer
        objects.push(await json(store));
      }
      expect(objects[0]).to.deep.equal(objects[1]);
      expect(snapshots[0]).to.deep.equal(snapshots[1]);
      // objects without slots: the same fields and values (their order may differ)
      const parsed = (list: string[]): unknown[] => list.map((s) => JSON.parse(s));
      expect(parsed(objects[0]!)).to.deep.equal(parsed(objects[2]!));

      // which objects the handed-over run adopted: every one of every kind
      const adopted = new Map<Kind, number>();
      for (const op of handed) {
        const id = (op.object as { id: string }).id;
        if ((await stores[0]!.get(op.kind, id)) === (op.object as unknown))
          adopted.set(op.kind, (adopted.get(op.kind) ?? 0) + 1);
      }
      for (const kind of ['chain', 'router', 'bridge', 'port', 'rule', 'route'] as const)
        expect(adopted.get(kind) ?? 0, kind).to.be.greaterThan(0);
      const total = [...adopted.values()].reduce((a, b) => a + b, 0);
      expect(total).to.equal(handed.length);
      // and none of the copied run's
      for (const op of copied) {
        const id = (op.object as { id: string }).id;
        expect(await stores[1]!.get(op.kind, id)).to.not.equal(op.object);
        expect(Object.isFrozen(op.object)).to.equal(false);
      }
    } finally {
      for (const s of stores) await s.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a refused run and a check leave the handed-over objects as they were given', () => {
    const ops = small();
    ops.push(create('rule', slotted('rule', { id: 'r3', chainId: 'nope', type: 'accept' })));
    handOverBatch(ops);
    const before = ops.map((op) => ({ ...(op.object as unknown as Obj) }));
    const state = new StoreState();
    expect(() => runBulkCreate(state, ops)).to.throw(/chain\/nope/);
    const good = ops.slice(0, -1);
    handOverBatch(good);
    expect(checkBulkCreate(state, good)).to.equal(true);
    ops.forEach((op, i) => {
      const o = op.object as unknown as Obj;
      expect(Object.isFrozen(o)).to.equal(false);
      expect(Object.keys(o)).to.deep.equal(Object.keys(before[i]!));
      for (const k of Object.keys(o)) expect(o[k], `${op.kind}.${k}`).to.equal(before[i]![k]);
    });
    // so a run after them still adopts them
    const changes = runBulkCreate(state, good);
    expect(changes.find((c) => c.id === 'c')!.object).to.equal(good[0]!.object);
  });

  it('copies a port that a new port links to without naming it, leaving it as given', () => {
    const a = slotted('port', { id: 'pa', type: 'Bridge', bridgeId: 'b', peerId: 'pb' });
    const b = slotted('port', { id: 'pb', type: 'Router', routerId: 'r' });
    const ops = [
      create('router', slotted('router', { id: 'r', name: 'r' })),
      create('bridge', slotted('bridge', { id: 'b', name: 'b' })),
      create('port', b), // listed before the port that links to it: its route list is filled
      create(
        'route',
        slotted('route', {
          id: 'rt',
          routerId: 'r',
          type: 'Normal',
          nextHopPort: 'pb',
          dstNetworkAddr: '10.0.0.0',
          dstNetworkLength: 8,
          srcNetworkAddr: '0.0.0.0',
          srcNetworkLength: 0,
        }),
      ),
      create('port', a),
    ];
    handOverBatch(ops);
    const changes = runBulkCreate(new StoreState(), ops);
    const stored = (id: string): Obj => changes.find((c) => c.id === id)!.object as unknown as Obj;
    expect(stored('pa')).to.equal(a);
    expect(stored('pb')).to.not.equal(b);
    expect(stored('pb')).to.include({ peerId: 'pa', version: 1 });
    expect(stored('pb')['routeIds']).to.deep.equal(['rt']);
    expect(b).to.not.have.property('peerId');
    expect(b['routeIds']).to.equal(BACK_REFERENCE_SLOT);
    expect(b['version']).to.equal(0);
    expect(Object.isFrozen(b)).to.equal(false);
  });

  it('copies objects whose slots are not all placeholders, writable data fields', () => {
    const readOnly = slotted('chain', { id: 'c1', name: 'c1' });
    Object.defineProperty(readOnly, 'version', { value: 0, writable: false, enumerable: true });
    const readOnlyBack = slotted('chain', { id: 'c2', name: 'c2' });
    Object.defineProperty(readOnlyBack, 'ruleIds', { writable: false });
    let set = 0;
    const setter = slotted('chain', { id: 'c3', name: 'c3' });
    Object.defineProperty(setter, 'version', {
      enumerable: true,
      set: () => set++,
    });
    const partial = {
      id: 'c4',
      name: 'c4',
      metadata: NONE,
      ruleIds: BACK_REFERENCE_SLOT,
      version: 0,
    };
    const other = slotted('chain', { id: 'c5', name: 'c5' });
    other['ruleIds'] = Object.freeze(['x']);
    const inputs = [readOnly, readOnlyBack, setter, partial, other];
    const ops = inputs.map((o) => create('chain', o));
    ops.push(create('rule', slotted('rule', { id: 'r', chainId: 'c5', type: 'accept' })));
    handOverBatch(ops);
    const snapshot = inputs.map((o) => Object.getOwnPropertyDescriptors(o));
    const changes = runBulkCreate(new StoreState(), ops);
    inputs.forEach((o, i) => {
      const c = changes[i]!;
      expect(c.object, c.id).to.not.equal(o);
      expect(c.object).to.include({ version: 1 });
      expect(Object.getOwnPropertyDescriptors(o), c.id).to.deep.equal(snapshot[i]);
    });
    expect(set).to.equal(0);
    expect(changes[4]!.object).to.deep.include({ ruleIds: ['r'] });
  });

  it('refuses bad objects with slots with the error of the careful way', () => {
    const bad: [Kind, Obj][] = [
      ['chain', { id: 'c', name: 7 }],
      ['chain', { id: 'c', name: 'c', bogus: 1 }],
      ['chain', { id: 'bad id' }],
      ['router', { id: 'r', name: 'r', inboundFilterId: '' }],
      ['port', { id: 'p', type: 'Router' }],
      ['port', { id: 'p', type: 'Router', routerId: 'r', peerId: 'p' }],
      ['rule', { id: 'x', chainId: 'c', type: 'jump' }],
      [
        'rule',
        { id: 'x', chainId: 'c', type: 'accept', tpDst: Object.freeze({ start: 9, end: 1 }) },
      ],
      ['bridge', { id: 'b', name: 'b', inboundFilterId: 'nope' }],
    ];
    for (const [kind, o] of bad) {
      const handed = [create(kind, slotted(kind, o))];
      handOverBatch(handed);
      const careful = [create(kind, o)];
      const a = errorOf(() => runBulkCreate(new StoreState(), handed));
      const b = errorOf(() => runBulkCreate(new StoreState(), careful));
      expect(a, JSON.stringify(o)).to.equal(b);
      expect(a).to.not.equal('no error');
      expect(Object.isFrozen(handed[0]!.object)).to.equal(false);
    }
  });

  it('a transaction ignores version and back-reference fields as before', async () => {
    const store = createMemoryStore();
    try {
      const chain = slotted('chain', { id: 'c', name: 'c' });
      chain['ruleIds'] = ['r-none'];
      await store.transaction([create('chain', chain)]);
      const stored = (await store.get('chain', 'c'))!;
      expect(stored).to.not.equal(chain);
      expect(stored.ruleIds).to.deep.equal([]);
      expect(stored.version).to.equal(1);
      expect(chain['version']).to.equal(0);
    } finally {
      await store.close();
    }
  });
});
