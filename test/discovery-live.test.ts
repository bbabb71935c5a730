/**
 * `discoverLive` (views of an embedded store's maps) reads exactly what `discover` (a copy)
 * reads, stays equal to it through `refreshActual` as ours and foreign objects come and go, and
 * never returns an object that is not ours.
 */
import { expect } from 'chai';
import { derivedId } from '../src/common/index.js';
import { discover, discoverLive, refreshActual } from '../src/discovery/index.js';
import type { ActualTopology } from '../src/discovery/index.js';
import { createMemoryStore, KINDS, type Op, type TopologyStore } from '../src/store/index.js';

const ours = (key: string): string => derivedId(key);

function contents(a: ActualTopology): unknown {
  const objects = Object.fromEntries(
    KINDS.map((k) => [k, [...a.objects[k].entries()].sort(([x], [y]) => (x < y ? -1 : 1))]),
  );
  const sizes = Object.fromEntries(KINDS.map((k) => [k, a.objects[k].size]));
  const rules = [...a.unmanagedRules].sort(([x], [y]) => (x < y ? -1 : 1));
  return { objects, sizes, managed: a.managed, unmanaged: a.unmanaged, rules };
}

async function expectSame(store: TopologyStore, live: ActualTopology): Promise<void> {
  expect(contents(live)).to.deep.equal(contents(await discover(store)));
}

describe('discovery: live views of an embedded store', () => {
  let store: TopologyStore;
  beforeEach(() => (store = createMemoryStore()));
  afterEach(() => store.close());

  const chain = (id: string): Op => ({
    op: 'create',
    kind: 'chain',
    object: { id, name: id } as never,
  });
  const rule = (id: string, chainId: string): Op => ({
    op: 'create',
    kind: 'rule',
    object: { id, chainId, type: 'accept' } as never,
  });

  it('reads what discover reads, and follows commits through refreshActual', async () => {
    const c1 = ours('chain:1');
    await store.transaction([chain(c1), rule(ours('rule:1'), c1), rule('foreign-r2', c1)]);
    await store.transaction([chain('foreign-c'), rule('foreign-r1', c1)]);
    let live = await discoverLive(store);
    expect(live.managed).to.equal(2);
    expect(live.unmanaged).to.equal(3);
    await expectSame(store, live);

    // ours and foreign objects come and go
    await store.transaction([chain(ours('chain:2')), chain('foreign-d')]);
    await store.transaction([{ op: 'delete', kind: 'chain', id: 'foreign-c' }]);
    live = await refreshActual(store, live);
    await expectSame(store, live);
    await store.transaction([
      { op: 'delete', kind: 'rule', id: 'foreign-r2' },
      { op: 'delete', kind: 'chain', id: ours('chain:2') },
    ]);
    live = await refreshActual(store, live);
    await expectSame(store, live);
    expect(live.revision).to.equal(await store.revision());
  });

  it('never returns an object that is not ours, even one committed after the last refresh', async () => {
    await store.transaction([chain(ours('chain:1'))]);
    const live = await discoverLive(store);
    await store.transaction([chain('made-by-hand')]);
    const chains = live.objects.chain;
    expect(chains.get('made-by-hand')).to.equal(undefined);
    expect(chains.has('made-by-hand')).to.equal(false);
    expect([...chains.keys()]).to.deep.equal([ours('chain:1')]);
    expect([...chains.values()].map((c) => c.id)).to.deep.equal([ours('chain:1')]);
    const seen: string[] = [];
    chains.forEach((_, id) => seen.push(id));
    expect(seen).to.deep.equal([ours('chain:1')]);
    await expectSame(store, await refreshActual(store, live));
  });

  it('is a copy (discover) for a store without committed maps', async () => {
    await store.transaction([chain(ours('chain:1'))]);
    const remote = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'committedObjects') return undefined;
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const copy = await discoverLive(remote);
    await store.transaction([chain(ours('chain:2'))]);
    expect(copy.objects.chain.size, 'a snapshot does not see the later commit').to.equal(1);
    await expectSame(store, await refreshActual(remote, copy));
  });
});
