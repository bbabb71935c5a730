/**
 * The etcd backend against real etcd servers on loopback: two writers racing on one prefix,
 * a watch from history another client wrote, the controller lock, an etcd restart in the
 * middle of a cycle, a three-member cluster with one member stopped, and a controller plus two
 * reader processes of the CLI sharing one etcd.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import winston from 'winston';
import { silentLogger, type Logger } from '../src/common/index.js';
import { readFileSync, existsSync } from 'node:fs';
import { readGni } from '../src/gni/index.js';
import { Controller, DEFAULT_SETTINGS, reconcileView } from '../src/reconciler/index.js';
import {
  createMemoryStore,
  KINDS,
  openEtcdStore,
  StoreUnavailableError,
  type ChangeEvent,
  type EtcdStoreOptions,
  type Op,
  type TopologyReader,
  type TopologyStore,
} from '../src/store/index.js';
import { EtcdCluster, etcdAvailable } from './helpers/etcd.js';
import { repoPath } from './helpers/gni-doc.js';
import { router, routerPort } from './helpers/store-conformance.js';

const run = promisify(execFile);
const MEDIUM = repoPath('fixtures/gni/medium.xml');

/** Every object of every kind, for comparing two stores. */
async function dump(store: TopologyReader): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const kind of KINDS) out[kind] = await store.list(kind);
  return out;
}

/** Polls `cond` every 50 ms (waiting on other processes, not on time). */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A store whose transactions call `before(n)` (n = 1, 2, …) first: fault injection. It has
 * no bulk path, so a build goes through transactions (a restart during a bulk build:
 * store-etcd-bulk.test.ts). */
function intercept(inner: TopologyStore, before: (n: number) => Promise<void>): TopologyStore {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'bulkCreate' || prop === 'bulkDelete') return undefined;
      if (prop === 'transaction') {
        return async (ops: readonly Op[]) => {
          await before(++n);
          return target.transaction(ops);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A logger that records message texts. */
function recordingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { message?: unknown }, _enc, cb) {
      messages.push(String(info.message));
      cb();
    },
  });
  const logger = winston.createLogger({ transports: [new winston.transports.Stream({ stream })] });
  return { logger, messages };
}

/** Objects without their store-assigned versions (which depend on how commits were split). */
function unversioned(d: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(d, (k, v: unknown) => (k === 'version' ? undefined : v)));
}

