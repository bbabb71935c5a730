/**
 * The controller loop in process: change detection, the version file, a rejected document,
 * and a failing store (through a wrapping writer, not a mock of internals).
 */
import { expect } from 'chai';
import { Writable } from 'node:stream';
import winston from 'winston';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/common/index.js';
import { writeGniXml } from '../src/gni/index.js';
import { Controller, DEFAULT_SETTINGS, reconcileView } from '../src/reconciler/index.js';
import { DEFAULT_MAPPING_CONFIG, recoverAllocations } from '../src/mapping/index.js';
import { allObjects, discover } from '../src/discovery/index.js';
import type { GlobalView } from '../src/gni/index.js';
import { createMemoryStore, InvalidFieldError, StoreUnavailableError } from '../src/store/index.js';
import type { Op, TopologyStore } from '../src/store/index.js';
import { addInstanceLike, loadDoc, removeInstance, repoPath, viewOf } from './helpers/gni-doc.js';
import { expectSameTopology } from './helpers/topology.js';
import type { Doc } from './helpers/gni-doc.js';

/** A controller on `gniPath` that logs nothing and does not watch the file (tests drive it). */
function quietController(
  store: TopologyStore,
  gniPath: string,
  extra: { backoffBaseMs?: number } = {},
): Controller {
  return new Controller({
    store,
    gniPath,
    settings: DEFAULT_SETTINGS,
    logger: silentLogger(),
    watchFile: false,
    ...extra,
  });
}

