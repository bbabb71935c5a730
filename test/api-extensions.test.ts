/**
 * Our extensions (transaction, watch, raw objects, revision), the listen options (unix socket,
 * loopback only unless allowed) and the client's remote-only behaviour: retries on 5xx and
 * connection errors but never on 4xx, typed errors, and a watch that resumes after the server
 * went away and came back.
 */
import { expect } from 'chai';
import type { AxiosInstance } from 'axios';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { createApiClient, parseAuthConfig, startApiServer } from '../src/api/index.js';
import { startTestApiServer, type TestApiServer } from '../src/api/testing.js';
import {
  AlreadyExistsError,
  createMemoryStore,
  InvalidFieldError,
  NotFoundError,
  RevisionCompactedError,
  StoreUnavailableError,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { apiHttp } from './helpers/api-http.js';

const router = (id: string, name = `router-${id}`): Op =>
  ({ op: 'create', kind: 'router', object: { id, name, adminStateUp: true } }) as unknown as Op;

/** Wraps a store: counts transactions and fails the first `failures` of them with a bug. */
function faultyStore(inner: TopologyStore, failures: number): TopologyStore & { calls: number } {
  const wrapper = {
    calls: 0,
    get: inner.get.bind(inner),
    getByName: inner.getByName.bind(inner),
    list: inner.list.bind(inner),
    revision: inner.revision.bind(inner),
    watch: inner.watch.bind(inner),
    close: inner.close.bind(inner),
    transaction: async (ops: readonly Op[]) => {
      wrapper.calls++;
      if (wrapper.calls <= failures) throw new Error('injected failure');
      return inner.transaction(ops);
    },
  };
  return wrapper;
}

async function firstEvents(stream: Readable, count: number): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += String(chunk);
    if ((text.match(/^event: change$/gm) ?? []).length >= count) break;
  }
  stream.destroy();
  return text;
}

