/**
 * HTTP tests of the API server over a memory store: auth, CRUD, error statuses, body limits and
 * media types. The real server runs on 127.0.0.1 port 0.
 */
import { expect } from 'chai';
import axios, { type AxiosInstance } from 'axios';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { apiHttp } from './helpers/api-http.js';

describe('api server: auth, CRUD and errors', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let http: AxiosInstance;

  beforeEach(async () => {
    store = createMemoryStore();
    server = await startTestApiServer(store);
    http = apiHttp(server, { maxBodyLength: Infinity });
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  async function createRouter(body: object): Promise<string> {
    const res = await http.post('/routers', body);
    expect(res.status, JSON.stringify(res.data)).to.equal(201);
    return res.headers['location'] as string;
  }

  describe('authentication', () => {
    it('refuses a call without a token, or with a wrong one, with 401 and an error body', async () => {
      const none = await axios.get(`${server.url}/routers`, { validateStatus: () => true });
      expect(none.status).to.equal(401);
      expect(none.data).to.include({ code: 401 });
      expect(none.data.message).to.be.a('string');
      expect(none.headers['www-authenticate']).to.match(/^Basic/);
      const wrong = await http.get('/routers', {
        headers: { 'x-auth-token': 'not-the-token-at-all' },
      });
      expect(wrong.status).to.equal(401);
    });

    it('logs in with Basic credentials and accepts the token it returns', async () => {
      const login = await axios.post(`${server.url}/login`, undefined, {
        auth: { username: server.user.name, password: server.user.password },
        validateStatus: () => true,
      });
      expect(login.status).to.equal(200);
      expect(login.data.key).to.be.a('string').with.length.greaterThan(20);
      expect(Date.parse(login.data.expires)).to.be.greaterThan(Date.now());
      expect(String(login.headers['set-cookie'])).to.contain(`sessionId=${login.data.key}`);
      const ok = await http.get('/routers', { headers: { 'x-auth-token': login.data.key } });
      expect(ok.status).to.equal(200);
    });

    it('refuses a login with a wrong password', async () => {
      const res = await axios.post(`${server.url}/login`, undefined, {
        auth: { username: server.user.name, password: 'wrong-password' },
        validateStatus: () => true,
      });
      expect(res.status).to.equal(401);
      const none = await axios.post(`${server.url}/login`, undefined, {
        validateStatus: () => true,
      });
      expect(none.status).to.equal(401);
    });
  });

  describe('discovery', () => {
    it('serves the root document with version, collections, templates and systemState', async () => {
      const res = await http.get('/', {
        headers: { accept: 'application/vnd.org.midonet.Application-v5+json' },
      });
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.contain(
        'application/vnd.org.midonet.Application-v5+json',
      );
      expect(res.data.version).to.equal('v5.0');
      expect(res.data.routers).to.equal(`${server.url}/routers`);
      expect(res.data.routerTemplate).to.equal(`${server.url}/routers/{id}`);
      expect(res.data.ruleTemplate).to.equal(`${server.url}/rules/{id}`);
      const state = await http.get(res.data.systemState);
      expect(state.data).to.include({ state: 'ACTIVE', availability: 'READWRITE' });
    });
  });

  describe('CRUD', () => {
    it('creates (201 + Location), reads, lists, replaces (204) and deletes (204) a router', async () => {
      const location = await createRouter({ name: 'r1', tenantId: 't1', adminStateUp: false });
      expect(location).to.match(new RegExp(`^${server.url}/routers/[0-9a-f-]{36}$`));
      const got = await http.get(location);
      expect(got.data).to.include({
        name: 'r1',
        tenantId: 't1',
        adminStateUp: false,
        uri: location,
      });
      expect(got.data.ports).to.equal(`${location}/ports`);
      const id = got.data.id as string;
      expect((await store.get('router', id))?.name).to.equal('r1');

      const listed = await http.get('/routers?tenant_id=t1');
      expect(listed.data.map((r: { id: string }) => r.id)).to.deep.equal([id]);
      expect((await http.get('/routers?tenant_id=other')).data).to.deep.equal([]);

      const put = await http.put(location, { name: 'r1-renamed' });
      expect(put.status).to.equal(204);
      const after = await store.get('router', id);
      expect(after?.name).to.equal('r1-renamed');
      expect(after?.adminStateUp, 'omitted field back to its default').to.equal(true);
      expect(after?.tenantId, 'omitted optional field unset').to.equal(undefined);

      expect((await http.delete(location)).status).to.equal(204);
      expect(await store.get('router', id)).to.equal(undefined);
      expect((await http.get(location)).status).to.equal(404);
    });

    it('keeps a client-chosen id', async () => {
      const id = '0b5f3ab4-3c5e-4d43-9c43-21b9f5b0a001';
      const location = await createRouter({ id, name: 'mine' });
      expect(location).to.equal(`${server.url}/routers/${id}`);
      expect((await http.post('/routers', { id, name: 'again' })).status).to.equal(409);
    });

    it('answers 404 for unknown ids on GET, PUT and DELETE', async () => {
      const unknown = '/routers/11111111-2222-4333-8444-555555555555';
      for (const res of [
        await http.get(unknown),
        await http.put(unknown, { name: 'x' }),
        await http.delete(unknown),
      ]) {
        expect(res.status).to.equal(404);
        expect(res.data).to.include({ code: 404 });
      }
      expect((await http.get('/no_such_collection')).status).to.equal(404);
    });
  });

  describe('validation and limits', () => {
    it('answers 400 on malformed JSON before the store sees anything', async () => {
      const res = await http.post('/routers', '{"name": "r1",', {
        headers: { 'content-type': 'application/json' },
        transformRequest: [(d: unknown) => d],
      });
      expect(res.status).to.equal(400);
      expect(res.data.message).to.match(/malformed JSON/);
      expect(await store.revision()).to.equal(0);
    });

    it('answers 400 with a violation list on fields of the wrong type or range', async () => {
      const bad = await http.post('/routers', { name: 5, adminStateUp: 'maybe' });
      expect(bad.status).to.equal(400);
      const props = (bad.data.violations as { property: string }[]).map((v) => v.property);
      expect(props).to.have.members(['name', 'adminStateUp']);
      const missing = await http.post('/tunnel_zones', { type: 'vxlan' });
      expect(missing.status).to.equal(400);
      expect(missing.data.violations[0].property).to.equal('name');
      const bridge = await http.post('/bridges', { name: 'b' });
      const portRes = await http.post(`${bridge.headers['location']}/ports`, { vlanId: 5000 });
      expect(portRes.status).to.equal(400);
      expect(await store.list('port')).to.deep.equal([]);
    });

    it('answers 400 when a body references an object that does not exist', async () => {
      const res = await http.post('/routers', {
        name: 'r',
        inboundFilterId: '11111111-2222-4333-8444-555555555555',
      });
      expect(res.status).to.equal(400);
      expect(res.data.error).to.equal('NotFoundError');
    });

    it('accepts numeric strings for numeric fields (the MidoNet client sends them)', async () => {
      const bridge = await http.post('/bridges', { name: 'b' });
      const res = await http.post(`${bridge.headers['location']}/dhcp`, {
        subnetPrefix: '10.0.0.0',
        subnetLength: '24',
      });
      expect(res.status).to.equal(201);
      expect(res.headers['location']).to.match(/\/dhcp\/10\.0\.0\.0_24$/);
    });

    it('answers 413 on a body over the limit', async () => {
      const res = await http.post('/routers', { name: 'r', pad: 'x'.repeat(2 << 20) });
      expect(res.status).to.equal(413);
      expect(res.data.code).to.equal(413);
      expect(await store.revision()).to.equal(0);
    });

    it('negotiates media types: vendor and plain JSON accepted, others refused', async () => {
      const vendor = 'application/vnd.org.midonet.Router-v3+json';
      const created = await http.post(
        '/routers',
        { name: 'r' },
        { headers: { 'content-type': vendor } },
      );
      expect(created.status).to.equal(201);
      const one = await http.get(created.headers['location'] as string, {
        headers: { accept: vendor },
      });
      expect(one.headers['content-type']).to.contain(vendor);
      const list = await http.get('/routers', {
        headers: { accept: 'application/vnd.org.midonet.collection.Router-v3+json' },
      });
      expect(list.status).to.equal(200);
      const plain = await http.get('/routers', { headers: { accept: 'application/json' } });
      expect(plain.headers['content-type']).to.contain('application/json');
      const wrong = await http.get('/routers', {
        headers: { accept: 'application/vnd.org.midonet.Bridge-v4+json' },
      });
      expect(wrong.status).to.equal(406);
      const badBody = await http.post('/routers', 'name=r', {
        headers: { 'content-type': 'text/plain' },
      });
      expect(badBody.status).to.equal(415);
    });

    it('answers 405 with Allow for a method the resource does not have', async () => {
      const res = await http.put('/routes/abc', {});
      expect(res.status).to.equal(405);
      expect(res.headers['allow']).to.contain('GET');
    });
  });
});
