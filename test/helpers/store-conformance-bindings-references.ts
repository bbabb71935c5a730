/**
 * Store conformance, 'bindings' (second part): references that block a delete (jump rules, IP
 * address groups), tunnel zone members, rule order in a chain, and several ops on one id in one
 * transaction.
 */
import { expect } from 'chai';
import {
  InvalidFieldError,
  NotFoundError,
  ReferencedError,
  type TopologyStore,
} from '../../src/store/index.js';
import {
  chain,
  create,
  del,
  host,
  router,
  routerPort,
  rule,
  update,
} from './store-conformance-ops.js';
import { expectReject, type ConformanceContext } from './store-conformance-support.js';

/** Declares the reference binding cases (the rest of the 'bindings' block, after the device ones). */
export function referenceBindingCases(ctx: ConformanceContext): void {
  const { get } = ctx;
  let store: TopologyStore;
  beforeEach(() => {
    store = ctx.store;
  });

  it('refuses to delete a chain a jump rule targets, but not when the rule goes in the same closure', async () => {
    await store.transaction([
      chain('c1'),
      chain('c2'),
      rule('j1', 'c1', { type: 'jump', jumpChainId: 'c2' }),
      rule('self', 'c2', { type: 'jump', jumpChainId: 'c2' }),
    ]);
    expect((await get('chain', 'c2'))?.['jumpRuleIds']).to.deep.equal(['j1', 'self']);
    await expectReject(
      store.transaction([del('chain', 'c2')]),
      ReferencedError,
      'chain/c2',
      'rule/j1',
    );
    expect(await get('chain', 'c2')).to.not.equal(undefined);
    // deleting c1 first (in the same transaction) removes j1: then c2 may go, and its own
    // self-jumping rule is inside the closure
    await store.transaction([del('chain', 'c1'), del('chain', 'c2')]);
    expect(await get('chain', 'c2')).to.equal(undefined);
    expect(await get('rule', 'self')).to.equal(undefined);
  });

  it('binds rule IP address group references (ERROR on delete) and keeps one entry per rule', async () => {
    await store.transaction([
      chain('c1'),
      create('ip-addr-group', { id: 'g1', name: 'sg-1', addresses: ['10.0.0.5', '10.0.0.6'] }),
      create('ip-addr-group', { id: 'g2', name: 'sg-2' }),
      rule('x1', 'c1', { ipAddrGroupSrc: 'g1', ipAddrGroupDst: 'g1', invIpAddrGroupDst: true }),
    ]);
    expect((await get('ip-addr-group', 'g1'))?.['ruleIds']).to.deep.equal(['x1']);
    await expectReject(
      store.transaction([del('ip-addr-group', 'g1')]),
      ReferencedError,
      'ip-addr-group/g1',
      'rule/x1',
    );
    await store.transaction([
      update('rule', {
        id: 'x1',
        chainId: 'c1',
        type: 'accept',
        ipAddrGroupSrc: 'g1',
        ipAddrGroupDst: 'g2',
      }),
    ]);
    expect((await get('ip-addr-group', 'g1'))?.['ruleIds']).to.deep.equal(['x1']);
    expect((await get('ip-addr-group', 'g2'))?.['ruleIds']).to.deep.equal(['x1']);
    await store.transaction([
      update('rule', { id: 'x1', chainId: 'c1', type: 'drop', ipAddrGroupDst: 'g2' }),
    ]);
    expect((await get('ip-addr-group', 'g1'))?.['ruleIds']).to.deep.equal([]);
    await store.transaction([del('ip-addr-group', 'g1')]);
    // deleting the chain cascades to the rule, which then no longer blocks g2
    await store.transaction([del('chain', 'c1'), del('ip-addr-group', 'g2')]);
    expect(await store.list('ip-addr-group')).to.deep.equal([]);
  });

  it('binds tunnel zone members (nested hosts[].hostId) both ways', async () => {
    await expectReject(
      store.transaction([
        create('tunnel-zone', {
          id: 'tz',
          name: 'tz',
          type: 'vxlan',
          hosts: [{ hostId: 'h9', ipAddress: '192.168.0.9' }],
        }),
      ]),
      NotFoundError,
      'host/h9',
    );
    await store.transaction([
      host('h1'),
      host('h2'),
      create('tunnel-zone', {
        id: 'tz',
        name: 'tz',
        type: 'vxlan',
        hosts: [
          { hostId: 'h1', ipAddress: '192.168.0.1' },
          { hostId: 'h2', ipAddress: '192.168.0.2' },
        ],
      }),
    ]);
    expect((await get('host', 'h1'))?.['tunnelZoneIds']).to.deep.equal(['tz']);
    await store.transaction([del('host', 'h1')]);
    expect((await get('tunnel-zone', 'tz'))?.['hosts']).to.deep.equal([
      { hostId: 'h2', ipAddress: '192.168.0.2' },
    ]);
    await store.transaction([del('tunnel-zone', 'tz')]);
    expect((await get('host', 'h2'))?.['tunnelZoneIds']).to.deep.equal([]);
  });

  it('orders rules: appended by default, inserted at a 1-based position, reordered by a permutation', async () => {
    await store.transaction([chain('c1'), rule('a', 'c1'), rule('b', 'c1')]);
    await store.transaction([rule('c', 'c1', {}, 1), rule('d', 'c1', {}, 3)]);
    expect((await get('chain', 'c1'))?.['ruleIds']).to.deep.equal(['c', 'a', 'd', 'b']);
    await expectReject(store.transaction([rule('e', 'c1', {}, 9)]), InvalidFieldError, 'position');
    await store.transaction([
      update('chain', { id: 'c1', name: 'chain-c1', ruleIds: ['a', 'b', 'c', 'd'] }),
    ]);
    expect((await get('chain', 'c1'))?.['ruleIds']).to.deep.equal(['a', 'b', 'c', 'd']);
    await expectReject(
      store.transaction([update('chain', { id: 'c1', name: 'x', ruleIds: ['a', 'b'] })]),
      InvalidFieldError,
      'permutation',
    );
    await store.transaction([del('rule', 'b')]);
    expect((await get('chain', 'c1'))?.['ruleIds']).to.deep.equal(['a', 'c', 'd']);
  });

  it('handles a delete already done by a cascade in the same transaction (ignoreMissing)', async () => {
    await store.transaction([router('r1'), routerPort('p1', 'r1')]);
    await expectReject(
      store.transaction([del('router', 'r1'), del('port', 'p1')]),
      NotFoundError,
      'port/p1',
    );
    const { revision } = await store.transaction([
      del('router', 'r1'),
      del('port', 'p1', { ignoreMissing: true }),
    ]);
    expect(revision).to.equal(2);
    expect(await store.list('port')).to.deep.equal([]);
  });

  it('allows delete then create of the same id in one transaction', async () => {
    await store.transaction([router('r1'), routerPort('p1', 'r1')]);
    await store.transaction([del('router', 'r1'), router('r1', { name: 'again' })]);
    const r = await get('router', 'r1');
    expect(r).to.include({ name: 'again', version: 2 });
    expect(r?.['portIds']).to.deep.equal([]);
  });
}
