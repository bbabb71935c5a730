/**
 * API benchmark (issue 6 targets). The server runs in a child process (its own event loop, as
 * in production) over a memory store; this process is the clients.
 *   1. GETs/s: `GET /routers/{id}` with C concurrent keep-alive clients (target >= 5,000/s);
 *   2. small creates/s: `POST /routers` with C concurrent clients (target >= 2,000/s);
 *   3. cold build of the M document: reconcile into an empty store through the API client vs
 *      the embedded memory store in this process (target: API <= 3x).
 * Usage: npx tsx scripts/bench-api.ts [--concurrency 32] [--seconds 3] [--size M] [--seed 1]
 */
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer } from '../src/api/testing.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore } from '../src/store/index.js';
import { generateView } from './lib/gni-generator.js';
import { arg } from './lib/bench-cli.js';

/** Child mode (baseline): a bare node:http server answering every request with a fixed JSON
 * body of a router's size; what node alone can do on this machine at this moment. */
function serveBare(): void {
  const body = JSON.stringify({ id: '0'.repeat(36), name: 'x'.repeat(600) });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(req.method === 'POST' ? 201 : 200, {
        'content-type': 'application/json',
        location: '/x/y',
      });
      res.end(req.method === 'POST' ? undefined : body);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address() as { port: number };
    process.send!({ url: `http://127.0.0.1:${a.port}/midonet-api`, token: '' });
  });
  process.on('message', (m) => {
    if (m === 'stop') process.exit(0);
  });
}

/** Child mode: serve a fresh memory store and report the URL and token to the parent. */
async function serve(): Promise<void> {
  const store = createMemoryStore();
  const server = await startTestApiServer(store);
  process.send!({ url: server.url, token: server.token });
  process.on('message', (m) => {
    if (m === 'stop') void server.close().then(() => process.exit(0));
  });
}

interface Child {
  readonly url: string;
  readonly token: string;
  stop(): void;
}

function startChild(mode = '--serve'): Promise<Child> {
  const child = fork(process.argv[1]!, [mode], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m) => {
      const { url, token } = m as { url: string; token: string };
      resolve({ url, token, stop: () => child.send('stop') });
    });
  });
}

/** Runs `op` from `concurrency` loops for `seconds`; returns completed ops per second. */
async function rate(
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<void>,
): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op(done);
        done++;
      }
    }),
  );
  return done / ((performance.now() - t0) / 1000);
}

/** GET and create rates against a server child (best of the run; 1 s warm-up each). */
async function measure(
  mode: string,
  concurrency: number,
  seconds: number,
): Promise<{ gets: number; creates: number }> {
  const child = await startChild(mode);
  // the load is made with plain node:http (axios costs more per request than the server does,
  // and both share the same two cores)
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const base = new URL(child.url);
  const call = (
    method: string,
    path: string,
    body?: string,
  ): Promise<{ status: number; location: string | undefined }> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'x-auth-token': child.token };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const req = request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path: `${base.pathname}${path}`,
          agent,
          headers,
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, location: res.headers.location }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    const ids: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const res = await call('POST', '/routers', JSON.stringify({ name: `seed-${i}` }));
      ids.push(String(res.location).split('/').pop()!);
      if (mode !== '--serve') break;
    }
    const get = async (i: number): Promise<void> => {
      const res = await call('GET', `/routers/${ids[i % ids.length]!}`);
      if (res.status !== 200) throw new Error(`GET ${res.status}`);
    };
    const create = async (i: number): Promise<void> => {
      const res = await call(
        'POST',
        '/routers',
        JSON.stringify({ name: `r-${i}`, tenantId: 'bench' }),
      );
      if (res.status !== 201) throw new Error(`POST ${res.status}`);
    };
    await rate(concurrency, 1, get); // warm-up
    await rate(concurrency, 1, create);
    const gets = await rate(concurrency, seconds, get);
    const creates = await rate(concurrency, seconds, create);
    return { gets, creates };
  } finally {
    agent.destroy();
    child.stop();
  }
}

async function main(): Promise<void> {
  const concurrency = Number(arg('concurrency', '32'));
  const seconds = Number(arg('seconds', '3'));
  const size = arg('size', 'M') as 'S' | 'M' | 'L' | 'XL';
  const seed = Number(arg('seed', '1'));
  console.log(
    `machine: ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(`concurrency ${concurrency}, ${seconds} s per rate; server in a child process`);

  // API and bare baseline, interleaved twice: the machine is shared, so the ratio to the
  // baseline measured at the same time says more than the absolute figure
  const results = {
    api: { get: [] as number[], create: [] as number[] },
    bare: { get: [] as number[], create: [] as number[] },
  };
  for (let round = 0; round < 2; round++) {
    for (const mode of ['bare', 'api'] as const) {
      const r = await measure(mode === 'api' ? '--serve' : '--serve-bare', concurrency, seconds);
      results[mode].get.push(r.gets);
      results[mode].create.push(r.creates);
    }
  }
  const best = (xs: number[]): number => Math.round(Math.max(...xs));
  const { api, bare } = results;
  console.log(
    `GET /routers/{id}: ${best(api.get)} req/s (target >= 5000); bare node:http ${best(bare.get)} req/s; ratio ${(best(api.get) / best(bare.get)).toFixed(2)}`,
  );
  console.log(
    `POST /routers: ${best(api.create)} creates/s (target >= 2000); bare node:http ${best(bare.create)} req/s; ratio ${(best(api.create) / best(bare.create)).toFixed(2)}`,
  );

  const view = generateView({ size, seed });
  console.log(`cold build: document size ${size} seed ${seed}, ${view.instances.length} instances`);
  const direct = createMemoryStore();
  let t = performance.now();
  const viaStore = await reconcileView(direct, view, DEFAULT_MAPPING_CONFIG);
  const storeMs = performance.now() - t;
  await direct.close();
  const remote = await startChild();
  const client = createApiClient({ url: remote.url, token: remote.token });
  try {
    t = performance.now();
    const viaApi = await reconcileView(client, view, DEFAULT_MAPPING_CONFIG);
    const apiMs = performance.now() - t;
    if (viaApi.plan.counts.create !== viaStore.plan.counts.create)
      throw new Error('the two builds differ');
    console.log(
      `cold build: embedded store ${Math.round(storeMs)} ms, API ${Math.round(apiMs)} ms, ` +
        `${viaStore.plan.counts.create} objects; ratio ${(apiMs / storeMs).toFixed(2)}x (target <= 3x)`,
    );
  } finally {
    await client.close();
    remote.stop();
  }
}

if (process.argv.includes('--serve-bare')) serveBare();
else if (process.argv.includes('--serve')) void serve();
else
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
