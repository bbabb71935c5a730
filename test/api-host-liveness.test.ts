/**
 * What agents report, served in MidoNet's shapes: a host's interfaces
 * (`GET hosts/{id}/interfaces`, `hostInterfaces`) and `alive` from the agent heartbeat, which
 * stops counting once its TTL passes. The agent registers through the API client, as
 * `eucanetd agent --api` does.
 */
import type { AxiosInstance } from 'axios';
import { expect } from 'chai';
import { hostId, silentLogger } from '../src/common/index.js';
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { registerHost } from '../src/datapath/index.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { apiHttp } from './helpers/api-http.js';

const ETH0 = {
  name: 'eth0',
  mac: '02:00:00:00:00:11',
  mtu: 1600,
  isUp: true,
  addresses: ['192.0.2.11'],
};

describe('api: host interfaces and liveness from agent heartbeats', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let http: AxiosInstance;
  let client: TopologyStore;
  const id = hostId('node-9');

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    http = apiHttp(server);
    client = createApiClient({ url: server.url, token: server.token, logger: silentLogger() });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
    await store.close();
  });

  it('serves what the agent registered through the API, alive until the TTL passes', async () => {
    const at = Date.now();
    const ok = await registerHost(client, 'node-9', silentLogger(), 'warn', {
      interfaces: [ETH0],
      ttlMs: 1500,
      at,
    });
    expect(ok).to.equal(true);
    const host = await http.get(`/hosts/${id}`);
    expect(host.status).to.equal(200);
    expect(host.data).to.include({ id, name: 'node-9', alive: true });
    expect(host.data).to.not.have.any.keys('heartbeatAt', 'heartbeatTtlMs');
    expect(host.data.interfaces).to.equal(`${server.url}/hosts/${id}/interfaces`); // MidoNet's link
    const list = await http.get(`/hosts/${id}/interfaces`);
    expect(list.status).to.equal(200);
    expect(list.data).to.deep.equal([
      {
        hostId: id,
        name: 'eth0',
        mac: '02:00:00:00:00:11',
        mtu: 1600,
        status: 3,
        type: 'Unknown',
        endpoint: 'UNKNOWN',
        portType: null,
        addresses: ['192.0.2.11'],
        uri: `${server.url}/hosts/${id}/interfaces/eth0`,
      },
    ]);
    expect(host.data.hostInterfaces).to.deep.equal(list.data);
    expect((await http.get(`/hosts/${id}/interfaces/eth0`)).data).to.deep.equal(list.data[0]);
    const missing = await http.get(`/hosts/${id}/interfaces/eth9`);
    expect(missing.status).to.equal(404);
    expect(JSON.stringify(missing.data)).to.include('eth9');
    // the heartbeat stops counting once its TTL has passed
    await new Promise((r) => setTimeout(r, at + 1600 - Date.now()));
    expect((await http.get(`/hosts/${id}`)).data.alive).to.equal(false);
    // the next heartbeat makes it alive again
    await registerHost(client, 'node-9', silentLogger(), 'warn', {
      interfaces: [ETH0],
      ttlMs: 1500,
      at: Date.now(),
    });
    expect((await http.get(`/hosts/${id}`)).data.alive).to.equal(true);
  });

  it('shows a host no agent reported as not alive, with no interfaces', async () => {
    await store.transaction([
      { op: 'create', kind: 'host', object: { id, name: 'node-9', addresses: [] } as never },
    ]);
    const host = await http.get(`/hosts/${id}`);
    expect(host.data).to.include({ alive: false });
    expect(host.data.hostInterfaces).to.deep.equal([]);
    expect((await http.get(`/hosts/${id}/interfaces`)).data).to.deep.equal([]);
  });

  it('refuses a report whose interface is malformed, naming the field, and keeps the host', async () => {
    await registerHost(client, 'node-9', silentLogger(), 'warn', {
      interfaces: [ETH0],
      ttlMs: 1500,
      at: Date.now(),
    });
    const before = await store.get('host', id);
    const bad = await registerHost(client, 'node-9', silentLogger(), 'debug', {
      interfaces: [{ ...ETH0, mac: 'not-a-mac' }],
      ttlMs: 1500,
      at: Date.now(),
    });
    expect(bad).to.equal(false);
    expect(await store.get('host', id)).to.deep.equal(before);
  });
});
