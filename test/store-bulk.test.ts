/**
 * Bulk creates (`bulkCreate`): the same store state as the chunked transactions of a
 * reconcile plan, the same errors as a transaction (and nothing applied on one), and on the file
 * store one commit written as a snapshot that a reopen, a follower and a watch all see.
 */
import { expect } from 'chai';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { applyOps, buildPlan, diffTopology } from '../src/reconciler/index.js';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  createMemoryStore,
  ReferencedError,
  RevisionCompactedError,
  InvalidFieldError,
  KINDS,
  NotFoundError,
  openFileStore,
  ReferenceConflictError,
  type ChangeEvent,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { generateView } from '../scripts/lib/gni-generator.js';
import {
  bridge,
  bridgePort,
  chain,
  create,
  host,
  router,
  routerPort,
  rule,
} from './helpers/store-conformance.js';
import { expectReject, storeContents as contents } from './helpers/store-conformance-support.js';

type CreateOp = Extract<Op, { op: 'create' }>;
const creates = (ops: Op[]): CreateOp[] => ops as CreateOp[];

describe('store bulk create', () => {
  const view = generateView({ size: 'S', seed: 3, gateways: 'shared-peer' });
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);

  it('gives the state the chunked transactions of the diff give, in one commit', async () => {
    const viaTx = createMemoryStore();
    const plan = diffTopology(mapped.desired, await discover(viaTx), mapped.held);
    await applyOps(viaTx, plan.storeOps, { chunkSize: 500 });
    const viaBulk = createMemoryStore();
    const build = buildPlan(mapped.desired, await discover(viaBulk), false);
    expect(build.counts.create).to.equal(plan.counts.create);
    const { revision } = await viaBulk.bulkCreate!(creates([...build.storeOps]));
    expect(revision).to.equal(1);
    expect(await contents(viaBulk)).to.deep.equal(await contents(viaTx));
    // the kinds the bulk created whole have their name index (and get) like the others
    for (const kind of ['chain', 'ip-addr-group', 'router', 'bridge'] as const) {
      const all = await viaTx.list(kind);
      expect(all.length, kind).to.be.greaterThan(0);
      for (const o of all) {
        expect((await viaBulk.getByName(kind, o.name))?.id).to.equal(
          (await viaTx.getByName(kind, o.name))?.id,
        );
        expect(await viaBulk.get(kind, o.id)).to.deep.equal({ ...o, version: 1 });
      }
    }
    // and the diff then finds nothing to do
    const again = diffTopology(mapped.desired, await discover(viaBulk), mapped.held);
    expect(again.storeOps).to.deep.equal([]);
  });

  it('plans every rule once in its chain order, also when a chain lists a rule twice or not at all', async () => {
    const rules = mapped.desired.rule;
    const chains = new Map(mapped.desired.chain);
    const long = [...chains.values()].filter((c) => (c.ruleIds ?? []).length >= 2);
    const [c1, c2] = long.map((c) => ({ id: c.id, ruleIds: c.ruleIds ?? [] }));
    // c1 lists its first rule twice; c2 forgets its last rule
    chains.set(c1!.id, { ...chains.get(c1!.id)!, ruleIds: [...c1!.ruleIds, c1!.ruleIds[0]!] });
    chains.set(c2!.id, { ...chains.get(c2!.id)!, ruleIds: c2!.ruleIds.slice(0, -1) });
    for (const desired of [mapped.desired, { ...mapped.desired, chain: chains }]) {
      const plan = buildPlan(desired, await discover(createMemoryStore()), false);
      const planned = plan.storeOps
        .filter((o) => o.kind === 'rule')
        .map((o) => (o as CreateOp).object.id);
      expect(planned).to.have.length(rules.size);
      expect(new Set(planned).size).to.equal(rules.size);
      // every chain's rules come in the chain's order
      for (const c of [c1!, c2!]) {
        const order = planned.filter((id) => rules.get(id)!.chainId === c.id);
        expect(order).to.deep.equal(c.ruleIds);
      }
    }
  });

  it('plans every rule once also when a long rule list (checked with a set) repeats one', async () => {
    const desired = Object.fromEntries(KINDS.map((k) => [k, new Map()])) as unknown as Record<
      string,
      Map<string, object>
    >;
    const ids = Array.from({ length: 40 }, (_, i) => `r${i}`);
    for (const id of ids) desired['rule']!.set(id, { id, chainId: 'c', type: 'accept' });
    // r0 listed twice, r39 in no list: as many entries as rules, so only the repeat check sees it
    desired['chain']!.set('c', { id: 'c', name: 'c', ruleIds: [...ids.slice(0, 39), 'r0'] });
    const plan = buildPlan(desired as never, await discover(createMemoryStore()), false);
    const planned = plan.storeOps
      .filter((o) => o.kind === 'rule')
      .map((o) => (o as CreateOp).object.id);
    expect(planned).to.deep.equal(ids);
  });

  it('links a target named twice in a list once, as a transaction does', async () => {
    const ops = (): CreateOp[] =>
      creates([
        host('h1'),
        host('h2'),
        create('tunnel-zone', {
          id: 'tz',
          name: 'tz',
          type: 'gre',
          hosts: [
            { hostId: 'h1', ipAddress: '10.0.0.1' },
            { hostId: 'h2', ipAddress: '10.0.0.2' },
            { hostId: 'h1', ipAddress: '10.0.0.3' },
          ],
        }),
        create('port-group', { id: 'g1', name: 'g1' }),
        create('port-group', { id: 'g2', name: 'g2' }),
        bridge('b1'),
        bridgePort('p1', 'b1', { portGroupIds: ['g1', 'g2', 'g1'] }),
        bridgePort('p2', 'b1', { portGroupIds: ['g1'] }),
      ]);
    const viaTx = createMemoryStore();
    await viaTx.transaction(ops());
    const viaBulk = createMemoryStore();
    await viaBulk.bulkCreate!(ops());
    expect(await contents(viaBulk)).to.deep.equal(await contents(viaTx));
    expect((await viaBulk.get('port-group', 'g1'))!.portIds).to.deep.equal(['p1', 'p2']);
    expect((await viaBulk.get('host', 'h1'))!.tunnelZoneIds).to.deep.equal(['tz']);
    // and a missing target is named, whichever place of the list it takes
    const bad = creates([bridge('b2'), bridgePort('p9', 'b2', { portGroupIds: ['nope', 'nope'] })]);
    await expectReject(viaBulk.bulkCreate!(bad), NotFoundError, 'port-group/nope');
  });

  it('links back-references of existing objects, rule positions and peers', async () => {
    const store = createMemoryStore();
    await store.transaction([host('h1'), router('r0'), routerPort('p0', 'r0')]);
    await store.bulkCreate!(
      creates([
        bridge('b1'),
        bridgePort('p1', 'b1', { hostId: 'h1', peerId: 'p2' }),
        router('r1'),
        routerPort('p2', 'r1', { peerId: 'p1' }),
        bridgePort('p3', 'b1', { peerId: 'p0' }),
        chain('c1'),
        rule('x1', 'c1'),
        rule('x2', 'c1'),
        rule('x0', 'c1', {}, 1),
      ]),
    );
    expect((await store.get('host', 'h1'))!.portIds).to.deep.equal(['p1']);
    expect((await store.get('host', 'h1'))!.version).to.equal(2);
    expect((await store.get('bridge', 'b1'))!.portIds).to.deep.equal(['p1', 'p3']);
    expect((await store.get('port', 'p2'))!.peerId).to.equal('p1');
    expect((await store.get('port', 'p0'))!.peerId).to.equal('p3');
    expect((await store.get('chain', 'c1'))!.ruleIds).to.deep.equal(['x0', 'x1', 'x2']);
    expect(Object.isFrozen(await store.get('chain', 'c1'))).to.equal(true);
    // announced but not kept in the watch history: resuming from before it means re-listing
    const it = store.watch(1)[Symbol.asyncIterator]();
    await expectReject(it.next(), RevisionCompactedError, 'history starts after revision 2');
    await store.close();
  });

  const refusals: [string, () => Op[], abstract new (...a: never[]) => Error, string][] = [
    ['a repeated id', () => [bridge('b1'), bridge('b1')], AlreadyExistsError, 'bridge/b1'],
    ['an existing id', () => [bridge('b0')], AlreadyExistsError, 'bridge/b0'],
    [
      'a dangling reference',
      () => [bridgePort('p1', 'nope')],
      NotFoundError,
      'port/p1: bridgeId references bridge/nope',
    ],
    ['an invalid field', () => [router('r1', { asNumber: -1 })], InvalidFieldError, 'router/r1'],
    [
      'an op that is not a create',
      () => [{ op: 'delete', kind: 'bridge', id: 'b0' }],
      InvalidFieldError,
      'every op must be a create',
    ],
    [
      'a peer already linked',
      () => [bridgePort('p1', 'b0', { peerId: 'p0' }), bridgePort('p2', 'b0', { peerId: 'p0' })],
      ReferenceConflictError,
      'port/p0',
    ],
    [
      'a rule position out of range',
      () => [chain('c1'), rule('x1', 'c1', {}, 3)],
      InvalidFieldError,
      'position 3',
    ],
  ];
  for (const [what, ops, type, text] of refusals) {
    it(`refuses ${what} and applies nothing`, async () => {
      const store = createMemoryStore();
      await store.transaction([bridge('b0'), bridgePort('p0', 'b0')]);
      const before = await contents(store);
      await expectReject(store.bulkCreate!(creates(ops())), type, text);
      expect(await store.revision()).to.equal(1);
      expect(await contents(store)).to.deep.equal(before);
    });
  }

  describe('bulk delete', () => {
    /** A store with the mapped topology, a foreign rule in one of its chains and a foreign
     * router whose port peers with a new port on a managed bridge. */
    async function built(): Promise<TopologyStore> {
      const store = createMemoryStore();
      const plan = buildPlan(mapped.desired, await discover(store), false);
      await store.bulkCreate!(creates([...plan.storeOps]));
      const notCore = (o: { owner: string }): boolean => !['core', 'md', 'hosts'].includes(o.owner);
      const someChain = [...mapped.desired.chain.values()].find(notCore)!.id;
      const someBridge = [...mapped.desired.bridge.values()].find(notCore)!.id;
      await store.transaction([
        rule('foreign-rule', someChain),
        router('foreign-router'),
        routerPort('foreign-port', 'foreign-router'),
        bridgePort('foreign-bp', someBridge, { peerId: 'foreign-port' }),
      ]);
      return store;
    }
    const flushOps = async (store: TopologyStore, keep: (o: { owner?: string }) => boolean) => {
      const ops: Op[] = [];
      for (let i = KINDS.length - 1; i >= 0; i--) {
        const kind = KINDS[i]!;
        for (const o of await store.list(kind)) {
          if (kind === 'host' || o.owner === undefined || keep(o)) continue;
          ops.push({ op: 'delete', kind, id: o.id, ignoreMissing: true });
        }
      }
      return ops as Extract<Op, { op: 'delete' }>[];
    };

    for (const keepCore of [false, true]) {
      it(`gives the state the transactions give${keepCore ? ' (core kept)' : ''}`, async () => {
        const keep = (o: { owner?: string }): boolean =>
          keepCore && ['core', 'md', 'hosts'].includes(o.owner ?? '');
        const viaTx = await built();
        await applyOps(viaTx, await flushOps(viaTx, keep), { chunkSize: 700 });
        const viaBulk = await built();
        const ops = await flushOps(viaBulk, keep);
        await viaBulk.bulkDelete!(ops);
        const got = await contents(viaBulk);
        expect(got).to.deep.equal(await contents(viaTx));
        if (!keepCore) {
          // what stays is consistent: the hosts lost their ports, the foreign port its peer
          for (const h of got['host']!)
            expect((h as { portIds: unknown[] }).portIds).to.deep.equal([]);
          expect((await viaBulk.get('port', 'foreign-port'))!.peerId).to.equal(undefined);
        }
        expect(await viaBulk.get('rule', 'foreign-rule')).to.equal(undefined); // its chain went
        // a kind emptied at once leaves no name behind, and takes new objects as before
        const router0 = [...mapped.desired.router.values()].find(
          (r) => !keep(r) && r.name !== undefined,
        )!;
        expect(await viaBulk.getByName('router', router0.name)).to.equal(
          await viaTx.getByName('router', router0.name),
        );
        await viaBulk.transaction([router('again', { name: router0.name })]);
        expect((await viaBulk.getByName('router', router0.name))!.id).to.equal('again');
        expect((await viaBulk.list('router')).map((r) => r.id)).to.include('again');
      });
    }

    it('deletes a kind whole in map or id order, cascading into a kind deleted in part', async () => {
      // routers made in an order that is not their id order; their ports cascade, one of the
      // bridge's ports is deleted by an op and the other stays, losing its peer
      const setup = async (): Promise<TopologyStore> => {
        const store = createMemoryStore();
        await store.transaction([
          router('r3'),
          router('r1'),
          router('r2'),
          bridge('b1'),
          routerPort('p1', 'r1'),
          routerPort('p3', 'r3'),
          bridgePort('bp1', 'b1', { peerId: 'p1' }),
          bridgePort('bp2', 'b1'),
        ]);
        return store;
      };
      const del = (kind: 'router' | 'port', id: string, expectedVersion?: number) =>
        ({
          op: 'delete',
          kind,
          id,
          ...(expectedVersion !== undefined ? { expectedVersion } : {}),
        }) as const;
      const routers = (ids: string[]) => ids.map((id) => del('router', id));
      const viaTx = await setup();
      await viaTx.transaction([...routers(['r1', 'r2', 'r3']), del('port', 'bp2')]);
      const want = await contents(viaTx);
      expect(want['port']!.map((p) => (p as { id: string }).id)).to.deep.equal(['bp1']);
      for (const order of [
        ['r3', 'r1', 'r2'],
        ['r1', 'r2', 'r3'],
        ['r2', 'r3', 'r1'],
      ]) {
        const store = await setup();
        await store.list('router'); // the id-ordered list at hand, as after a discovery
        await store.bulkDelete!([...routers(order), del('port', 'bp2')]);
        expect(await contents(store), order.join(',')).to.deep.equal(want);
      }
      // a version that differs is refused also when every object of the kind is named
      const store = await setup();
      const before = await contents(store);
      await expectReject(
        store.bulkDelete!([del('router', 'r3'), del('router', 'r1', 7), del('router', 'r2')]),
        ConcurrentModificationError,
        'router/r1',
      );
      expect(await contents(store)).to.deep.equal(before);
    });

    it('refuses a delete an ERROR binding forbids, and applies nothing', async () => {
      const store = createMemoryStore();
      await store.transaction([
        create('ip-addr-group', { id: 'g1', name: 'g1' }),
        chain('c1'),
        rule('x1', 'c1', { ipAddrGroupSrc: 'g1' }),
      ]);
      const before = await contents(store);
      await expectReject(
        store.bulkDelete!([{ op: 'delete', kind: 'ip-addr-group', id: 'g1' }]),
        ReferencedError,
        'cannot delete ip-addr-group/g1: rule/x1 references it',
      );
      await expectReject(
        store.bulkDelete!([{ op: 'delete', kind: 'chain', id: 'nope' }]),
        NotFoundError,
        'chain/nope',
      );
      expect(await contents(store)).to.deep.equal(before);
      // with the rule's chain in the same batch, the group goes too
      await store.bulkDelete!([
        { op: 'delete', kind: 'ip-addr-group', id: 'g1' },
        { op: 'delete', kind: 'chain', id: 'c1' },
      ]);
      expect(await store.get('rule', 'x1')).to.equal(undefined);
      expect(await store.revision()).to.equal(2);
    });
  });

  describe('file store', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'store-bulk-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('writes the snapshot a compaction of the same state writes, existing objects updated', async () => {
      const store = await openFileStore(join(dir, 's'));
      try {
        await store.transaction([host('h1'), create('port-group', { id: 'pg0', name: 'pg0' })]);
        const plan = buildPlan(mapped.desired, await discover(store), false);
        const ops = creates([...plan.storeOps]);
        // new objects that point at committed ones (a host, a port group): those are updated
        ops.push(
          create('bridge', { id: 'b-x', name: 'b-x' }) as CreateOp,
          bridgePort('p-x', 'b-x', { hostId: 'h1', portGroupIds: ['pg0'] }) as CreateOp,
        );
        await store.bulkCreate!(ops);
        const lines = async (): Promise<string[]> => {
          const text = await readFile(join(dir, 's', 'snapshot.ndjson'), 'utf8');
          return text.split('\n').slice(1, -2); // without header and trailer
        };
        const written = await lines();
        expect(written.join('\n')).to.include('"portIds":["p-x"]');
        await (store as unknown as { compact(): Promise<void> }).compact();
        expect(await lines()).to.deep.equal(written);
      } finally {
        await store.close();
      }
    });

    it('writes one commit as a snapshot: reopen, follower and watch see it', async () => {
      const store = await openFileStore(join(dir, 's'));
      const follower = await openFileStore(join(dir, 's'), { readOnly: true, pollMs: 10 });
      try {
        await store.transaction([host('h1')]);
        const events: ChangeEvent[] = [];
        const ac = new AbortController();
        const watching = (async () => {
          for await (const ev of store.watch(1, ac.signal)) {
            events.push(ev);
            if (ev.revision === 2) ac.abort();
          }
        })();
        const plan = buildPlan(mapped.desired, await discover(store), false);
        const { revision } = await store.bulkCreate!(creates([...plan.storeOps]));
        expect(revision).to.equal(2);
        await watching;
        expect(events).to.have.length(1);
        expect(events[0]!.changes.length).to.equal(plan.storeOps.length);
        // the next generation: a snapshot at revision 2 and an empty journal after it
        expect((await stat(join(dir, 's', 'journal.log'))).size).to.equal(40);
        const snapshot = await readFile(join(dir, 's', 'snapshot.ndjson'), 'utf8');
        const header = JSON.parse(snapshot.slice(0, snapshot.indexOf('\n')));
        expect(header).to.include({ revision: 2, generation: 2, count: plan.storeOps.length + 1 });
        const want = await contents(store);
        for (let i = 0; i < 200 && (await follower.revision()) < 2; i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(await contents(follower)).to.deep.equal(want);
        // a commit after the bulk one goes to the fresh journal and survives a reopen
        await store.transaction([host('h2')]);
        await store.close();
        const reopened = await openFileStore(join(dir, 's'));
        expect(await reopened.revision()).to.equal(3);
        const after = await contents(reopened);
        expect({ ...after, host: want['host'] }).to.deep.equal(want);
        expect(after['host']!.map((h) => (h as { id: string }).id)).to.include('h2');
        // a bulk delete is written the same way and survives a reopen
        const routers = (await reopened.list('router')).map((r) => r.id);
        await reopened.bulkDelete!(routers.map((id) => ({ op: 'delete', kind: 'router', id })));
        const flushed = await contents(reopened);
        expect(flushed['router']).to.deep.equal([]);
        await reopened.close();
        const again = await openFileStore(join(dir, 's'));
        expect(await again.revision()).to.equal(4);
        expect(await contents(again)).to.deep.equal(flushed);
        await again.close();
      } finally {
        await follower.close();
        await store.close();
      }
    });
  });
});
