/**
 * Store conformance, 'reads and revisions': revisions per commit, get/getByName/list, defaults,
 * versions and server-owned back-references.
 */
import { expect } from 'chai';
import type { TopologyStore } from '../../src/store/index.js';
import { chain, router, routerPort, update } from './store-conformance-ops.js';
import type { ConformanceContext } from './store-conformance-support.js';

/** Declares the 'reads and revisions' cases (inside that describe block). */
export function readCases(ctx: ConformanceContext): void {
  const { get } = ctx;
  let store: TopologyStore;
  beforeEach(() => {
    store = ctx.store;
  });

  it('starts empty at revision 0 and gives each commit the next revision', async () => {
    expect(await store.revision()).to.equal(0);
    expect(await store.list('router')).to.deep.equal([]);
    expect((await store.transaction([router('r1')])).revision).to.equal(1);
    expect((await store.transaction([router('r2')])).revision).to.equal(2);
    expect(await store.revision()).to.equal(2);
  });

  it('gets by id and by name, lists by id order and filters by field', async () => {
    await store.transaction([
      router('r2', { name: 'b' }),
      router('r1', { name: 'a', tenantId: 't1' }),
      router('r3', { name: 'c', tenantId: 't1' }),
    ]);
    expect((await get('router', 'r1'))?.['name']).to.equal('a');
    expect(await get('router', 'nope')).to.equal(undefined);
    expect((await store.getByName('router', 'b'))?.id).to.equal('r2');
    expect(await store.getByName('router', 'zzz')).to.equal(undefined);
    expect((await store.list('router')).map((r) => r.id)).to.deep.equal(['r1', 'r2', 'r3']);
    expect((await store.list('router', { tenantId: 't1' })).map((r) => r.id)).to.deep.equal([
      'r1',
      'r3',
    ]);
  });

  it('applies defaults, sets version 1, fills empty back-references and lower-cases MACs', async () => {
    await store.transaction([router('r1'), routerPort('p1', 'r1')]);
    const r = await get('router', 'r1');
    expect(r).to.include({ id: 'r1', version: 1, adminStateUp: true });
    expect(r?.['portIds']).to.deep.equal(['p1']);
    expect(r?.['routeIds']).to.deep.equal([]);
    expect((await get('port', 'p1'))?.['portMac']).to.equal('aa:bb:cc:00:00:01');
  });

  it('ignores back-reference fields and version sent by clients', async () => {
    await store.transaction([router('r1', { portIds: ['x', 'y'], version: 42 })]);
    const r = await get('router', 'r1');
    expect(r?.['portIds']).to.deep.equal([]);
    expect(r?.['version']).to.equal(1);
    await store.transaction([update('router', { id: 'r1', name: 'n', portIds: ['z'] })]);
    expect((await get('router', 'r1'))?.['portIds']).to.deep.equal([]);
  });

  it('finds a renamed object by its new name only', async () => {
    await store.transaction([chain('c1', { name: 'old' })]);
    await store.transaction([update('chain', { id: 'c1', name: 'new' })]);
    expect(await store.getByName('chain', 'old')).to.equal(undefined);
    expect((await store.getByName('chain', 'new'))?.id).to.equal('c1');
  });
}
