/**
 * The mapping writes the store's slots into every desired object (src/mapping/slots.ts), so a
 * cold build's bulk create adopts each one as the stored object instead of copying or
 * reshaping it. A mapper whose literal lacks a slot still builds correctly (the store copies
 * the object), so only this test notices it.
 */
import { expect } from 'chai';
import { emptyActual } from '../src/discovery/index.js';
import type { GlobalView } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  serializeDesired,
} from '../src/mapping/index.js';
import { buildPlan } from '../src/reconciler/index.js';
import { freezeForStore } from '../src/reconciler/share.js';
import { prepareBulkCreate, type CreateOp } from '../src/store/bulk.js';
import { StoreState } from '../src/store/state.js';
import { KINDS, type Kind } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import { testView } from './helpers/mapping-view.js';

/** Per kind, how many objects a bulk create of a fresh mapping of `view` adopted and copied,
 * and the mapping serialized before and after the commit. */
function build(view: GlobalView) {
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  const before = serializeDesired(mapped.desired);
  const ops = buildPlan(mapped.desired, emptyActual(), false).storeOps as CreateOp[];
  freezeForStore(ops);
  const made = prepareBulkCreate(new StoreState(), ops);
  const given = new Map(ops.map((op) => [op.object.id, op.object as object]));
  const adopted = new Map<Kind, number>();
  const copied: string[] = [];
  for (const [kind, objects] of made.created)
    for (const [id, obj] of objects) {
      if (given.get(id) === obj) adopted.set(kind, (adopted.get(kind) ?? 0) + 1);
      else copied.push(`${kind}/${id}`);
    }
  return { mapped, ops, made, adopted, copied, before };
}

describe('mapping: the store slots in desired objects', () => {
  for (const [name, view] of [
    ['the medium sample', () => viewOf(loadDoc(repoPath('fixtures/gni/medium.xml')))],
    ['the mapping test view (NAT gateway, elastic IPs, every rule form)', () => testView()],
  ] as const) {
    it(`a bulk create adopts every object of ${name}, of every kind, as it is`, () => {
      const r = build(view());
      expect(r.copied).to.deep.equal([]);
      let total = 0;
      for (const n of r.adopted.values()) total += n;
      expect(total).to.equal(r.ops.length);
      // kinds with back-references are among them (they were copied before the slots)
      for (const kind of ['router', 'bridge', 'port', 'chain', 'ip-addr-group', 'host'] as Kind[])
        expect(r.adopted.get(kind) ?? 0, kind).to.be.greaterThan(0);
    });

    it(`the desired objects of ${name} serialize the same before and after the store adopted them`, () => {
      const r = build(view());
      // adopted objects now hold version 1 and the store's lists in their slots
      const rule = r.mapped.desired.rule.values().next().value as { version?: number };
      expect(rule.version).to.equal(1);
      expect(Object.isFrozen(rule)).to.equal(true);
      expect(serializeDesired(r.mapped.desired)).to.equal(r.before);
    });
  }

  it('an object without its slots is still created, copied, with the same stored fields', () => {
    const r = build(testView());
    const mapped = mapTopology(testView(), emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const ops = (buildPlan(mapped.desired, emptyActual(), false).storeOps as CreateOp[]).map(
      (op) => {
        if (op.kind !== 'router') return op;
        const { version: _v, portIds: _p, ...rest } = op.object as Record<string, unknown>;
        return { ...op, object: rest as never };
      },
    );
    freezeForStore(ops);
    const made = prepareBulkCreate(new StoreState(), ops);
    for (const kind of KINDS) {
      const a = [...(r.made.created.get(kind) ?? new Map()).values()];
      const b = [...(made.created.get(kind) ?? new Map()).values()];
      const sorted = (xs: object[]) =>
        xs.map((x) => JSON.stringify(x, Object.keys(x).sort())).sort();
      expect(sorted(b), kind).to.deep.equal(sorted(a));
    }
    const routers = made.created.get('router')!;
    for (const op of ops)
      if (op.kind === 'router') expect(routers.get(op.object.id)).to.not.equal(op.object);
  });
});