/** A store whose next `failures` transactions fail. */
function flaky(inner: TopologyStore, failures: { n: number }): TopologyStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'transaction' || prop === 'bulkCreate') {
        return async (ops: readonly Op[]) => {
          if (failures.n > 0) {
            failures.n--;
            throw new StoreUnavailableError('injected failure');
          }
          return prop === 'transaction'
            ? target.transaction(ops)
            : target.bulkCreate!(ops as Extract<Op, { op: 'create' }>[]);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('controller', function () {
  this.timeout(30_000);
  let dir: string;
  let gni: string;
  let doc: Doc;

  const write = (d: Doc): void => {
    writeFileSync(`${gni}.temp`, writeGniXml(viewOf(d)));
    renameSync(`${gni}.temp`, gni);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eucanetd-ctl-'));
    gni = join(dir, 'global_network_info.xml');
    doc = loadDoc(repoPath('fixtures/gni/small.xml'));
    write(doc);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('applies, writes the version file, then skips an unchanged file', async () => {
    const store = createMemoryStore();
    const c = quietController(store, gni);
    const first = await c.runCycle();
    expect(first.result).to.equal('applied');
    expect(first.counts!.create).to.be.greaterThan(10);
    expect(readFileSync(join(dir, 'global_network_info.version'), 'utf8')).to.equal(doc.version);
    const second = await c.runCycle();
    expect(second.result).to.equal('unchanged');
    // same version, new content (the CLC adds applied-version): still skipped
    doc['applied-version'] = doc.version;
    write(doc);
    expect((await c.runCycle()).result).to.equal('unchanged');
    // a forced re-apply (SIGHUP) plans nothing new
    c.reload();
    const forced = await c.runCycle();
    expect(forced.result).to.equal('applied');
    expect(forced.counts).to.include({ create: 0, update: 0, delete: 0 });
    await store.close();
  });

  it('a rejected document changes nothing and is not retried until the file changes', async () => {
    const store = createMemoryStore();
    const c = quietController(store, gni);
    await c.runCycle();
    const count = (await store.list('rule')).length + (await store.list('port')).length;
    writeFileSync(`${gni}.temp`, '<network-data version="0000000a"><configuration>');
    renameSync(`${gni}.temp`, gni);
    expect((await c.runCycle()).result).to.equal('rejected');
    expect((await store.list('rule')).length + (await store.list('port')).length).to.equal(count);
    expect(readFileSync(join(dir, 'global_network_info.version'), 'utf8')).to.equal(doc.version);
    await store.close();
  });

  it('a failed apply is not marked applied and is retried with growing backoff', async () => {
    const inner = createMemoryStore();
    const failures = { n: 2 };
    const c = quietController(flaky(inner, failures), gni, { backoffBaseMs: 100 });
    expect((await c.runCycle()).result).to.equal('failed');
    expect(c.backoffMs()).to.equal(100);
    expect(existsSync(join(dir, 'global_network_info.version'))).to.equal(false);
    expect((await c.runCycle()).result).to.equal('failed');
    expect(c.backoffMs()).to.equal(200);
    const ok = await c.runCycle();
    expect(ok.result).to.equal('applied');
    expect(c.backoffMs()).to.equal(0);
    expect(readFileSync(join(dir, 'global_network_info.version'), 'utf8')).to.equal(doc.version);
    await inner.close();
  });

  it('an entity whose ops the store refuses is held with the error; the rest applies, no retry', async () => {
    const inner = createMemoryStore();
    const lines: Record<string, unknown>[] = [];
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _enc, done): void {
              lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
              done();
            },
          }),
        }),
      ],
    });
    const c = new Controller({
      store: refusing(inner, 'i-bad00001'),
      gniPath: gni,
      settings: DEFAULT_SETTINGS,
      logger,
      watchFile: false,
    });
    await c.runCycle();
    const next = structuredClone(doc);
    const template = next.instances[0].name;
    addInstanceLike(next, template, 'bad00001', 201);
    addInstanceLike(next, template, '900d0001', 202);
    next.version = String(Number(doc.version) + 1);
    write(next);
    const r = await c.runCycle();
    expect(r.result).to.equal('applied');
    const held = r.heldOwners?.find((h) => h.owner === 'i-bad00001');
    expect(held?.by).to.equal('apply');
    expect(held?.reason).to.include('refused');
    const owners = new Set([...allObjects(await discover(inner))].map((o) => o.owner));
    expect(owners.has('i-900d0001')).to.equal(true);
    expect(owners.has('i-bad00001')).to.equal(false);
    expect(readFileSync(join(dir, 'global_network_info.version'), 'utf8')).to.equal(next.version);
    const line = lines
      .filter((l) => String(l['message']).startsWith('main loop complete, applied GNI'))
      .pop()!;
    expect(line['held_owners']).to.be.an('array');
    expect((line['held_owners'] as string[]).join()).to.include('i-bad00001');
    // the version is applied: the next cycle skips it instead of retrying with backoff
    expect((await c.runCycle()).result).to.equal('unchanged');
    expect(c.backoffMs()).to.equal(0);
    await inner.close();
  });

  it('starts a cycle at once when a file is renamed onto the path, debounces writes in place', async () => {
    const store = createMemoryStore();
    const versionFile = join(dir, 'global_network_info.version');
    const applied = (): string =>
      existsSync(versionFile) ? readFileSync(versionFile, 'utf8') : '';
    const until = async (ok: () => boolean, ms: number): Promise<number> => {
      const t = Date.now();
      while (!ok() && Date.now() - t < ms) await new Promise((r) => setTimeout(r, 10));
      return Date.now() - t;
    };
    // a debounce far longer than a cycle: whatever is applied sooner was not debounced
    const c = new Controller({
      store,
      gniPath: gni,
      settings: { ...DEFAULT_SETTINGS, pollingSeconds: 3600 },
      logger: silentLogger(),
      debounceMs: 4000,
    });
    const running = c.run();
    try {
      expect(await until(() => applied() === doc.version, 20_000)).to.be.below(20_000);
      await new Promise((r) => setTimeout(r, 500)); // the watcher is ready
      // 1. renamed onto the path (as the CLC writes): applied well before the debounce
      doc.version = '0000aa01';
      write(doc);
      expect(await until(() => applied() === '0000aa01', 3000)).to.be.below(3000);
      // 2. written in place (same file): nothing before the debounce, applied after it
      doc.version = '0000aa02';
      writeFileSync(gni, writeGniXml(viewOf(doc)));
      await new Promise((r) => setTimeout(r, 1500));
      expect(applied()).to.equal('0000aa01');
      expect(await until(() => applied() === '0000aa02', 15_000)).to.be.below(15_000);
      // 3. a new file created in place, written in two parts: the early read sees half a
      // document, which is neither applied nor counted as rejected; read again after the
      // debounce, the whole document is applied
      doc.version = '0000aa03';
      const xml = Buffer.from(writeGniXml(viewOf(doc)));
      const rejected = c.counters.rejected;
      rmSync(gni);
      const fd = openSync(gni, 'w');
      writeSync(fd, xml.subarray(0, xml.length >> 1));
      await new Promise((r) => setTimeout(r, 1000));
      expect(applied()).to.equal('0000aa02');
      writeSync(fd, xml.subarray(xml.length >> 1));
      closeSync(fd);
      expect(await until(() => applied() === '0000aa03', 15_000)).to.be.below(15_000);
      expect(c.counters.rejected).to.equal(rejected);
      // 4. a whole but invalid document renamed in: rejected (counted) once, after the debounce
      writeFileSync(`${gni}.temp`, '<network-data version="0000aa04"><configuration>');
      renameSync(`${gni}.temp`, gni);
      expect(await until(() => c.counters.rejected > rejected, 15_000)).to.be.below(15_000);
      expect(applied()).to.equal('0000aa03');
    } finally {
      c.stop();
      await running;
      await store.close();
    }
  });
});

