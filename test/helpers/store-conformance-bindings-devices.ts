/**
 * Store conformance, 'bindings' (first part): device port lists, symmetric peer links, and what
 * deleting a router, bridge, port or chain cascades to or clears.
 */
import { expect } from 'chai';
import { ReferenceConflictError, type TopologyStore } from '../../src/store/index.js';
import {
  bridge,
  bridgePort,
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

/** Declares the device binding and delete cascade cases (the first of the 'bindings' block). */
export function deviceBindingCases(ctx: ConformanceContext): void {
  const { get } = ctx;
  let store: TopologyStore;
  beforeEach(() => {
    store = ctx.store;
  });

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
}
