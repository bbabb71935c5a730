/**
 * Validation of objects that are already what the store keeps (the reconciler's desired
 * objects, nested values frozen): the quick shared copy gives what the careful field-by-field
 * copy gives, and a bad frozen object handed to the bulk path is still refused, with an error
 * naming the object and the field, and nothing applied.
 */
import { expect } from 'chai';
import { discover } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { buildPlan } from '../src/reconciler/index.js';
import { freezeForStore } from '../src/reconciler/share.js';
import {
  createMemoryStore,
  handOverBatch,
  InvalidFieldError,
  type Kind,
  type Op,
} from '../src/store/index.js';
import { normalizeObject } from '../src/store/validate.js';
import { generateView } from '../scripts/lib/gni-generator.js';
import { expectReject, storeContents } from './helpers/store-conformance-support.js';

type CreateOp = Extract<Op, { op: 'create' }>;
type Obj = Record<string, unknown>;

describe('store validation of frozen desired objects', () => {
  const view = generateView({ size: 'S', seed: 5, gateways: 'shared-peer' });
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);

  /** A fresh build plan of the mapped document, frozen as the reconciler hands it over. */
  async function frozenPlan(): Promise<CreateOp[]> {
    const plan = buildPlan(mapped.desired, await discover(createMemoryStore()), false);
    freezeForStore(plan.storeOps);
    return plan.storeOps as CreateOp[];
  }

  it('gives every desired object what the careful copy gives', async () => {
    const ops = await frozenPlan();
    const kinds = new Set<Kind>();
    for (const op of ops) {
      const input = op.object as unknown as Obj;
      const quick = normalizeObject(op.kind, input);
      // `version` is ignored by validation and sends the input the careful way
      const careful = normalizeObject(op.kind, { ...input, version: 9 });
      expect(quick, `${op.kind}/${String(input['id'])}`).to.deep.equal(careful);
      expect(quick).to.not.equal(input);
      // freezeForStore froze every nested value, so the store keeps each as it is
      for (const [k, v] of Object.entries(quick))
        if (typeof v === 'object' && v !== null && input[k] !== undefined)
          expect(v, `${op.kind}.${k} kept`).to.equal(input[k]);
      kinds.add(op.kind);
    }
    expect(kinds.size).to.be.greaterThan(10);
  });

  /** Replaces the first op of `kind` matching `pick` with `change(object)`, its nested values
   * frozen, in the same (handed-over) list. */
  function spoil(
    ops: CreateOp[],
    kind: Kind,
    pick: (o: Obj) => boolean,
    change: (o: Obj) => Obj,
  ): string {
    const i = ops.findIndex((op) => op.kind === kind && pick(op.object as unknown as Obj));
    expect(i, `a ${kind} to spoil`).to.be.at.least(0);
    // as the reconciler hands it over: nested values frozen, the object itself not (adoptable)
    const bad = change({ ...(ops[i]!.object as unknown as Obj) });
    for (const v of Object.values(bad)) deepFreeze(v);
    ops[i] = { ...ops[i]!, object: bad as never };
    return `${kind}/${String(bad['id'])}`;
  }

  const cases: [string, Kind, (o: Obj) => boolean, (o: Obj) => Obj, string][] = [
    [
      'a bad top-level value',
      'port',
      (o) => o['portMac'] !== undefined,
      (o) => ({ ...o, portMac: 'zz:00:00:00:00:01' }),
      'portMac must be a MAC address',
    ],
    [
      'a bad element of a frozen list',
      'ip-addr-group',
      (o) => Array.isArray(o['addresses']),
      (o) => ({ ...o, addresses: ['10.0.0.1', '10.0.0.300'] }),
      'addresses[1] must be an IPv4 address',
    ],
    [
      'a bad field of a frozen nested object',
      'rule',
      (o) => Array.isArray(o['natTargets']),
      (o) => ({
        ...o,
        natTargets: [{ ...(o['natTargets'] as Obj[])[0]!, portTo: 70000 }],
      }),
      'natTargets[0].portTo must be an integer in 0..65535',
    ],
    [
      'an unknown field of a frozen nested object',
      'rule',
      (o) => o['tpDst'] !== undefined,
      (o) => ({ ...o, tpDst: { ...(o['tpDst'] as Obj), step: 2 } }),
      'tpDst.step is not a field',
    ],
    [
      'a missing required field',
      'route',
      () => true,
      (o) => {
        const { routerId: _, ...rest } = o;
        return rest;
      },
      'routerId is required',
    ],
    [
      'a broken cross-field rule',
      'port',
      (o) => o['type'] === 'Router',
      (o) => ({ ...o, bridgeId: o['routerId'] }),
      'routerId is required (and bridgeId not allowed) on a Router port',
    ],
    [
      'an unknown top-level field',
      'chain',
      () => true,
      (o) => ({ ...o, colour: 'red' }),
      'colour is not a field',
    ],
  ];
  for (const [what, kind, pick, change, field] of cases) {
    it(`bulk create refuses ${what}, naming the object and the field, and applies nothing`, async () => {
      const ops = await frozenPlan();
      const label = spoil(ops, kind, pick, change);
      const store = createMemoryStore();
      const before = await storeContents(store);
      await expectReject(store.bulkCreate!(ops), InvalidFieldError, `invalid ${label}: ${field}`);
      expect(await store.revision()).to.equal(0);
      expect(await storeContents(store)).to.deep.equal(before);
      await store.close();
    });
  }

  it('a list of ops handed over whole lets a bulk create keep its objects; a copy of the list does not', async () => {
    const rule = (id: string) => ({ id, chainId: 'c', type: 'accept', nwProto: 6 });
    const ops = (r: Obj): CreateOp[] => [
      { op: 'create', kind: 'chain', object: { id: 'c', name: 'c' } as never },
      { op: 'create', kind: 'rule', object: r as never },
    ];
    const kept = rule('r1');
    const handed = ops(kept);
    handOverBatch(handed);
    const a = createMemoryStore();
    await a.bulkCreate!(handed);
    expect(await a.get('rule', 'r1')).to.equal(kept);
    expect(Object.isFrozen(kept)).to.equal(true);
    const copied = rule('r1');
    const list = ops(copied);
    handOverBatch(list);
    const b = createMemoryStore();
    await b.bulkCreate!([...list]);
    expect(await b.get('rule', 'r1')).to.not.equal(copied);
    expect(Object.isFrozen(copied)).to.equal(false);
    await a.close();
    await b.close();
  });

  it('reads a getter of the input once and keeps the value it read', () => {
    let reads = 0;
    const input = Object.defineProperty({ id: 'b1' }, 'name', {
      enumerable: true,
      get: () => `br-${reads++}`,
    });
    const out = normalizeObject('bridge', input);
    expect(out['name']).to.equal('br-0');
    expect(reads).to.equal(1);
    expect(Object.getOwnPropertyDescriptor(out, 'name')).to.have.property('value', 'br-0');
  });
});

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const e of Object.values(v)) deepFreeze(e);
    Object.freeze(v);
  }
  return v;
}