/** A store that refuses (as its validation would) every transaction writing an object owned
 * by `owner`. */
function refusing(inner: TopologyStore, owner: string): TopologyStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return async (ops: readonly Op[]) => {
          const bad = ops.find((op) => op.op !== 'delete' && op.object.owner === owner);
          if (bad !== undefined && bad.op !== 'delete')
            throw new InvalidFieldError(`invalid ${bad.kind}/${bad.object.id}: refused`);
          return target.transaction(ops);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Asserts the store equals a fresh build of `view` (with the store's allocations). */
async function expectFreshBuild(store: TopologyStore, view: GlobalView): Promise<void> {
  const fresh = createMemoryStore();
  const allocations = recoverAllocations(allObjects(await discover(store)) as never);
  await reconcileView(fresh, view, DEFAULT_MAPPING_CONFIG, { allocations });
  await expectSameTopology(store, fresh);
  await fresh.close();
}

describe('controller, incremental cycles', function () {
  this.timeout(30_000);
  it('a change applied through the change stream and the previous desired state equals a fresh build', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eucanetd-inc-'));
    const gni = join(dir, 'global_network_info.xml');
    const write = (d: Doc): void => {
      writeFileSync(`${gni}.temp`, writeGniXml(viewOf(d)));
      renameSync(`${gni}.temp`, gni);
    };
    try {
      const doc = loadDoc(repoPath('fixtures/gni/medium.xml'));
      write(doc);
      const store = createMemoryStore();
      const c = quietController(store, gni);
      expect((await c.runCycle()).result).to.equal('applied');
      // 1: a new instance and a new rule, applied incrementally
      const next = structuredClone(doc);
      next.version = '0000c0de';
      addInstanceLike(next, next.instances[0].name, '0c0ffee0', 201);
      next.securityGroups[0].ingressRules.push({
        protocol: 6,
        fromPort: 993,
        toPort: 993,
        cidr: '192.0.2.0/24',
      });
      write(next);
      const r1 = await c.runCycle();
      expect(r1.result).to.equal('applied');
      expect(r1.parse).to.equal('incremental'); // only the changed parts were scanned
      expect(r1.counts!.create).to.be.greaterThan(5);
      await expectFreshBuild(store, viewOf(next));
      // 2: a hand edit between cycles (the store revision moves): the next change still converges
      const rule = (await store.list('rule'))[3]!;
      await store.transaction([
        { op: 'update', kind: 'rule', object: { ...rule, nwTos: 9 } as never },
      ]);
      const third = structuredClone(next);
      third.version = '0000c0df';
      removeInstance(third, third.instances[2].name);
      write(third);
      const r3 = await c.runCycle();
      expect(r3.result).to.equal('applied');
      expect(r3.parse).to.equal('incremental');
      await expectFreshBuild(store, viewOf(third));
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