describe('etcd backend', function () {
  this.timeout(60_000);
  let cluster: EtcdCluster | undefined;
  const opened: TopologyStore[] = [];
  let n = 0;
  const prefix = (): string => `t-${process.pid}-${++n}`;
  const open = async (spec: string, options: EtcdStoreOptions = {}): Promise<TopologyStore> => {
    const s = await openEtcdStore(spec, options);
    opened.push(s);
    return s;
  };

  before(async function () {
    if (!etcdAvailable()) {
      this.skip(); // etcd is not installed (Debian: apt-get install etcd-server)
    }
    cluster = await EtcdCluster.start();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await cluster?.stop();
  });

  it('lets two writers race on one prefix without losing a back-reference', async () => {
    const spec = cluster!.spec(prefix());
    const a = await open(spec, { lock: false });
    const b = await open(spec, { lock: false });
    await a.transaction([router('r1')]);
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      writes.push(a.transaction([routerPort(`pa${i}`, 'r1')]));
      writes.push(b.transaction([routerPort(`pb${i}`, 'r1')]));
    }
    const revs = (await Promise.all(writes)).map((r) => (r as { revision: number }).revision);
    expect([...revs].sort((x, y) => x - y)).to.deep.equal(
      Array.from({ length: 20 }, (_, i) => i + 2),
    );
    await until(async () => (await a.revision()) === 21 && (await b.revision()) === 21);
    const portIds = ((await a.get('router', 'r1'))?.portIds ?? []).slice().sort();
    expect(portIds).to.have.length(20);
    expect(await dump(b)).to.deep.equal(await dump(a));
  });

  it('serves a watch from revisions committed before it opened, from etcd history', async () => {
    const spec = cluster!.spec(prefix());
    const w = await open(spec, { lock: false });
    await w.transaction([router('r1')]);
    await w.transaction([routerPort('p1', 'r1')]);
    await w.transaction([{ op: 'delete', kind: 'router', id: 'r1' }]);
    const late = await open(spec, { readOnly: true });
    expect(await late.revision()).to.equal(3);
    const ac = new AbortController();
    const it = late.watch(1, ac.signal)[Symbol.asyncIterator]();
    const ev2 = (await it.next()).value as ChangeEvent;
    const ev3 = (await it.next()).value as ChangeEvent;
    expect(ev2.revision).to.equal(2);
    expect(ev2.changes.map((c) => `${c.type} ${c.kind}/${c.id}`).sort()).to.deep.equal([
      'created port/p1',
      'updated router/r1',
    ]);
    expect(ev3.changes.map((c) => `${c.type} ${c.kind}/${c.id}`).sort()).to.deep.equal([
      'deleted port/p1',
      'deleted router/r1',
    ]);
    const live = it.next();
    await w.transaction([router('r9')]);
    expect(((await live).value as ChangeEvent).revision).to.equal(4);
    ac.abort();
    const refused = await late.transaction([router('x')]).catch((e: unknown) => e);
    expect(String(refused)).to.match(/read-only/);
  });

  it('makes a second writer wait for the controller lock and take over when the first stops', async () => {
    const spec = cluster!.spec(prefix());
    const first = await open(spec, { holder: 'first' });
    await first.transaction([router('r1')]);
    const { logger, messages } = recordingLogger();
    let secondOpen = false;
    const second = openEtcdStore(spec, { holder: 'second', logger }).then((s) => {
      secondOpen = true;
      opened.push(s);
      return s;
    });
    await until(() => messages.includes('waiting for the controller lock held by another process'));
    await first.transaction([router('r2')]);
    expect(secondOpen).to.equal(false);
    await first.close();
    const s = await second;
    expect(await s.revision()).to.equal(2);
    expect((await s.transaction([router('r3')])).revision).to.equal(3);
  });

  it('fences a writer whose lock was taken over', async () => {
    const spec = cluster!.spec(prefix());
    const first = await open(spec, { holder: 'first' });
    await first.transaction([router('r1')]);
    // Take the lock from under it, as an expired lease would: delete the key.
    await run(
      'etcdctl',
      ['--endpoints', cluster!.endpoints, 'del', `/${spec.split('/').pop()}/lock/controller`],
      {
        env: { ...process.env, ETCDCTL_API: '3' },
      },
    );
    const second = await open(spec, { holder: 'second' });
    await second.transaction([router('r2')]);
    const err = await first.transaction([router('r3')]).catch((e: unknown) => e);
    expect(String(err)).to.match(/StoreLockedError: .* lost the controller lock .* to second/);
    expect((await second.list('router')).map((r) => r.id)).to.deep.equal(['r1', 'r2']);
  });

  it('converges after an etcd restart in the middle of a cycle, with nothing lost', async () => {
    const spec = cluster!.spec(prefix());
    const view = readGni(readFileSync(MEDIUM)).view!;
    const reference = createMemoryStore();
    await reconcileView(reference, view, DEFAULT_SETTINGS.mapping);
    const store = await open(spec);
    const follower = await open(spec, { readOnly: true }); // its watch must survive the restart
    const member = cluster!.members[0]!;
    const faulty = intercept(store, async (i) => {
      if (i === 3) await member.stop(); // two chunks committed, the third meets a dead etcd
    });
    const err = await reconcileView(faulty, view, DEFAULT_SETTINGS.mapping, {
      chunkSize: 40,
    }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StoreUnavailableError);
    member.start();
    await cluster!.waitHealthy();
    const dir = mkdtempSync(join(tmpdir(), 'etcd-ctl-'));
    try {
      const gni = join(dir, 'global_network_info.xml');
      copyFileSync(MEDIUM, gni);
      const controller = new Controller({
        store,
        gniPath: gni,
        settings: DEFAULT_SETTINGS,
        logger: silentLogger(),
        watchFile: false,
      });
      let report = await controller.runCycle();
      for (let i = 0; i < 20 && report.result === 'failed'; i++) {
        await new Promise((r) => setTimeout(r, 250)); // the daemon's backoff, shortened
        report = await controller.runCycle();
      }
      expect(report.result, report.error).to.equal('applied');
      const want = unversioned(await dump(reference));
      expect(unversioned(await dump(store))).to.deep.equal(want);
      const reader = await open(spec, { readOnly: true });
      expect(unversioned(await dump(reader))).to.deep.equal(want);
      const head = await store.revision();
      await until(async () => (await follower.revision()) === head);
      expect(await dump(follower)).to.deep.equal(await dump(store));
      expect((await controller.runCycle()).result).to.be.oneOf(['unchanged', 'applied']);
      expect(await reader.revision()).to.equal(await store.revision());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps working on a three-member cluster with one member stopped', async function () {
    const three = await EtcdCluster.start(3);
    try {
      const spec = three.spec(prefix());
      const store = await open(spec);
      await store.transaction([router('r1')]);
      // Stop the leader: the survivors must elect a new one and the client must fail over.
      const { stdout } = await run(
        'etcdctl',
        ['--endpoints', three.endpoints, 'endpoint', 'status', '-w', 'json'],
        {
          env: { ...process.env, ETCDCTL_API: '3' },
        },
      );
      const status = JSON.parse(stdout) as {
        Endpoint: string;
        Status: { header: { member_id: number }; leader: number };
      }[];
      const leader = status.find((s) => s.Status.header.member_id === s.Status.leader)!.Endpoint;
      await three.members.find((m) => leader.endsWith(m.endpoint))!.stop();
      let rev = 0;
      for (let i = 0; i < 10 && rev === 0; i++) {
        rev = await store.transaction([routerPort('p1', 'r1')]).then(
          (r) => r.revision,
          async (e: unknown) => {
            if (!(e instanceof StoreUnavailableError)) throw e;
            await new Promise((r) => setTimeout(r, 200)); // leader election on the survivors
            return 0;
          },
        );
      }
      expect(rev).to.equal(2);
      const reader = await open(three.spec(spec.split('/').pop()!), { readOnly: true });
      expect((await reader.get('router', 'r1'))?.portIds).to.deep.equal(['p1']);
      const ac = new AbortController();
      const it = reader.watch(2, ac.signal)[Symbol.asyncIterator]();
      await store.transaction([router('r2')]);
      expect(((await it.next()).value as ChangeEvent).revision).to.equal(3);
      ac.abort();
    } finally {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await three.stop();
    }
  });

  it('runs two controller processes on one prefix: the second waits, then takes over', async function () {
    const cli = repoPath('bin/eucanetd');
    if (!existsSync(repoPath('dist/bin/cli.js'))) this.skip(); // `npm test` builds dist/ first
    const spec = cluster!.spec(prefix());
    const dir = mkdtempSync(join(tmpdir(), 'etcd-two-'));
    const start = (
      name: string,
    ): { exited: Promise<number | null>; out: () => string; kill(): void } => {
      const gni = join(dir, `${name}.xml`);
      copyFileSync(MEDIUM, gni);
      const p = spawn(
        process.execPath,
        [cli, 'run', '--gni', gni, '--store', spec, '--interval', '3600'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      return {
        exited: new Promise((r) => p.once('exit', r)),
        out: () => text,
        kill: () => p.kill('SIGTERM'),
      };
    };
    const a = start('a');
    try {
      const reader = await open(spec, { readOnly: true });
      await until(async () => (await reader.list('port')).length > 0);
      const second = start('b');
      try {
        await until(() => second.out().includes('waiting for the controller lock'));
        expect(second.out()).to.not.include('controller lock acquired');
        a.kill();
        expect(await a.exited).to.equal(0);
        await until(() => second.out().includes('controller lock acquired'));
        await until(() => second.out().includes('eucanetd started')); // past the lock
      } finally {
        second.kill();
        await second.exited;
      }
    } finally {
      a.kill(); // no-op once it has exited
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shares one etcd between a controller process and two reader processes', async function () {
    const cli = repoPath('bin/eucanetd');
    const built = existsSync(repoPath('dist/bin/cli.js'));
    if (!built) this.skip(); // `npm test` builds dist/ first; run `npm run build` for this file alone
    const spec = cluster!.spec(prefix());
    const dir = mkdtempSync(join(tmpdir(), 'etcd-cli-'));
    try {
      const gni = join(dir, 'global_network_info.xml');
      copyFileSync(MEDIUM, gni);
      const args = ['--gni', gni, '--store', spec, '--log-level', 'error'];
      const ctl = spawn(process.execPath, [cli, 'run', '--once', ...args], { stdio: 'pipe' });
      const ctlExit = new Promise<number | null>((r) => ctl.once('exit', r));
      const reader = await open(spec, { readOnly: true });
      await until(async () => (await reader.list('port')).length > 0);
      expect(await ctlExit).to.equal(0);
      const plans = await Promise.all(
        [1, 2].map(() => run(process.execPath, [cli, 'plan', '--json', ...args]).catch((e) => e)),
      );
      for (const p of plans) {
        const out = JSON.parse((p as { stdout: string }).stdout) as { ops: unknown[] };
        expect(out.ops, 'a reader process sees the whole topology').to.deep.equal([]);
      }
      const reference = createMemoryStore();
      const view = readGni(readFileSync(MEDIUM)).view!;
      await reconcileView(reference, view, DEFAULT_SETTINGS.mapping);
      await until(async () => (await reader.revision()) > 0);
      expect(unversioned(await dump(reader))).to.deep.equal(unversioned(await dump(reference)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
