/**
 * MidoNet CLI compatibility. The first suite walks the calls python-midonetclient's library
 * makes (midonet.md §4.5) — login with the token taken from Set-Cookie, the root document,
 * systemState, then create/list/show/update/delete by following URIs with the vendor media
 * types — and checks the fields the CLI reads. The second replays, on the medium sample, the
 * exact requests midonet-cli 5.8 sent (captured with `midonet-cli -d`, docs/api.md) for the
 * commands that used to fail, and checks the shapes it reads.
 */
import { expect } from 'chai';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { readFileSync } from 'node:fs';
import { readGni } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { repoPath } from './helpers/gni-doc.js';
import { expectFields, MidonetLikeClient, vnd, type Dto } from './helpers/midonet-client.js';

describe('api: MidoNet CLI compatibility (the calls python-midonetclient makes)', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let cli: MidonetLikeClient;
  let root: Dto;

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    cli = new MidonetLikeClient(server.url);
    await cli.login(server.user.name, server.user.password);
    root = (await cli.request('GET', `${server.url}/`, vnd('Application-v5'))).data as Dto;
    const state = await cli.show(root['systemState'] as string, vnd('SystemState-v2'));
    expect(state['state']).to.equal('ACTIVE');
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('creates, lists, shows, updates and deletes routers and their ports', async () => {
    // the client serializes every DTO field, nulls included, and some numbers as strings
    const router = await cli.create(root['routers'] as string, vnd('Router-v3'), {
      name: 'router0',
      tenantId: null,
      adminStateUp: true,
      inboundFilterId: null,
      outboundFilterId: null,
      loadBalancerId: null,
    });
    expectFields(router, {
      id: 'string',
      name: 'string',
      adminStateUp: 'boolean',
      tenantId: 'string?',
      inboundFilterId: 'string?',
      outboundFilterId: 'string?',
      uri: 'string',
      ports: 'string',
      routes: 'string',
      peerPorts: 'string',
    });
    const port = await cli.create(router['ports'] as string, vnd('Port-v3'), {
      type: 'Router',
      portAddress: '10.0.0.1',
      networkAddress: '10.0.0.0',
      networkLength: '24',
      portMac: null,
      adminStateUp: true,
    });
    expectFields(port, {
      id: 'string',
      type: 'string',
      deviceId: 'string',
      device: 'string',
      adminStateUp: 'boolean',
      portMac: 'string',
      portSubnet: 'array',
      portAddress: 'string',
      networkAddress: 'string',
      networkLength: 'number',
      peerId: 'string?',
      hostId: 'string?',
      interfaceName: 'string?',
      active: 'boolean',
      inboundFilterId: 'string?',
      uri: 'string',
      link: 'string',
    });
    expect(port['deviceId']).to.equal(router['id']);

    const listed = await cli.list(root['routers'] as string, vnd('Router-v3', true));
    expect(listed.map((r) => r['name'])).to.deep.equal(['router0']);
    const ports = await cli.list(router['ports'] as string, vnd('Port-v3', true));
    expect(ports.map((p) => p['id'])).to.deep.equal([port['id']]);
    const routes = await cli.list(router['routes'] as string, vnd('Route-v1', true));
    expectFields(routes[0]!, {
      id: 'string',
      type: 'string',
      srcNetworkAddr: 'string',
      srcNetworkLength: 'number',
      dstNetworkAddr: 'string',
      dstNetworkLength: 'number',
      nextHopPort: 'string?',
      nextHopGateway: 'string?',
      weight: 'number',
      learned: 'boolean',
    });

    const template = (root['routerTemplate'] as string).replace('{id}', router['id'] as string);
    const shown = await cli.show(template, vnd('Router-v3'));
    const updated = await cli.update(
      { ...shown, name: 'router0-renamed', adminStateUp: false },
      vnd('Router-v3'),
    );
    expect(updated).to.include({ name: 'router0-renamed', adminStateUp: false });

    await cli.request('DELETE', updated['uri'] as string, vnd('Router-v3'));
    expect(await cli.list(root['routers'] as string, vnd('Router-v3', true))).to.deep.equal([]);
  });

  it('lists and shows bridges and their ports, and links a router port to a bridge port', async () => {
    const bridge = await cli.create(root['bridges'] as string, vnd('Bridge-v4'), {
      name: 'bridge0',
      adminStateUp: true,
    });
    expectFields(bridge, {
      id: 'string',
      name: 'string',
      adminStateUp: 'boolean',
      inboundFilterId: 'string?',
      outboundFilterId: 'string?',
      uri: 'string',
      ports: 'string',
      dhcpSubnets: 'string',
    });
    const bport = await cli.create(bridge['ports'] as string, vnd('Port-v3'), {
      type: 'Bridge',
      vlanId: null,
    });
    expectFields(bport, {
      id: 'string',
      type: 'string',
      deviceId: 'string',
      vlanId: 'number?',
      peerId: 'string?',
    });
    const router = await cli.create(root['routers'] as string, vnd('Router-v3'), {
      name: 'router0',
    });
    const rport = await cli.create(router['ports'] as string, vnd('Port-v3'), {
      type: 'Router',
      portAddress: '10.0.0.1',
      networkLength: 24,
    });
    // `router router0 port port0 set peer bridge0:port0` → POST the port's link URI
    await cli.request('POST', rport['link'] as string, vnd('PortLink-v1'), {
      ...rport,
      peerId: bport['id'],
    });
    const peer = await cli.show(bport['uri'] as string, vnd('Port-v3'));
    expect(peer['peerId']).to.equal(rport['id']);
    expect(peer['peer']).to.equal(rport['uri']);
    const bridges = await cli.list(root['bridges'] as string, vnd('Bridge-v4', true));
    expect(bridges.map((b) => b['name'])).to.deep.equal(['bridge0']);
    const allPorts = await cli.list(root['ports'] as string, vnd('Port-v3', true));
    expect(allPorts).to.have.length(2);
  });

  it('lists and shows chains and their rules sorted by position', async () => {
    const chain = await cli.create(root['chains'] as string, vnd('Chain-v1'), {
      name: 'chain0',
      tenantId: null,
    });
    expectFields(chain, {
      id: 'string',
      name: 'string',
      tenantId: 'string?',
      uri: 'string',
      rules: 'string',
    });
    const rules = chain['rules'] as string;
    await cli.create(rules, vnd('Rule-v2'), {
      type: 'accept',
      position: 1,
      matchReturnFlow: true,
      nwProto: '6',
      tpDst: { start: 22, end: 22 },
      nwSrcAddress: '10.0.0.0',
      nwSrcLength: 8,
    });
    await cli.create(rules, vnd('Rule-v2'), {
      type: 'dnat',
      position: 1,
      flowAction: 'accept',
      natTargets: [{ addressFrom: '192.0.2.1', addressTo: '192.0.2.1', portFrom: 80, portTo: 80 }],
    });
    const listed = await cli.list(rules, vnd('Rule-v2', true));
    expect(listed.map((r) => [r['type'], r['position']])).to.deep.equal([
      ['dnat', 1],
      ['accept', 2],
    ]);
    expectFields(listed[1]!, {
      id: 'string',
      chainId: 'string',
      type: 'string',
      position: 'number',
      matchReturnFlow: 'boolean',
      nwProto: 'number',
      tpDst: 'object',
      nwSrcAddress: 'string',
      nwSrcLength: 'number',
      jumpChainId: 'string?',
      flowAction: 'string?',
      uri: 'string',
    });
    expectFields(listed[0]!, { flowAction: 'string', natTargets: 'array' });
    const template = (root['ruleTemplate'] as string).replace('{id}', listed[1]!['id'] as string);
    expect((await cli.show(template, vnd('Rule-v2')))['position']).to.equal(2);
    const chains = await cli.list(root['chains'] as string, vnd('Chain-v1', true));
    expect(chains.map((c) => c['name'])).to.deep.equal(['chain0']);
  });
});

