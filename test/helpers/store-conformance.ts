/**
 * The store conformance suite: one `describe` block of behaviour every `TopologyStore` backend
 * must show (bindings, transactions, typed errors, reads, watch). The memory and file backends
 * run it here; the API client and etcd backends reuse it.
 */
import { expect } from 'chai';
import {
  AlreadyExistsError,
  ConcurrentModificationError,
  InvalidFieldError,
  NotFoundError,
  ReferenceConflictError,
  ReferencedError,
  StoreError,
  type ChangeEvent,
  type Kind,
  type Op,
  type TopologyStore,
} from '../../src/store/index.js';

type Factory = () => Promise<{ store: TopologyStore; cleanup(): Promise<void> }>;
type Obj = Record<string, unknown>;

/** A create op (object typed loosely: tests also send invalid input on purpose). */
export function create(kind: Kind, object: Obj, position?: number): Op {
  const op = { op: 'create', kind, object } as unknown as Op;
  return position === undefined ? op : ({ ...op, position } as Op);
}
/** An update op. */
export function update(kind: Kind, object: Obj, expectedVersion?: number): Op {
  const op = { op: 'update', kind, object } as unknown as Op;
  return expectedVersion === undefined ? op : ({ ...op, expectedVersion } as Op);
}
/** A delete op. */
export function del(
  kind: Kind,
  id: string,
  extra: { ignoreMissing?: boolean; expectedVersion?: number } = {},
): Op {
  return { op: 'delete', kind, id, ...extra };
}

export const router = (id: string, extra: Obj = {}): Op =>
  create('router', { id, name: `router-${id}`, ...extra });
export const bridge = (id: string, extra: Obj = {}): Op =>
  create('bridge', { id, name: `bridge-${id}`, ...extra });
export const routerPort = (id: string, routerId: string, extra: Obj = {}): Op =>
  create('port', {
    id,
    type: 'Router',
    routerId,
    portAddress: '10.0.0.1',
    networkAddress: '10.0.0.0',
    networkLength: 24,
    portMac: 'AA:BB:CC:00:00:01',
    ...extra,
  });
export const bridgePort = (id: string, bridgeId: string, extra: Obj = {}): Op =>
  create('port', { id, type: 'Bridge', bridgeId, ...extra });
export const chain = (id: string, extra: Obj = {}): Op =>
  create('chain', { id, name: `chain-${id}`, ...extra });
export const rule = (id: string, chainId: string, extra: Obj = {}, position?: number): Op =>
  create('rule', { id, chainId, type: 'accept', ...extra }, position);
export const host = (id: string): Op =>
  create('host', { id, name: `host-${id}`, addresses: ['192.168.0.1'] });

async function expectReject(
  p: Promise<unknown>,
  type: abstract new (...a: never[]) => Error,
  ...parts: string[]
): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(type);
    for (const part of parts) expect((e as Error).message).to.include(part);
    return e as Error;
  }
  expect.fail(`expected ${type.name}`);
}

