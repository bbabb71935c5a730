/**
 * HTTP tests of the topology semantics through the REST resources: ports and linking, port
 * bindings, cascades and blocked deletes, rule positions, DHCP subnets and hosts, membership
 * collections. The end state is checked in the store behind the server.
 */
import { expect } from 'chai';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { apiHttp } from './helpers/api-http.js';

describe('api server: topology semantics', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let http: AxiosInstance;

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    http = apiHttp(server);
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  function ok(res: AxiosResponse, status: number): AxiosResponse {
    expect(
      res.status,
      `${res.config.method} ${res.config.url}: ${JSON.stringify(res.data)}`,
    ).to.equal(status);
    return res;
  }
  /** POSTs and returns the id at the end of the Location. */
  async function post(path: string, body: object): Promise<string> {
    const location = ok(await http.post(path, body), 201).headers['location'] as string;
    return location.slice(location.lastIndexOf('/') + 1);
  }

  it('creates router ports with a LOCAL /32 route, bridge ports, and links and unlinks them', async () => {
    const r = await post('/routers', { name: 'r' });
    const b = await post('/bridges', { name: 'b' });
    const rp = await post(`/routers/${r}/ports`, { type: 'Router', portSubnet: ['10.0.0.1/24'] });
    const bp = await post(`/bridges/${b}/ports`, {});
    const port = (await http.get(`/ports/${rp}`)).data;
    expect(port).to.include({
      type: 'Router',
      deviceId: r,
      portAddress: '10.0.0.1',
      networkAddress: '10.0.0.0',
    });
    expect(port.portSubnet).to.deep.equal(['10.0.0.1/24']);
    expect(port.portMac).to.match(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const routes = (await http.get(`/routers/${r}/routes`)).data;
    expect(routes).to.have.length(1);
    expect(routes[0]).to.include({
      type: 'Local',
      dstNetworkAddr: '10.0.0.1',
      dstNetworkLength: 32,
      nextHopPort: rp,
    });
    ok(await http.post(`/bridges/${b}/ports`, { type: 'Router' }), 400);

    const link = ok(await http.post(`/ports/${rp}/link`, { peerId: bp }), 201);
    expect(link.headers['location']).to.equal(`${server.url}/ports/${rp}/link`);
    expect((await store.get('port', bp))?.peerId).to.equal(rp);
    expect(
      (await http.get(`/routers/${r}/peer_ports`)).data.map((p: { id: string }) => p.id),
    ).to.deep.equal([bp]);

    const bp2 = await post(`/bridges/${b}/ports`, {});
    const again = ok(await http.post(`/ports/${bp2}/link`, { peerId: rp }), 409);
    expect(again.data.message).to.equal('Ports are not linkable.');
    ok(
      await http.post(`/ports/${bp2}/link`, { peerId: '11111111-2222-4333-8444-555555555555' }),
      400,
    );
    ok(await http.post(`/ports/11111111-2222-4333-8444-555555555555/link`, { peerId: bp2 }), 404);

    ok(await http.delete(`/ports/${bp}/link`), 204);
    expect((await store.get('port', rp))?.peerId).to.equal(undefined);
    expect((await store.get('port', bp))?.peerId).to.equal(undefined);
  });

  it('keeps device, binding and link when a port is replaced with PUT', async () => {
    const b = await post('/bridges', { name: 'b' });
    const p1 = await post(`/bridges/${b}/ports`, {});
    const p2 = await post(`/bridges/${b}/ports`, {});
    ok(await http.post(`/ports/${p1}/link`, { peerId: p2 }), 201);
    ok(
      await http.put(`/ports/${p1}`, {
        type: 'Bridge',
        adminStateUp: false,
        vlanId: 7,
        peerId: null,
      }),
      204,
    );
    const after = await store.get('port', p1);
    expect(after).to.include({ bridgeId: b, peerId: p2, adminStateUp: false, vlanId: 7 });
  });

  it('binds ports to host interfaces with MidoNet’s refusals, and cascades a router delete', async () => {
    const r = await post('/routers', { name: 'r' });
    const p = await post(`/routers/${r}/ports`, { portAddress: '10.1.0.1', networkLength: 24 });
    const h = await post('/hosts', { name: 'node-1', addresses: ['192.0.2.10'] });
    const notInZone = ok(
      await http.post(`/hosts/${h}/ports`, { portId: p, interfaceName: 'vn_eni-1' }),
      409,
    );
    expect(notInZone.data.message).to.equal('The specified host is not in any tunnel zone.');

    const tz = await post('/tunnel_zones', { name: 'tz', type: 'vxlan' });
    ok(await http.post(`/tunnel_zones/${tz}/hosts`, { hostId: h, ipAddress: '192.0.2.10' }), 201);
    ok(await http.post(`/tunnel_zones/${tz}/hosts`, { hostId: h, ipAddress: '192.0.2.10' }), 409);
    expect((await store.get('host', h))?.tunnelZoneIds).to.deep.equal([tz]);

    ok(await http.post(`/hosts/${h}/ports`, { portId: p, interfaceName: 'vn_eni-1' }), 201);
    expect(await store.get('port', p)).to.include({ hostId: h, interfaceName: 'vn_eni-1' });
    expect((await store.get('host', h))?.portIds).to.deep.equal([p]);
    ok(await http.post(`/hosts/${h}/ports`, { portId: p, interfaceName: 'vn_eni-2' }), 409);
    const p2 = await post(`/routers/${r}/ports`, {});
    ok(await http.post(`/hosts/${h}/ports`, { portId: p2, interfaceName: 'vn_eni-1' }), 409);
    const bindings = (await http.get(`/hosts/${h}/ports`)).data;
    expect(bindings).to.deep.equal([
      {
        hostId: h,
        portId: p,
        interfaceName: 'vn_eni-1',
        uri: `${server.url}/hosts/${h}/ports/${p}`,
        host: `${server.url}/hosts/${h}`,
        port: `${server.url}/ports/${p}`,
      },
    ]);

    const blocked = ok(await http.delete(`/hosts/${h}`), 409);
    expect(blocked.data.message).to.contain('1 binding(s)');
    ok(await http.delete(`/hosts/${h}/ports/${p}`), 204);
    ok(await http.delete(`/hosts/${h}/ports/${p}`), 404);
    expect((await store.get('host', h))?.portIds).to.deep.equal([]);

    ok(await http.delete(`/routers/${r}`), 204);
    expect(await store.list('port')).to.deep.equal([]);
    expect(await store.list('route')).to.deep.equal([], 'the LOCAL routes went with their ports');
    ok(await http.get(`/ports/${p}`), 404);
    ok(await http.delete(`/hosts/${h}`), 204);
    expect((await store.get('tunnel-zone', tz))?.hosts).to.deep.equal(
      [],
      'the member went with the host',
    );
  });

  it('creates rules at 1-based positions and refuses blocked deletes with 409', async () => {
    const c = await post('/chains', { name: 'c' });
    const target = await post('/chains', { name: 'target' });
    const a = await post(`/chains/${c}/rules`, { type: 'accept', nwProto: 6 });
    const d = await post(`/chains/${c}/rules`, { type: 'drop', position: 1 });
    const j = await post(`/chains/${c}/rules`, {
      type: 'jump',
      jumpChainId: target,
      position: '2',
    });
    expect((await store.get('chain', c))?.ruleIds).to.deep.equal([d, j, a]);
    const listed = (await http.get(`/chains/${c}/rules`)).data as {
      id: string;
      position: number;
    }[];
    expect(listed.map((x) => [x.id, x.position])).to.deep.equal([
      [d, 1],
      [j, 2],
      [a, 3],
    ]);
    expect((await http.get(`/rules/${a}`)).data).to.include({
      position: 3,
      chainId: c,
      type: 'accept',
      nwProto: 6,
    });
    ok(await http.post(`/chains/${c}/rules`, { type: 'accept', position: 5 }), 400);
    ok(await http.post(`/chains/${c}/rules`, { type: 'jump' }), 400);
    ok(await http.post(`/chains/${c}/rules`, { type: 'dnat', flowAction: 'accept' }), 400);
    ok(
      await http.post(`/chains/11111111-2222-4333-8444-555555555555/rules`, { type: 'accept' }),
      404,
    );

    const blocked = ok(await http.delete(`/chains/${target}`), 409);
    expect(blocked.data.error).to.equal('ReferencedError');

    const g = await post('/ip_addr_groups', { name: 'sg-1' });
    ok(await http.post(`/ip_addr_groups/${g}/ip_addrs`, { addr: '10.0.0.5', version: 4 }), 201);
    ok(await http.post(`/ip_addr_groups/${g}/ip_addrs`, { addr: '10.0.0.5', version: 4 }), 409);
    await post(`/chains/${c}/rules`, { type: 'accept', ipAddrGroupSrc: g });
    ok(await http.delete(`/ip_addr_groups/${g}`), 409);
    expect((await http.get(`/ip_addr_groups/${g}/versions/4/ip_addrs/10.0.0.5`)).data).to.include({
      addr: '10.0.0.5',
      ipAddrGroupId: g,
    });
    ok(await http.delete(`/ip_addr_groups/${g}/versions/4/ip_addrs/10.0.0.5`), 204);
    expect((await store.get('ip-addr-group', g))?.addresses).to.deep.equal([]);

    ok(await http.delete(`/rules/${j}`), 204);
    ok(await http.delete(`/chains/${c}`), 204);
    expect(await store.list('rule')).to.deep.equal([], 'rules cascade with their chain');
    ok(await http.delete(`/chains/${target}`), 204);
  });

  it('addresses DHCP subnets by a.b.c.d_len and their hosts by MAC', async () => {
    const b = await post('/bridges', { name: 'b' });
    ok(
      await http.post(`/bridges/${b}/dhcp`, {
        subnetPrefix: '10.0.0.0',
        subnetLength: 24,
        defaultGateway: '10.0.0.1',
      }),
      201,
    );
    ok(await http.post(`/bridges/${b}/dhcp`, { subnetPrefix: '10.0.0.0', subnetLength: 24 }), 409);
    const base = `/bridges/${b}/dhcp/10.0.0.0_24`;
    expect((await http.get(base)).data).to.include({
      subnetPrefix: '10.0.0.0',
      defaultGateway: '10.0.0.1',
    });
    ok(await http.get(`/bridges/${b}/dhcp/10.9.0.0_24`), 404);
    const mac = 'd0:0d:12:34:56:78';
    const created = ok(
      await http.post(`${base}/hosts`, { macAddr: mac, ipAddr: '10.0.0.5', name: 'i-1' }),
      201,
    );
    expect(created.headers['location']).to.equal(`${server.url}${base}/hosts/d0-0d-12-34-56-78`);
    ok(await http.post(`${base}/hosts`, { macAddr: mac, ipAddr: '10.0.0.6' }), 409);
    ok(await http.put(`${base}/hosts/d0-0d-12-34-56-78`, { ipAddr: '10.0.0.7', name: 'i-1' }), 204);
    expect((await http.get(`${base}/hosts/${mac}`)).data).to.include({
      ipAddr: '10.0.0.7',
      macAddr: mac,
    });
    ok(await http.put(base, { dnsServerAddrs: ['10.0.0.2'], defaultGateway: '10.0.0.1' }), 204);
    const [subnet] = await store.list('dhcp-subnet');
    expect(
      subnet?.hosts.map((h) => h.ipAddr),
      'PUT on the subnet keeps its hosts',
    ).to.deep.equal(['10.0.0.7']);
    expect(subnet?.dnsServerAddrs).to.deep.equal(['10.0.0.2']);
    ok(await http.delete(`${base}/hosts/${mac}`), 204);
    ok(await http.delete(`${base}/hosts/${mac}`), 404);
    ok(await http.delete(base), 204);
    expect(await store.list('dhcp-subnet')).to.deep.equal([]);
  });

  it('manages port group membership on both sides', async () => {
    const b = await post('/bridges', { name: 'b' });
    const p = await post(`/bridges/${b}/ports`, {});
    const g = await post('/port_groups', { name: 'pg', stateful: true });
    ok(await http.post(`/port_groups/${g}/ports`, { portId: p }), 201);
    ok(await http.post(`/port_groups/${g}/ports`, { portId: p }), 409);
    expect((await store.get('port-group', g))?.portIds).to.deep.equal([p]);
    expect(
      (await http.get(`/port_groups?port_id=${p}`)).data.map((x: { id: string }) => x.id),
    ).to.deep.equal([g]);
    expect((await http.get(`/ports/${p}/port_groups`)).data[0]).to.include({
      portGroupId: g,
      portId: p,
    });
    ok(await http.delete(`/port_groups/${g}/ports/${p}`), 204);
    expect((await store.get('port', p))?.portGroupIds).to.deep.equal([]);
  });

  it('refuses a tunnel zone name that is taken, but not a PUT that keeps its own name', async () => {
    const tz = await post('/tunnel_zones', { name: 'tz' });
    ok(await http.post('/tunnel_zones', { name: 'tz' }), 409);
    ok(await http.put(`/tunnel_zones/${tz}`, { name: 'tz', type: 'gre' }), 204);
    expect((await store.get('tunnel-zone', tz))?.type).to.equal('gre');
  });
});
