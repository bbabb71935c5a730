/**
 * The HTTP edge never answers 500 for what a client sends: malformed percent-encoding and bad
 * paths are 400, a body without a JSON media type is 415 (MidoNet vendor types keep working),
 * and additions to member lists retry their version conflicts inside the server, so parallel
 * additions all succeed while a genuine conflict is still a 409.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import axios, { type AxiosInstance } from 'axios';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { apiHttp } from './helpers/api-http.js';

interface Raw {
  status: number;
  body: { message?: string; code?: number; error?: string };
}

/** A request with the path sent byte for byte (no client-side normalisation). */
function raw(
  server: TestApiServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Raw> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { 'x-auth-token': server.token, ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Raw['body']) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('api edge: 400 for bad paths, 415 for bodies that are not JSON, no lost member adds', () => {
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

  async function post(path: string, body: object): Promise<string> {
    const res = await http.post(path, body);
    expect(res.status, `POST ${path}: ${JSON.stringify(res.data)}`).to.equal(201);
    return (res.headers['location'] as string).split('/').pop()!;
  }

  it('answers 400 naming the segment for malformed percent-encoding and bad segments', async () => {
    for (const path of [
      '/midonet-api/routers/%ZZ',
      '/midonet-api/routers/%E0%A4%A',
      '/midonet-api/routers/%',
      '/midonet-api/ip_addr_groups/g/versions/4/ip_addrs/%C0',
    ]) {
      const r = await raw(server, 'GET', path);
      expect(r.status, path).to.equal(400);
      expect(r.body.message, path).to.match(/malformed percent-encoding in path segment \d+/);
      expect(r.body.code).to.equal(400);
    }
    for (const path of [
      '/midonet-api/routers/%2e%2e',
      '/midonet-api/routers/a%2Fb',
      '/midonet-api/routers/a%00b',
      '/midonet-api/routers/%0a',
    ]) {
      const r = await raw(server, 'GET', path);
      expect(r.status, path).to.equal(400);
      expect(r.body.message, path).to.match(/^bad path segment 2: /);
    }
    const del = await raw(server, 'DELETE', '/midonet-api/routers/%ZZ');
    expect(del.status).to.equal(400);
    const target = await raw(server, 'GET', '//midonet-api/routers');
    expect(target.status).to.equal(400);
    // a well-formed escape still reaches the resource (404: no such router)
    expect((await raw(server, 'GET', '/midonet-api/routers/r%2D1')).status).to.equal(404);
    expect(await store.revision(), 'nothing was written').to.equal(0);
  });

  it('answers 415 for a body without a JSON media type, and accepts JSON and vendor types', async () => {
    const body = JSON.stringify({ name: 'r' });
    const none = await raw(server, 'POST', '/midonet-api/routers', {}, body);
    expect(none.status).to.equal(415);
    expect(none.body.message).to.match(/without a content type/);
    const text = await raw(
      server,
      'POST',
      '/midonet-api/routers',
      { 'content-type': 'text/plain' },
      body,
    );
    expect(text.status).to.equal(415);
    expect(text.body.message).to.include('text/plain');
    const other = await raw(
      server,
      'POST',
      '/midonet-api/routers',
      { 'content-type': 'application/vnd.org.midonet.Bridge-v3+json' },
      body,
    );
    expect(other.status).to.equal(415);
    const put = await raw(server, 'PUT', '/midonet-api/routers/x', {}, body);
    expect(put.status).to.equal(415);
    expect(await store.list('router'), 'nothing was created').to.deep.equal([]);
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/vnd.org.midonet.Router-v3+json',
      'application/vnd.org.midonet.Router-v1+json; charset=UTF-8',
    ]) {
      const ok = await raw(server, 'POST', '/midonet-api/routers', { 'content-type': type }, body);
      expect(ok.status, type).to.equal(201);
    }
    // a POST without a body needs no content type (a login, for one)
    const login = await axios.post(`${server.url}/login`, undefined, {
      auth: { username: server.user.name, password: server.user.password },
      validateStatus: () => true,
    });
    expect(login.status).to.equal(200);
  });

  it('adds 50 members in parallel to each member list, every one succeeding', async function () {
    this.timeout(60_000);
    const n = 50;
    const g = await post('/ip_addr_groups', { name: 'sg' });
    const tz = await post('/tunnel_zones', { name: 'tz', type: 'vxlan' });
    const pg = await post('/port_groups', { name: 'pg' });
    const b = await post('/bridges', { name: 'b' });
    await post(`/bridges/${b}/dhcp`, { subnetPrefix: '10.0.0.0', subnetLength: 16 });
    const hosts: string[] = [];
    const ports: string[] = [];
    for (let i = 0; i < n; i++) {
      hosts.push(await post('/hosts', { name: `h${i}`, addresses: [`192.0.2.${i + 1}`] }));
      ports.push(await post(`/bridges/${b}/ports`, {}));
    }
    // another writer keeps changing the group meanwhile: the server retries those conflicts
    let stop = false;
    const other = (async () => {
      for (let i = 0; !stop; i++) {
        const cur = await store.get('ip-addr-group', g);
        await store
          .transaction([
            {
              op: 'update',
              kind: 'ip-addr-group',
              object: { ...cur!, name: `sg-${i}` } as never,
              expectedVersion: cur!.version,
            },
          ])
          .catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const statuses = await Promise.all([
      ...Array.from({ length: n }, (_, i) =>
        http.post(`/ip_addr_groups/${g}/ip_addrs`, { addr: `10.1.0.${i + 1}`, version: 4 }),
      ),
      ...hosts.map((h, i) =>
        http.post(`/tunnel_zones/${tz}/hosts`, { hostId: h, ipAddress: `192.0.2.${i + 1}` }),
      ),
      ...ports.map((p) => http.post(`/port_groups/${pg}/ports`, { portId: p })),
      ...Array.from({ length: n }, (_, i) =>
        http.post(`/bridges/${b}/dhcp/10.0.0.0_16/hosts`, {
          macAddr: `02:00:00:00:00:${(i + 16).toString(16)}`,
          ipAddr: `10.0.1.${i + 1}`,
        }),
      ),
    ]).then((rs) => rs.map((r) => r.status));
    stop = true;
    await other;
    expect(
      statuses.filter((s) => s !== 201),
      'non-201 answers',
    ).to.deep.equal([]);
    expect((await store.get('ip-addr-group', g))?.addresses).to.have.length(n);
    expect((await store.get('tunnel-zone', tz))?.hosts).to.have.length(n);
    expect((await store.get('port-group', pg))?.portIds).to.have.length(n);
    const [subnet] = await store.list('dhcp-subnet');
    expect(subnet?.hosts).to.have.length(n);
    // an addition that is not new is still refused, and so is a stale versioned update
    const dup = await http.post(`/ip_addr_groups/${g}/ip_addrs`, { addr: '10.1.0.1', version: 4 });
    expect(dup.status).to.equal(409);
    const cur = await store.get('ip-addr-group', g);
    const stale = await http.post('/eucanetd/transaction', {
      ops: [
        {
          op: 'update',
          kind: 'ip-addr-group',
          object: { id: g, name: 'stale', addresses: [] },
          expectedVersion: cur!.version - 1,
        },
      ],
    });
    expect(stale.status).to.equal(409);
    expect(stale.data).to.include({ error: 'ConcurrentModificationError' });
    expect((await store.get('ip-addr-group', g))?.addresses).to.have.length(n);
  });
});
