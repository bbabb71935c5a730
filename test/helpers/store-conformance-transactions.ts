/**
 * Store conformance, 'transactions and errors': all-or-nothing commits, the typed errors
 * (missing references, expected versions, field validation), frozen objects and serialized
 * concurrent transactions.
 */
import { expect } from 'chai';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  type Op,
  type TopologyStore,
} from '../../src/store/index.js';
import {
  bridge,
  bridgePort,
  create,
  del,
  router,
  routerPort,
  rule,
  update,
  type Obj,
} from './store-conformance-ops.js';
import { expectReject, type ConformanceContext } from './store-conformance-support.js';

/** Declares the 'transactions and errors' cases (inside that describe block). */
export function transactionCases(ctx: ConformanceContext): void {
  const { get } = ctx;
  let store: TopologyStore;
  beforeEach(() => {
    store = ctx.store;
  });

  it('commits all ops or none: a failing op leaves no trace and no revision', async () => {
    await store.transaction([router('r1')]);
    await expectReject(
      store.transaction([router('r2'), routerPort('p1', 'r2'), router('r1')]),
      AlreadyExistsError,
      'router/r1',
    );
    expect(await get('router', 'r2')).to.equal(undefined);
    expect(await get('port', 'p1')).to.equal(undefined);
    expect((await get('router', 'r1'))?.['portIds']).to.deep.equal([]);
    expect(await store.revision()).to.equal(1);
  });

  it('refuses a reference to a missing object, naming both objects', async () => {
    await expectReject(
      store.transaction([routerPort('p1', 'ghost')]),
      NotFoundError,
      'port/p1',
      'router/ghost',
    );
    await expectReject(
      store.transaction([bridge('b1', { inboundFilterId: 'nochain' })]),
      NotFoundError,
      'bridge/b1',
      'chain/nochain',
    );
  });

  it('throws NotFoundError for update or delete of a missing object', async () => {
    await expectReject(
      store.transaction([update('router', { id: 'r9', name: 'x' })]),
      NotFoundError,
      'router/r9',
    );
    await expectReject(store.transaction([del('router', 'r9')]), NotFoundError, 'router/r9');
    const r = await store.transaction([del('router', 'r9', { ignoreMissing: true })]);
    expect(r.revision).to.equal(0);
  });

  it('checks expected versions (ConcurrentModificationError)', async () => {
    await store.transaction([router('r1')]);
    await store.transaction([update('router', { id: 'r1', name: 'x' }, 1)]);
    expect((await get('router', 'r1'))?.['version']).to.equal(2);
    await expectReject(
      store.transaction([update('router', { id: 'r1', name: 'y' }, 1)]),
      ConcurrentModificationError,
      'router/r1',
    );
    await expectReject(
      store.transaction([del('router', 'r1', { expectedVersion: 1 })]),
      ConcurrentModificationError,
    );
    await store.transaction([del('router', 'r1', { expectedVersion: 2 })]);
    expect(await get('router', 'r1')).to.equal(undefined);
  });

  it('validates fields (InvalidFieldError naming kind/id and the field)', async () => {
    const cases: [Op, string][] = [
      [router('r1', { name: undefined }), 'name'],
      [router('r1', { adminStateUp: 'yes' }), 'adminStateUp'],
      [router('r1', { color: 'red' }), 'color'],
      [create('host', { id: 'h1', name: 'h', addresses: ['300.1.1.1'] }), 'addresses[0]'],
      [bridgePort('p1', 'b1', { portMac: 'zz:zz' }), 'portMac'],
      [create('port', { id: 'p1', type: 'Router', bridgeId: 'b1' }), 'routerId'],
      [create('port', { id: 'p1', type: 'Bridge' }), 'bridgeId'],
      [rule('x1', 'c1', { type: 'jump' }), 'jumpChainId'],
      [rule('x1', 'c1', { type: 'dnat' }), 'natTargets'],
      [rule('x1', 'c1', { nwSrcLength: 33 }), 'nwSrcLength'],
      [rule('x1', 'c1', { tpDst: { start: 90, end: 80 } }), 'tpDst'],
      [
        create('route', {
          id: 'rt1',
          routerId: 'r1',
          type: 'Normal',
          srcNetworkAddr: '0.0.0.0',
          srcNetworkLength: 0,
          dstNetworkAddr: '10.0.0.0',
          dstNetworkLength: 8,
        }),
        'nextHopPort',
      ],
      [
        create('dhcp-subnet', {
          id: 'd1',
          bridgeId: 'b1',
          subnetPrefix: '10.0.0.0',
          subnetLength: 24,
          hosts: [{ macAddr: 'aa:bb:cc:dd:ee:ff', ipAddr: 'x' }],
        }),
        'hosts[0].ipAddr',
      ],
    ];
    for (const [op, field] of cases) {
      const id = ((op as { object: Obj }).object['id'] as string) ?? '?';
      await expectReject(store.transaction([op]), InvalidFieldError, `${op.kind}/${id}`, field);
    }
    await expectReject(
      store.transaction([{ op: 'create', kind: 'widget', object: {} } as unknown as Op]),
      InvalidFieldError,
      'widget',
    );
    expect(await store.revision()).to.equal(0);
  });

  it('hands out frozen objects that later writes do not change', async () => {
    await store.transaction([router('r1')]);
    const before = (await get('router', 'r1'))!;
    expect(Object.isFrozen(before)).to.equal(true);
    expect(Object.isFrozen(before['portIds'])).to.equal(true);
    await store.transaction([routerPort('p1', 'r1')]);
    expect(before['portIds']).to.deep.equal([]);
    expect((await get('router', 'r1'))?.['portIds']).to.deep.equal(['p1']);
  });

  it('serializes concurrent transactions (no lost back-reference)', async () => {
    await store.transaction([router('r1')]);
    const ops = Array.from({ length: 20 }, (_, i) =>
      store.transaction([routerPort(`p${i}`, 'r1')]),
    );
    const revs = (await Promise.all(ops)).map((r) => r.revision);
    expect(new Set(revs).size).to.equal(20);
    expect(((await get('router', 'r1'))?.['portIds'] as string[]).length).to.equal(20);
  });
}