describe('api: midonet-cli requests replayed on the medium sample', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let cli: MidonetLikeClient;
  let root: Dto;
  let eucart: Dto;
  const coll = (name: string): string => vnd(name, true);

  before(async () => {
    store = createMemoryStore();
    const view = readGni(readFileSync(repoPath('fixtures/gni/medium.xml'))).view!;
    await reconcileView(store, view, DEFAULT_MAPPING_CONFIG);
    server = await startTestApiServer(store);
    cli = new MidonetLikeClient(server.url);
    await cli.login(server.user.name, server.user.password);
    root = (await cli.request('GET', server.url, vnd('Application-v5'))).data as Dto;
    const routers = await cli.list(root['routers'] as string, coll('Router-v3'));
    eucart = routers.find((r) => r['name'] === 'eucart')!;
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  it('root document: every collection key and template the client reads', () => {
    const keys = ['bridges', 'chains', 'hosts', 'ipAddrGroups', 'portGroups', 'ports', 'routers'];
    keys.push('tenants', 'tunnelZones', 'systemState', 'healthMonitors', 'l2insertions');
    keys.push('loadBalancers', 'mirrors', 'poolMembers', 'poolStatistic', 'poolStatistics');
    keys.push('pools', 'qosPolicies', 'serviceContainerGroups', 'serviceContainers');
    keys.push('traceRequests', 'vips', 'vteps');
    for (const t of ['bgpNetwork', 'bgpPeer', 'bridge', 'chain', 'healthMonitor', 'host']) {
      keys.push(`${t}Template`);
    }
    for (const t of ['ipAddrGroup', 'l2Insertion', 'loadBalancer', 'mirror', 'poolMember']) {
      keys.push(`${t}Template`);
    }
    for (const t of ['poolStatistic', 'pool', 'portGroup', 'port', 'qosBwLimitRule']) {
      keys.push(`${t}Template`);
    }
    for (const t of ['qosDscpRule', 'qosPolicy', 'route', 'router', 'rule']) {
      keys.push(`${t}Template`);
    }
    for (const t of ['serviceContainerGroup', 'serviceContainer', 'tenant', 'traceRequest']) {
      keys.push(`${t}Template`);
    }
    keys.push('tunnelZoneTemplate', 'vipTemplate', 'vtepTemplate');
    for (const k of keys) expect(root[k], k).to.be.a('string');
  });

  it('`list tenant`: GET tenants, each with its tenant-scoped collections', async () => {
    // the CLI stamps its session tenant, '' when none is set: that is no tenant
    const noTenant = await cli.create(root['routers'] as string, vnd('Router-v3'), {
      name: 'cli-made',
      tenantId: '',
    });
    const tenants = await cli.list(root['tenants'] as string, coll('Tenant-v2'));
    expect(tenants.map((t) => t['id'])).to.deep.equal(['euca_tenant_1']);
    expectFields(tenants[0]!, { id: 'string', name: 'string', enabled: 'boolean', uri: 'string' });
    const routers = await cli.list(tenants[0]!['routers'] as string, coll('Router-v3'));
    const all = await cli.list(root['routers'] as string, coll('Router-v3'));
    const scoped = all.filter((r) => r['tenantId'] === 'euca_tenant_1');
    expect(routers.map((r) => r['id'])).to.deep.equal(scoped.map((r) => r['id']));
    expect(routers.length)
      .to.equal(all.length - 1)
      .and.be.greaterThan(0);
    const template = (root['tenantTemplate'] as string).replace('{id}', 'euca_tenant_1');
    expect((await cli.show(template, vnd('Tenant-v2')))['id']).to.equal('euca_tenant_1');
    expect(
      (await cli.raw('GET', template.replace('euca_tenant_1', 'nobody'), vnd('Tenant-v2'))).status,
    ).to.equal(404);
    await cli.request('DELETE', noTenant['uri'] as string, vnd('Router-v3'));
  });

  it('`list load-balancer`, `list vtep`, `list mirror`: empty lists, not errors', async () => {
    for (const [key, type] of [
      ['loadBalancers', 'LoadBalancer-v1'],
      ['vteps', 'VTEP-v2'],
      ['mirrors', 'Mirror-v1'],
      ['qosPolicies', 'QOSPolicy-v1'],
    ] as const) {
      expect(await cli.list(root[key] as string, coll(type)), key).to.deep.equal([]);
    }
  });

  it('`router <id> bgp-peer list` and `bgp-network list`, then create, show, delete', async () => {
    const router = await cli.show(eucart['uri'] as string, vnd('Router-v3'));
    const peers = await cli.list(router['bgpPeers'] as string, coll('BgpPeer-v1'));
    expect(peers.map((p) => [p['address'], p['asNumber']])).to.deep.equal([
      ['192.0.2.1', 65010],
      ['192.0.2.17', 65011],
    ]);
    for (const p of peers) {
      expectFields(p, { id: 'string', asNumber: 'number', address: 'string', uri: 'string' });
      expectFields(p, { keepAlive: 'number?', holdTime: 'number?', connectRetry: 'number?' });
    }
    const nets = await cli.list(router['bgpNetworks'] as string, coll('BgpNetwork-v1'));
    expect(
      nets.map((n) => `${String(n['subnetAddress'])}/${String(n['subnetLength'])}`),
    ).to.deep.equal(['198.51.100.0/24', '203.0.113.128/26']);
    // `router <id> bgp-peer create asn 65099 address 192.0.2.99`, show it, delete it
    const peer = await cli.create(router['bgpPeers'] as string, vnd('BgpPeer-v1'), {
      asNumber: '65099',
      address: '192.0.2.99',
    });
    const shown = await cli.show(
      (root['bgpPeerTemplate'] as string).replace('{id}', peer['id'] as string),
      vnd('BgpPeer-v1'),
    );
    expect(shown).to.include({ asNumber: 65099, address: '192.0.2.99' });
    // `router <id> bgp-peer <peer> set keep-alive 10`: PUT of the whole DTO
    const kept = await cli.update({ ...shown, keepAlive: '10' }, vnd('BgpPeer-v1'));
    expect(kept).to.include({ keepAlive: 10, asNumber: 65099 });
    const moved = await cli.raw('PUT', shown['uri'] as string, vnd('BgpPeer-v1'), {
      ...shown,
      routerId: 'elsewhere',
    });
    expect(moved.status).to.equal(400);
    const dup = await cli.raw('POST', router['bgpPeers'] as string, vnd('BgpPeer-v1'), {
      asNumber: 65099,
      address: '192.0.2.99',
    });
    expect(dup.status).to.equal(400);
    const net = await cli.create(router['bgpNetworks'] as string, vnd('BgpNetwork-v1'), {
      subnetAddress: '198.51.100.128',
      subnetLength: '25',
    });
    expect(net).to.include({ subnetAddress: '198.51.100.128', subnetLength: 25 });
    await cli.request('DELETE', peer['uri'] as string, vnd('BgpPeer-v1'));
    await cli.request('DELETE', net['uri'] as string, vnd('BgpNetwork-v1'));
    expect(await cli.list(router['bgpPeers'] as string, coll('BgpPeer-v1'))).to.have.length(2);
    expect(await cli.list(router['bgpNetworks'] as string, coll('BgpNetwork-v1'))).to.have.length(
      2,
    );
  });

  it('`--tenant X port list` / `tunnel-zone list`: the tenant filter only on scoped kinds', async () => {
    const zone = await cli.create(root['tunnelZones'] as string, vnd('TunnelZone-v1'), {
      name: 'tz0',
      type: 'vxlan',
    });
    const q = '?tenant_id=euca_tenant_1';
    const ports = await cli.list(`${String(root['ports'])}${q}`, coll('Port-v3'));
    expect(ports.length).to.equal(
      (await cli.list(root['ports'] as string, coll('Port-v3'))).length,
    );
    expect(ports.length).to.be.greaterThan(0);
    const zones = await cli.list(`${String(root['tunnelZones'])}${q}`, coll('TunnelZone-v1'));
    expect(zones.map((z) => z['id'])).to.deep.equal([zone['id']]);
    // a scoped kind is still filtered
    const other = await cli.list(`${String(root['routers'])}?tenant_id=other`, coll('Router-v3'));
    expect(other).to.deep.equal([]);
    await cli.request('DELETE', zone['uri'] as string, vnd('TunnelZone-v1'));
  });

  it('`chain <id> rule create type drop in-port-group <pg>` (and out-port-group, vlan, no-vlan) keeps the condition', async () => {
    const chain = await cli.create(root['chains'] as string, vnd('Chain-v1'), { name: 'c-pg' });
    const pg = await cli.create(root['portGroups'] as string, vnd('PortGroup-v1'), { name: 'pg' });
    const bodies: Dto[] = [
      { type: 'drop', invInPortGroup: false, inPortGroup: pg['id'] },
      { type: 'drop', invOutPortGroup: true, outPortGroup: pg['id'] },
      { type: 'accept', noVlan: true },
      { type: 'accept', vlan: '7' },
    ];
    for (const body of bodies) {
      const rule = await cli.create(chain['rules'] as string, vnd('Rule-v2'), body);
      expect(rule).to.include({ ...body, ...(body['vlan'] ? { vlan: 7 } : {}) });
    }
    const rules = await cli.list(chain['rules'] as string, coll('Rule-v2'));
    expect(rules.map((r) => r['position'])).to.deep.equal([1, 2, 3, 4]);
    for (const r of rules) {
      expectFields(r, { condInvert: 'boolean', noVlan: 'boolean', fragmentPolicy: 'string' });
      expectFields(r, {
        invInPortGroup: 'boolean',
        matchNwDstRewritten: 'boolean',
        vlan: 'number?',
      });
      expectFields(r, { traversedDevice: 'string?', invTraversedDevice: 'boolean' });
    }
    // conditions we do not realize are refused with 400 naming the field; nothing is created
    for (const [field, value] of [
      ['matchNwDstRewritten', true],
      ['traversedDevice', pg['id']],
      ['icmpDataSrcIpAddress', '10.0.0.0'],
    ] as const) {
      const res = await cli.raw('POST', chain['rules'] as string, vnd('Rule-v2'), {
        type: 'accept',
        [field]: value,
      });
      expect(res.status, field).to.equal(400);
      expect(String((res.data as Dto)['message']), field).to.contain(field);
    }
    expect(await cli.list(chain['rules'] as string, coll('Rule-v2'))).to.have.length(4);
  });

  it('`router <id> set local-redirect-chain / forward-chain` and `host <id> set flooding-proxy-weight` store the value', async () => {
    const chain = await cli.create(root['chains'] as string, vnd('Chain-v1'), { name: 'c-rt' });
    const router = await cli.show(eucart['uri'] as string, vnd('Router-v3'));
    // the client PUTs back the whole DTO it read, with the one field changed
    const set1 = await cli.update(
      { ...router, localRedirectChainId: chain['id'] },
      vnd('Router-v3'),
    );
    const set2 = await cli.update({ ...set1, forwardChainId: chain['id'] }, vnd('Router-v3'));
    expect(set2).to.include({ localRedirectChainId: chain['id'], forwardChainId: chain['id'] });
    expect(set2['localRedirectChain']).to.equal(chain['uri']);
    const hosts = await cli.list(root['hosts'] as string, coll('Host-v3'));
    const host = hosts[0]!;
    expectFields(host, { id: 'string', name: 'string', alive: 'boolean', addresses: 'array' });
    expectFields(host, { floodingProxyWeight: 'number', containerWeight: 'number' });
    expectFields(host, { containerLimit: 'number', enforceContainerLimit: 'boolean' });
    expectFields(host, { hostInterfaces: 'array', interfaces: 'string', ports: 'string' });
    const updated = await cli.update({ ...host, floodingProxyWeight: '5' }, vnd('Host-v3'));
    expect(updated['floodingProxyWeight']).to.equal(5);
    const refused = await cli.raw('PUT', host['uri'] as string, vnd('Host-v3'), {
      ...updated,
      containerWeight: 3,
    });
    expect(refused.status).to.equal(400);
    expect(String((refused.data as Dto)['message'])).to.contain('containerWeight');
    expect((await cli.show(host['uri'] as string, vnd('Host-v3')))['floodingProxyWeight']).to.equal(
      5,
    );
  });
});
