/**
 * Topology helpers for scenario tests: dump a store's managed objects in a normalized form
 * (writable fields only, sorted), so two stores can be compared for equality.
 */
import { expect } from 'chai';
import { isDerivedId } from '../../src/common/index.js';
import { writableView } from '../../src/reconciler/index.js';
import { KINDS } from '../../src/store/index.js';
import type { TopologyReader } from '../../src/store/index.js';

/** JSON with object keys sorted (key order never makes two objects differ). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(
          Object.entries(val as Record<string, unknown>).sort(([x], [y]) =>
            x < y ? -1 : x > y ? 1 : 0,
          ),
        )
      : val,
  );
}

/** `kind/id → writable fields` of every managed object, plus each chain's rule order. */
export async function dumpManaged(store: TopologyReader): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const kind of KINDS) {
    for (const o of await store.list(kind)) {
      if (!isDerivedId(o.id)) continue;
      const w = writableView(kind, o);
      if (kind === 'chain') w['ruleIds'] = (o as { ruleIds: readonly string[] }).ruleIds;
      out.set(`${kind}/${o.id}`, w);
    }
  }
  return out;
}

/** Asserts two stores hold the same managed topology, naming the first differences. */
export async function expectSameTopology(a: TopologyReader, b: TopologyReader): Promise<void> {
  const da = await dumpManaged(a);
  const db = await dumpManaged(b);
  const onlyA = [...da.keys()].filter((k) => !db.has(k));
  const onlyB = [...db.keys()].filter((k) => !da.has(k));
  expect(onlyA, 'objects only in the first store').to.deep.equal([]);
  expect(onlyB, 'objects only in the second store').to.deep.equal([]);
  const differ = [...da.keys()].filter(
    (k) => canonicalJson(da.get(k)) !== canonicalJson(db.get(k)),
  );
  expect(
    differ.slice(0, 5).map((k) => ({ k, a: da.get(k), b: db.get(k) })),
    'objects that differ',
  ).to.deep.equal([]);
}
