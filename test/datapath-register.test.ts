/**
 * Agent self-registration: the agent writes its host's addresses to the store it uses, says
 * so at warn level at start when the store refuses, and registers directly in etcd (many
 * writers, no controller lock) while a controller holds the lock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { hostId, type Logger } from '../src/common/index.js';
import { registerHost, runAgent } from '../src/datapath/index.js';
import {
  createMemoryStore,
  openEtcdStore,
  StoreError,
  type TopologyStore,
} from '../src/store/index.js';
import { EtcdCluster, etcdAvailable } from './helpers/etcd.js';

/** A logger keeping every line as { level, message, ...meta }. */
function capture(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

/** The addresses the agent registers: this namespace's non-internal IPv4 addresses. */
function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((l) => l ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address)
    .sort();
}

/** A store whose writes are refused (as a read-only follower's are). */
function readOnly(store: TopologyStore): TopologyStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'transaction')
        return () => Promise.reject(new StoreError('store opened read-only'));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('agent self-registration', function () {
  this.timeout(30_000);
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'edreg-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });
  const once = async (store: TopologyStore, logger: Logger): Promise<void> =>
    runAgent({
      store,
      host: 'node-7',
      netnsPrefix: 'edreg-',
      stateDir,
      logger,
      once: true,
      allowRootNetns: true,
      // nothing is bound to node-7: every read answers empty, nothing is programmed
      runner: async (argv) => {
        if (argv[0] === 'nft' && argv[1] === '-j') throw new Error('no table');
        return '';
      },
    });

  it('writes its addresses to the host object of a store that accepts writes', async () => {
    const store = createMemoryStore();
    const { logger, lines } = capture();
    await once(store, logger);
    const host = await store.get('host', hostId('node-7'));
    expect(host?.name).to.equal('node-7');
    expect(host?.addresses).to.deep.equal(localAddresses());
    expect(lines.filter((l) => l['level'] === 'warn')).to.deep.equal([]);
    await store.close();
  });

  it('says at warn level at start that it could not register', async () => {
    const store = createMemoryStore();
    const { logger, lines } = capture();
    await once(readOnly(store), logger);
    const warned = lines.filter(
      (l) => l['level'] === 'warn' && String(l['message']).startsWith('host not registered'),
    );
    expect(warned).to.have.length(1);
    expect(warned[0]).to.include({ host: 'node-7', host_id: hostId('node-7') });
    expect(String(warned[0]!['error'])).to.include('read-only');
    expect(await store.get('host', hostId('node-7'))).to.equal(undefined);
    await store.close();
  });

  describe('in etcd, beside a controller holding the lock', function () {
    let cluster: EtcdCluster | undefined;
    before(async function () {
      if (!etcdAvailable()) this.skip(); // etcd is not installed (Debian: etcd-server)
      cluster = await EtcdCluster.start();
    });
    after(async () => {
      await cluster?.stop();
    });

    it('registers directly (no lock) and the controller sees the addresses', async () => {
      const spec = cluster!.spec(`reg${process.pid}`);
      const controller = await openEtcdStore(spec, {}); // takes the controller lock
      const agent = await openEtcdStore(spec, { lock: false }); // what `agent --store etcd://…` opens
      try {
        const { logger } = capture();
        expect(await registerHost(agent, 'node-8', logger, 'warn')).to.equal(true);
        let seen: readonly string[] | undefined;
        for (let i = 0; i < 50 && seen === undefined; i++) {
          seen = (await controller.get('host', hostId('node-8')))?.addresses;
          if (seen === undefined) await new Promise((r) => setTimeout(r, 100));
        }
        expect(seen).to.deep.equal(localAddresses());
        // a second registration with the same addresses writes nothing
        const rev = await controller.revision();
        expect(await registerHost(agent, 'node-8', logger, 'warn')).to.equal(true);
        expect(await agent.revision()).to.equal(rev);
      } finally {
        await agent.close();
        await controller.close();
      }
    });
  });
});