async function take(it: AsyncIterator<ChangeEvent>, n: number): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Declares the conformance suite for one backend. */
export function runStoreConformance(name: string, factory: Factory): void {
  describe(`store conformance: ${name}`, function () {
    let store: TopologyStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });
    const get = async (kind: Kind, id: string): Promise<Obj | undefined> =>
      (await store.get(kind, id)) as unknown as Obj | undefined;

    describe('reads and revisions', () => {
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
    });

    describe('transactions and errors', () => {
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
    });

    describe('bindings', () => {
      it('keeps device port lists and moves a port between routers on update', async () => {
        await store.transaction([router('r1'), router('r2'), routerPort('p1', 'r1')]);
        await store.transaction([update('port', { id: 'p1', type: 'Router', routerId: 'r2' })]);
        expect((await get('router', 'r1'))?.['portIds']).to.deep.equal([]);
        expect((await get('router', 'r2'))?.['portIds']).to.deep.equal(['p1']);
        expect((await get('router', 'r1'))?.['version']).to.equal(2);
      });

      it('links peers symmetrically, refuses a second link, and unlinks on change or delete', async () => {
        await store.transaction([
          router('r1'),
          bridge('b1'),
          routerPort('rp', 'r1'),
          bridgePort('bp', 'b1'),
          bridgePort('bp2', 'b1'),
        ]);
        await store.transaction([
          update('port', { id: 'bp', type: 'Bridge', bridgeId: 'b1', peerId: 'rp' }),
        ]);
        expect((await get('port', 'rp'))?.['peerId']).to.equal('bp');
        // setting the value it already has is not a conflict
        await store.transaction([
          update('port', { id: 'rp', type: 'Router', routerId: 'r1', peerId: 'bp' }),
        ]);
        await expectReject(
          store.transaction([
            update('port', { id: 'bp2', type: 'Bridge', bridgeId: 'b1', peerId: 'rp' }),
          ]),
          ReferenceConflictError,
          'port/rp',
        );
        // re-point bp from rp to bp2
        await store.transaction([
          update('port', { id: 'bp', type: 'Bridge', bridgeId: 'b1', peerId: 'bp2' }),
        ]);
        expect((await get('port', 'rp'))?.['peerId']).to.equal(undefined);
        expect((await get('port', 'bp2'))?.['peerId']).to.equal('bp');
        await store.transaction([del('port', 'bp')]);
        expect((await get('port', 'bp2'))?.['peerId']).to.equal(undefined);
        expect((await get('bridge', 'b1'))?.['portIds']).to.deep.equal(['bp2']);
      });

      it('cascades a router delete to ports, routes and BGP, and clears what stays', async () => {
        await store.transaction([
          router('r1'),
          bridge('b1'),
          host('h1'),
          chain('c1'),
          create('port-group', { id: 'pg1', name: 'pg' }),
          routerPort('rp', 'r1', {
            hostId: 'h1',
            interfaceName: 'eth1',
            inboundFilterId: 'c1',
            portGroupIds: ['pg1'],
          }),
          bridgePort('bp', 'b1', { peerId: 'rp' }),
          create('route', {
            id: 'rt1',
            routerId: 'r1',
            type: 'Normal',
            srcNetworkAddr: '0.0.0.0',
            srcNetworkLength: 0,
            dstNetworkAddr: '10.0.0.0',
            dstNetworkLength: 24,
            nextHopPort: 'rp',
          }),
          create('route', {
            id: 'rt2',
            routerId: 'r1',
            type: 'BlackHole',
            srcNetworkAddr: '0.0.0.0',
            srcNetworkLength: 0,
            dstNetworkAddr: '10.9.0.0',
            dstNetworkLength: 16,
          }),
          create('bgp-peer', { id: 'bp1', routerId: 'r1', asNumber: 65001, address: '10.0.0.9' }),
          create('bgp-network', {
            id: 'bn1',
            routerId: 'r1',
            subnetAddress: '10.0.0.0',
            subnetLength: 24,
          }),
        ]);
        expect((await get('port', 'rp'))?.['routeIds']).to.deep.equal(['rt1']);
        expect((await get('host', 'h1'))?.['portIds']).to.deep.equal(['rp']);
        expect((await get('port-group', 'pg1'))?.['portIds']).to.deep.equal(['rp']);
        await store.transaction([del('router', 'r1')]);
        for (const [k, id] of [
          ['port', 'rp'],
          ['route', 'rt1'],
          ['route', 'rt2'],
          ['bgp-peer', 'bp1'],
          ['bgp-network', 'bn1'],
        ] as const) {
          expect(await get(k, id), `${k}/${id}`).to.equal(undefined);
        }
        expect((await get('port', 'bp'))?.['peerId']).to.equal(undefined);
        expect((await get('host', 'h1'))?.['portIds']).to.deep.equal([]);
        expect((await get('port-group', 'pg1'))?.['portIds']).to.deep.equal([]);
        expect((await get('chain', 'c1'))?.['portInboundIds']).to.deep.equal([]);
      });

      it('cascades a bridge delete to ports, DHCP subnets, ARP and MAC entries', async () => {
        await store.transaction([
          bridge('b1'),
          bridgePort('bp', 'b1'),
          create('dhcp-subnet', {
            id: 'd1',
            bridgeId: 'b1',
            subnetPrefix: '10.0.0.0',
            subnetLength: 24,
            defaultGateway: '10.0.0.1',
            dnsServerAddrs: ['8.8.8.8'],
            domainName: 'ec2.internal',
            opt121Routes: [
              {
                destinationPrefix: '169.254.169.254',
                destinationLength: 32,
                gatewayAddr: '10.0.0.1',
              },
            ],
            hosts: [{ macAddr: 'D0:0D:00:00:00:01', ipAddr: '10.0.0.5', name: 'i-1' }],
          }),
          create('arp-entry', {
            id: 'a1',
            bridgeId: 'b1',
            ip: '10.0.0.5',
            mac: 'd0:0d:00:00:00:01',
          }),
          create('mac-entry', {
            id: 'm1',
            bridgeId: 'b1',
            macAddr: 'd0:0d:00:00:00:01',
            portId: 'bp',
          }),
        ]);
        const b = await get('bridge', 'b1');
        expect(b).to.deep.include({
          dhcpIds: ['d1'],
          arpEntryIds: ['a1'],
          macEntryIds: ['m1'],
          portIds: ['bp'],
        });
        expect((await get('dhcp-subnet', 'd1'))?.['hosts']).to.deep.equal([
          { macAddr: 'd0:0d:00:00:00:01', ipAddr: '10.0.0.5', name: 'i-1', extraDhcpOpts: [] },
        ]);
        expect((await get('port', 'bp'))?.['macEntryIds']).to.deep.equal(['m1']);
        await store.transaction([del('bridge', 'b1')]);
        for (const [k, id] of [
          ['port', 'bp'],
          ['dhcp-subnet', 'd1'],
          ['arp-entry', 'a1'],
          ['mac-entry', 'm1'],
        ] as const) {
          expect(await get(k, id), `${k}/${id}`).to.equal(undefined);
        }
      });

      it('deleting a port deletes its MAC entries and routes', async () => {
        await store.transaction([
          router('r1'),
          bridge('b1'),
          bridgePort('bp', 'b1'),
          routerPort('rp', 'r1'),
          create('mac-entry', {
            id: 'm1',
            bridgeId: 'b1',
            macAddr: 'd0:0d:00:00:00:01',
            portId: 'bp',
          }),
          create('route', {
            id: 'rt1',
            routerId: 'r1',
            type: 'Local',
            srcNetworkAddr: '0.0.0.0',
            srcNetworkLength: 0,
            dstNetworkAddr: '10.0.0.1',
            dstNetworkLength: 32,
            nextHopPort: 'rp',
          }),
        ]);
        await store.transaction([del('port', 'bp'), del('port', 'rp')]);
        expect(await get('mac-entry', 'm1')).to.equal(undefined);
        expect(await get('route', 'rt1')).to.equal(undefined);
        expect((await get('bridge', 'b1'))?.['macEntryIds']).to.deep.equal([]);
        expect((await get('router', 'r1'))?.['routeIds']).to.deep.equal([]);
      });

      it('detaches a deleted chain from devices and deletes its rules', async () => {
        await store.transaction([
          chain('c1'),
          chain('c2'),
          router('r1', { inboundFilterId: 'c1', outboundFilterId: 'c1' }),
          bridge('b1', { outboundFilterId: 'c1' }),
          bridgePort('bp', 'b1', { inboundFilterId: 'c1', outboundFilterId: 'c2' }),
          rule('x1', 'c1'),
          rule('x2', 'c1'),
        ]);
        const c1 = await get('chain', 'c1');
        expect(c1).to.deep.include({
          routerInboundIds: ['r1'],
          routerOutboundIds: ['r1'],
          bridgeOutboundIds: ['b1'],
          portInboundIds: ['bp'],
          ruleIds: ['x1', 'x2'],
        });
        await store.transaction([del('chain', 'c1')]);
        expect(await get('rule', 'x1')).to.equal(undefined);
        const r1 = await get('router', 'r1');
        expect(r1?.['inboundFilterId']).to.equal(undefined);
        expect(r1?.['outboundFilterId']).to.equal(undefined);
        expect((await get('bridge', 'b1'))?.['outboundFilterId']).to.equal(undefined);
        expect(await get('port', 'bp'))
          .to.deep.include({ outboundFilterId: 'c2' })
          .and.not.have.property('inboundFilterId');
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
        await expectReject(
          store.transaction([rule('e', 'c1', {}, 9)]),
          InvalidFieldError,
          'position',
        );
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
    });

    describe('watch', () => {
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
    });
  });
}
