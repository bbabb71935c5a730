/**
 * Store conformance, 'watch': commits streamed in order from a revision, nothing for failed
 * transactions, each commit once per watcher, and no writes after close.
 */
import { expect } from 'chai';
import { StoreError, type ChangeEvent, type TopologyStore } from '../../src/store/index.js';
import { del, router, routerPort } from './store-conformance-ops.js';
import { expectReject, type ConformanceContext } from './store-conformance-support.js';

/** The next `n` events of a watch (fewer if it ends first). */
async function take(it: AsyncIterator<ChangeEvent>, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Declares the 'watch' cases (inside that describe block). */
export function watchCases(ctx: ConformanceContext): void {
  let store: TopologyStore;
  beforeEach(() => {
    store = ctx.store;
  });

  it('streams commits in order, with cascades and back-reference updates, from a revision', async () => {
    await store.transaction([router('r1')]);
    await store.transaction([routerPort('p1', 'r1')]);
    const ac = new AbortController();
    const it = store.watch(1, ac.signal)[Symbol.asyncIterator]();
    const first = await take(it, 1);
    expect(first[0]?.revision).to.equal(2);
    expect(first[0]?.changes.map((c) => `${c.type} ${c.kind}/${c.id}`).sort()).to.deep.equal([
      'created port/p1',
      'updated router/r1',
    ]);
    const next = it.next();
    await store.transaction([del('router', 'r1')]);
    const ev = (await next).value as ChangeEvent;
    expect(ev.revision).to.equal(3);
    expect(ev.changes.map((c) => `${c.type} ${c.kind}/${c.id}`).sort()).to.deep.equal([
      'deleted port/p1',
      'deleted router/r1',
    ]);
    ac.abort();
    expect((await it.next()).done).to.equal(true);
  });

  it('delivers nothing for a failed transaction and each commit once to every watcher', async () => {
    const ac = new AbortController();
    const a = store.watch(0, ac.signal)[Symbol.asyncIterator]();
    const b = store.watch(0, ac.signal)[Symbol.asyncIterator]();
    await store.transaction([router('r1')]);
    await store.transaction([router('r1')]).catch(() => undefined);
    await store.transaction([router('r2')]);
    for (const it of [a, b]) {
      const evs = await take(it, 2);
      expect(evs.map((e) => e.revision)).to.deep.equal([1, 2]);
      expect(evs[1]?.changes[0]?.object?.id).to.equal('r2');
    }
    ac.abort();
  });

  it('refuses writes after close', async () => {
    await store.close();
    await expectReject(store.transaction([router('r1')]), StoreError);
  });
}