describe('api extensions and client', () => {
  let store: TopologyStore;
  let server: TestApiServer;
  let http: AxiosInstance;

  beforeEach(async () => {
    store = createMemoryStore({ historySize: 3 });
    server = await startTestApiServer(store);
    http = apiHttp(server);
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('commits a transaction atomically and reports store errors by name', async () => {
    const ok = await http.post('/eucanetd/transaction', { ops: [router('r1'), router('r2')] });
    expect(ok.status).to.equal(200);
    expect(ok.data).to.deep.equal({ revision: 1 });
    const dup = await http.post('/eucanetd/transaction', { ops: [router('r3'), router('r1')] });
    expect(dup.status).to.equal(409);
    expect(dup.data).to.include({ error: 'AlreadyExistsError', kind: 'router', id: 'r1' });
    expect(await store.get('router', 'r3'), 'nothing of a failed transaction').to.equal(undefined);
    const bad = await http.post('/eucanetd/transaction', {
      ops: [{ op: 'explode', kind: 'router' }],
    });
    expect(bad.status).to.equal(400);
    expect((await http.get('/eucanetd/revision')).data).to.deep.equal({ revision: 1 });
    const raw = await http.get('/eucanetd/objects/router', {
      params: { filter: JSON.stringify({ name: 'router-r2' }) },
    });
    expect(raw.data.map((r: { id: string }) => r.id)).to.deep.equal(['r2']);
  });

  it('applies a retried transaction once when it carries the same request id', async () => {
    const headers = { 'x-request-id': 'req-1' };
    const first = await http.post('/eucanetd/transaction', { ops: [router('r1')] }, { headers });
    const again = await http.post('/eucanetd/transaction', { ops: [router('r1')] }, { headers });
    expect(again.status).to.equal(200);
    expect(again.data).to.deep.equal(first.data);
  });

  it('streams commits as server-sent events with the revision as id, and 410 once compacted', async () => {
    await store.transaction([router('r1')]);
    const res = await http.get('/eucanetd/watch?from=0', { responseType: 'stream' });
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.contain('text/event-stream');
    await store.transaction([router('r2')]);
    const text = await firstEvents(res.data as Readable, 2);
    expect(text.match(/^id: (\d+)$/gm)).to.deep.equal(['id: 1', 'id: 2']);
    for (let i = 3; i <= 8; i++) await store.transaction([router(`r${i}`)]);
    const gone = await http.get('/eucanetd/watch?from=0');
    expect(gone.status).to.equal(410);
    expect(gone.data.error).to.equal('RevisionCompactedError');
    const client = createApiClient({ url: server.url, token: server.token });
    const it = client.watch(0)[Symbol.asyncIterator]();
    let thrown: unknown;
    await it.next().catch((e: unknown) => (thrown = e));
    expect(thrown).to.be.instanceOf(RevisionCompactedError);
    await client.close();
  });

  it('maps errors back to store classes and never retries a 4xx', async () => {
    const counting = faultyStore(createMemoryStore(), 0);
    const other = await startTestApiServer(counting);
    const client = createApiClient({ url: other.url, token: other.token, minBackoffMs: 1 });
    try {
      await client.transaction([router('r1')]);
      const err = await client.transaction([router('r1')]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(AlreadyExistsError);
      expect(counting.calls).to.equal(2);
      const invalid = await client
        .transaction([router('r2', 7 as unknown as string)])
        .catch((e: unknown) => e);
      expect(invalid).to.be.instanceOf(InvalidFieldError);
      expect(counting.calls, 'validation refused it before the store').to.equal(2);
      const missing = await client
        .transaction([{ op: 'delete', kind: 'router', id: 'nope' }])
        .catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(NotFoundError);
      expect(await client.get('router', 'nope')).to.equal(undefined);
    } finally {
      await client.close();
      await other.close();
    }
  });

  it('retries a 5xx with backoff until it succeeds', async () => {
    const flaky = faultyStore(createMemoryStore(), 2);
    const other = await startTestApiServer(flaky);
    const client = createApiClient({
      url: other.url,
      token: other.token,
      minBackoffMs: 1,
      retries: 3,
    });
    try {
      expect(await client.transaction([router('r1')])).to.deep.equal({ revision: 1 });
      expect(flaky.calls).to.equal(3);
    } finally {
      await client.close();
      await other.close();
    }
  });

  it('gives up on a server that does not answer with StoreUnavailableError', async () => {
    const gone = await startTestApiServer(createMemoryStore());
    await gone.close();
    const client = createApiClient({
      url: gone.url,
      token: gone.token,
      minBackoffMs: 1,
      retries: 2,
    });
    const err = await client.revision().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StoreUnavailableError);
    await client.close();
  });

  it('resumes a watch from the last revision after the server restarts', async () => {
    const port = Number(new URL(server.url).port);
    const client = createApiClient({
      url: server.url,
      token: server.token,
      minBackoffMs: 5,
      retries: 20,
    });
    const it = client.watch(0)[Symbol.asyncIterator]();
    await store.transaction([router('r1')]);
    expect((await it.next()).value?.revision).to.equal(1);
    await server.close();
    server = await startApiServer({
      store,
      auth: parseAuthConfig(JSON.stringify({ tokens: [server.token] })),
      listen: { host: '127.0.0.1', port },
    }).then((s) => Object.assign(s, { token: server.token, user: server.user, auth: server.auth }));
    await store.transaction([router('r2')]);
    const next = await it.next();
    expect(next.value?.revision, 'no event lost or repeated').to.equal(2);
    await it.return?.();
    await client.close();
  });

  it('logs in with user credentials from a token file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-token-'));
    try {
      const file = join(dir, 'token.json');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, JSON.stringify({ users: [server.user] }));
      const client = createApiClient({
        url: server.url.replace('/midonet-api', ''),
        tokenFile: file,
      });
      await client.transaction([router('r1')]);
      expect((await client.list('router')).map((r) => r.id)).to.deep.equal(['r1']);
      await client.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('listens on a unix socket, and refuses a non-loopback address unless allowed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'api-sock-'));
    const path = join(dir, 'api.sock');
    const s = await startTestApiServer(store, { listen: { path } });
    try {
      const client = createApiClient({ url: `unix:${path}`, token: s.token });
      await client.transaction([router('r1')]);
      expect(await client.revision()).to.equal(1);
      await client.close();
    } finally {
      await s.close();
      await rm(dir, { recursive: true, force: true });
    }
    const refused = await startTestApiServer(store, { listen: { host: '0.0.0.0', port: 0 } }).catch(
      (e: unknown) => e,
    );
    expect(String(refused)).to.contain('--allow-remote');
  });
});
