/**
 * The store keeps a frozen, plain, valid nested value of a written object as it is (one copy
 * for the store and the writer); anything else is copied and frozen, so no caller can change a
 * stored object after the commit.
 */
import { expect } from 'chai';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';

describe('store: sharing nested values', () => {
  let store: TopologyStore;
  beforeEach(() => (store = createMemoryStore()));
  afterEach(() => store.close());

  const group = (id: string, addresses: readonly string[]) =>
    ({ id, name: `g-${id}`, addresses }) as never;

  it('keeps a frozen list as it is and copies an unfrozen one', async () => {
    const frozen = Object.freeze(['10.0.0.1', '10.0.0.2']);
    const open = ['10.0.0.3'];
    await store.transaction([
      { op: 'create', kind: 'ip-addr-group', object: group('a', frozen) },
      { op: 'create', kind: 'ip-addr-group', object: group('b', open) },
    ]);
    const a = await store.get('ip-addr-group', 'a');
    const b = await store.get('ip-addr-group', 'b');
    expect(a!.addresses).to.equal(frozen);
    expect(b!.addresses).to.not.equal(open);
    open.push('10.0.0.4');
    open[0] = '10.9.9.9';
    expect((await store.get('ip-addr-group', 'b'))!.addresses).to.deep.equal(['10.0.0.3']);
  });

  it('copies a frozen value that validation changes, leaving the input as it was', async () => {
    const hosts = Object.freeze([
      Object.freeze({ macAddr: 'AA:BB:CC:00:00:01', ipAddr: '10.0.0.5', name: 'h1' }),
    ]);
    await store.transaction([
      { op: 'create', kind: 'bridge', object: { id: 'br', name: 'br' } as never },
      {
        op: 'create',
        kind: 'dhcp-subnet',
        object: {
          id: 'd',
          bridgeId: 'br',
          subnetPrefix: '10.0.0.0',
          subnetLength: 24,
          hosts,
        } as never,
      },
    ]);
    const stored = (await store.get('dhcp-subnet', 'd'))!;
    expect(stored.hosts).to.not.equal(hosts);
    expect(stored.hosts[0]!.macAddr).to.equal('aa:bb:cc:00:00:01');
    expect(hosts[0]!.macAddr).to.equal('AA:BB:CC:00:00:01');
  });

  it('does not keep a frozen object with a getter or a foreign prototype', async () => {
    let n = 0;
    const tricky = Object.freeze(
      Object.defineProperty({ start: 80 }, 'end', { get: () => 80 + n++, enumerable: true }),
    );
    class Range {
      readonly start = 1;
      readonly end = 2;
    }
    const foreign = Object.freeze(new Range());
    await store.transaction([
      { op: 'create', kind: 'chain', object: { id: 'c', name: 'c' } as never },
      {
        op: 'create',
        kind: 'rule',
        object: { id: 'r1', chainId: 'c', type: 'accept', tpDst: tricky } as never,
      },
    ]);
    const r1 = (await store.get('rule', 'r1'))!;
    expect(r1.tpDst).to.not.equal(tricky);
    const end = r1.tpDst!.end;
    expect(r1.tpDst!.end).to.equal(end);
    await store.transaction([
      {
        op: 'create',
        kind: 'rule',
        object: { id: 'r2', chainId: 'c', type: 'accept', tpDst: foreign } as never,
      },
    ]);
    const r2 = (await store.get('rule', 'r2'))!;
    expect(r2.tpDst).to.not.equal(foreign);
    expect(r2.tpDst).to.deep.equal({ start: 1, end: 2 });
  });

  it('stored nested values and defaults are frozen: a mutation attempt throws', async () => {
    await store.transaction([
      { op: 'create', kind: 'ip-addr-group', object: group('a', ['10.0.0.1']) },
      { op: 'create', kind: 'ip-addr-group', object: { id: 'e', name: 'e' } as never },
    ]);
    const a = (await store.get('ip-addr-group', 'a'))!;
    const e = (await store.get('ip-addr-group', 'e'))!;
    expect(() => (a.addresses as string[]).push('10.0.0.2')).to.throw(TypeError);
    expect(Object.isFrozen(e.addresses)).to.equal(true);
    expect(() => (e.addresses as string[]).push('10.0.0.2')).to.throw(TypeError);
    expect(() => ((a as { name: string }).name = 'x')).to.throw(TypeError);
    expect((await store.get('ip-addr-group', 'e'))!.addresses).to.deep.equal([]);
  });
});
