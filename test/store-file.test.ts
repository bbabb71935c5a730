import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import {
  openFileStore,
  RevisionCompactedError,
  StoreCorruptError,
  StoreError,
  StoreLockedError,
  StoreNotFoundError,
  verifyStore,
  type ChangeEvent,
  type TopologyStore,
} from '../src/store/index.js';
import { encodeRecord, JOURNAL_HEADER_SIZE } from '../src/store/journal.js';
import {
  bridge,
  bridgePort,
  chain,
  del,
  router,
  routerPort,
  rule,
} from './helpers/store-conformance.js';
import { writeStoreFiles } from './helpers/store-files.js';

const JOURNAL = 'journal.log';

function captureLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

async function expectReject(
  p: Promise<unknown>,
  type: abstract new (...a: never[]) => Error,
): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(type);
    return e as Error;
  }
  expect.fail(`expected ${type.name}`);
}

/** The next events of a watch, waiting until they arrive. */
async function nextEvents(
  it: AsyncIterator<ChangeEvent>,
  until: (ev: ChangeEvent) => boolean,
): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return out;
    out.push(r.value);
    if (until(r.value)) return out;
  }
}

/** Byte offsets of the journal's records (sizes of the encoded commits, in order). */
function recordOffsets(buf: Buffer): number[] {
  const out: number[] = [];
  for (let pos = JOURNAL_HEADER_SIZE; pos < buf.length; pos += 20 + buf.readUInt32LE(pos))
    out.push(pos);
  return out;
}

describe('store file backend', function () {
  let dir: string;
  const open: TopologyStore[] = [];
  const track = (s: TopologyStore): TopologyStore => (open.push(s), s);
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-file-'));
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function populate(store: TopologyStore): Promise<void> {
    await store.transaction([router('r1'), routerPort('p1', 'r1')]);
    await store.transaction([bridge('b1'), bridgePort('bp1', 'b1', { peerId: 'p1' })]);
    await store.transaction([chain('c1'), rule('x1', 'c1'), rule('x2', 'c1')]);
  }

  it('keeps every commit, version and back-reference across a reopen, and resumes watch from the journal', async () => {
    const a = await openFileStore(dir);
    await populate(a);
    const before = await a.list('port');
    await a.close();
    const b = track(await openFileStore(dir));
    expect(await b.revision()).to.equal(3);
    expect(await b.list('port')).to.deep.equal(before);
    expect((await b.get('chain', 'c1'))?.ruleIds).to.deep.equal(['x1', 'x2']);
    expect(await verifyStore(b)).to.deep.equal([]);
    const it = b.watch(1)[Symbol.asyncIterator]();
    const evs = await nextEvents(it, (e) => e.revision === 3);
    expect(evs.map((e) => e.revision)).to.deep.equal([2, 3]);
    await it.return?.();
  });

  it('compacts into a snapshot, reopens from it, and reports watch history it no longer has', async () => {
    const a = await openFileStore(dir, { snapshotEvery: 5 });
    await a.transaction([router('r1')]);
    for (let i = 0; i < 11; i++) await a.transaction([routerPort(`p${i}`, 'r1')]);
    await a.close();
    const journal = await readFile(join(dir, JOURNAL));
    expect(recordOffsets(journal)).to.have.length(2); // revisions 11 and 12 after the snapshot at 10
    const b = track(await openFileStore(dir));
    expect(await b.revision()).to.equal(12);
    expect((await b.get('router', 'r1'))?.portIds).to.have.length(11);
    await expectReject(b.watch(3)[Symbol.asyncIterator]().next(), RevisionCompactedError);
    const it = b.watch(10)[Symbol.asyncIterator]();
    expect((await nextEvents(it, (e) => e.revision === 12)).map((e) => e.revision)).to.deep.equal([
      11, 12,
    ]);
    await it.return?.();
  });

  it('drops a torn tail with a warning and keeps the complete commits', async () => {
    const a = await openFileStore(dir);
    await populate(a);
    await a.close();
    const size = (await stat(join(dir, JOURNAL))).size;
    const partial = encodeRecord(4, [{ kind: 'router', id: 'r9', type: 'deleted' }]);
    await appendFile(join(dir, JOURNAL), partial.subarray(0, partial.length - 5));
    const { logger, lines } = captureLogger();
    const b = track(await openFileStore(dir, { logger }));
    expect(await b.revision()).to.equal(3);
    expect(
      lines.some((l) => l['message'] === 'store journal torn tail dropped' && l['offset'] === size),
    ).to.equal(true);
    expect((await stat(join(dir, JOURNAL))).size).to.equal(size);
    expect((await b.transaction([router('r2')])).revision).to.equal(4);
  });

  for (const [where, pick] of [
    ['a middle record', (offs: number[]) => offs[1]!],
    ['the last record', (offs: number[]) => offs[offs.length - 1]!],
  ] as const) {
    it(`reports a flipped byte in ${where} with its byte offset and revision, and drops nothing`, async () => {
      const a = await openFileStore(dir);
      await populate(a);
      await a.close();
      const path = join(dir, JOURNAL);
      const buf = await readFile(path);
      const offs = recordOffsets(buf);
      const at = pick(offs);
      const revision = Number(buf.readBigUInt64LE(at + 8));
      buf[at + 30] = buf[at + 30]! ^ 0x04;
      await writeFile(path, buf);
      const e = await expectReject(openFileStore(dir), StoreCorruptError);
      expect(e.message).to.include(`byte offset ${at}`).and.include(`revision ${revision}`);
      expect(await readFile(path)).to.deep.equal(buf); // the writer did not truncate anything
      await expectReject(openFileStore(dir, { readOnly: true }), StoreCorruptError);
    });
  }

  it('reports a damaged record length instead of mistaking it for a torn tail', async () => {
    const a = await openFileStore(dir);
    await populate(a);
    await a.close();
    const path = join(dir, JOURNAL);
    const buf = await readFile(path);
    const at = recordOffsets(buf)[1]!;
    buf.writeUInt32LE(buf.readUInt32LE(at) + 100_000, at);
    await writeFile(path, buf);
    const e = await expectReject(openFileStore(dir), StoreCorruptError);
    expect(e.message).to.include(`byte offset ${at}`);
  });

  it('loads a compaction stopped between its renames, and the writer finishes it', async () => {
    const a = await openFileStore(dir, { snapshotEvery: 3 });
    await a.transaction([router('r1')]);
    await a.transaction([routerPort('p1', 'r1')]);
    const journalBefore = await readFile(join(dir, JOURNAL));
    const manifestBefore = await readFile(join(dir, 'MANIFEST'));
    await a.transaction([routerPort('p2', 'r1')]); // compaction: generation 2 at revision 3
    await a.close();
    // as if the writer died after renaming the new snapshot, before the journal and manifest
    await writeFile(join(dir, JOURNAL), journalBefore);
    await writeFile(join(dir, 'MANIFEST'), manifestBefore);
    const r = track(await openFileStore(dir, { readOnly: true }));
    expect(await r.revision()).to.equal(3);
    const b = track(await openFileStore(dir));
    expect((await b.get('router', 'r1'))?.portIds).to.deep.equal(['p1', 'p2']);
    const m = await readFile(join(dir, 'MANIFEST'));
    expect(Number(m.readBigUInt64LE(16))).to.equal(3); // the writer wrote generation 3
    expect((await b.transaction([router('r2')])).revision).to.equal(4);
  });

  it('refuses an unknown format version', async () => {
    await (await openFileStore(dir)).close();
    const path = join(dir, JOURNAL);
    const buf = await readFile(path);
    buf.writeUInt32LE(99, 8);
    await writeFile(path, buf);
    const e = await expectReject(openFileStore(dir), StoreCorruptError);
    expect(e.message).to.include('format version 99');
  });

  it('refuses a store whose bindings are broken, naming the object; verifyStore lists it', async () => {
    const r1 = {
      id: 'r1',
      version: 1,
      name: 'r1',
      adminStateUp: true,
      portIds: ['p9'],
      routeIds: [],
      bgpPeerIds: [],
      bgpNetworkIds: [],
    };
    await writeStoreFiles(dir, 1, [['router', r1 as never]]);
    const e = await expectReject(openFileStore(dir), StoreCorruptError);
    expect(e.message).to.include('router/r1').and.include('port/p9');
    const problems = await verifyStore(dir);
    expect(problems).to.have.length(1);
    expect(problems[0]).to.include({ kind: 'router', id: 'r1', field: 'portIds' });
  });

  describe('lock', () => {
    it('refuses a second writer on the same directory with a clear message', async () => {
      track(await openFileStore(dir));
      const e = await expectReject(openFileStore(dir), StoreLockedError);
      expect(e.message).to.equal(`store ${dir} is in use by process ${process.pid}`);
    });

    it('refuses a directory locked by another live process, and takes over a dead one', async () => {
      const sleeper = spawn('sleep', ['30']);
      try {
        await writeFile(join(dir, 'LOCK'), `${sleeper.pid}\n`);
        const e = await expectReject(openFileStore(dir), StoreLockedError);
        expect(e.message).to.include(`in use by process ${sleeper.pid}`);
      } finally {
        sleeper.kill('SIGKILL');
        await new Promise((r) => sleeper.once('exit', r));
      }
      // its pid is now dead: the lock is stale and taken over
      const s = track(await openFileStore(dir));
      expect((await readFile(join(dir, 'LOCK'), 'utf8')).trim()).to.equal(String(process.pid));
      await s.close();
      open.splice(0);
      await expectReject(stat(join(dir, 'LOCK')), Error); // released on close
    });
  });

  describe('read-only followers', () => {
    it('follow a writer in the same process: reads and watch see each commit; writes are refused', async () => {
      const writer = track(await openFileStore(dir));
      await writer.transaction([router('r1')]);
      const follower = track(await openFileStore(dir, { readOnly: true, pollMs: 5 }));
      expect((await follower.get('router', 'r1'))?.name).to.equal('router-r1');
      const e = await expectReject(follower.transaction([router('r2')]), StoreError);
      expect(e.message).to.include('read-only');
      const it = follower.watch(1)[Symbol.asyncIterator]();
      await writer.transaction([routerPort('p1', 'r1')]);
      await writer.transaction([del('router', 'r1')]);
      const evs = await nextEvents(it, (ev) => ev.revision === 3);
      expect(evs.map((ev) => ev.revision)).to.deep.equal([2, 3]);
      expect(evs[1]!.changes.map((c) => `${c.type} ${c.kind}/${c.id}`).sort()).to.deep.equal([
        'deleted port/p1',
        'deleted router/r1',
      ]);
      expect(await follower.list('router')).to.deep.equal([]);
      await it.return?.();
    });

    it('follow across compactions and end in the same state as the writer', async () => {
      const writer = track(await openFileStore(dir, { snapshotEvery: 3 }));
      const follower = track(await openFileStore(dir, { readOnly: true, pollMs: 5 }));
      const it = follower.watch(0)[Symbol.asyncIterator]();
      await writer.transaction([router('r1')]);
      for (let i = 0; i < 20; i++) await writer.transaction([routerPort(`p${i}`, 'r1')]);
      const evs = await nextEvents(it, (ev) => ev.revision === 21);
      const revs = evs.map((ev) => ev.revision);
      expect(revs).to.deep.equal([...revs].sort((x, y) => x - y));
      expect(await follower.list('port')).to.deep.equal(await writer.list('port'));
      expect(await follower.get('router', 'r1')).to.deep.equal(await writer.get('router', 'r1'));
      await it.return?.();
    });

    it('refuse a directory that holds no store, or wait for a writer to create one', async () => {
      const e = await expectReject(openFileStore(dir, { readOnly: true }), StoreNotFoundError);
      expect(e.message).to.equal(`no store at ${dir}`);
      await expectReject(verifyStore(dir), StoreNotFoundError);
      const waiting = openFileStore(dir, { readOnly: true, pollMs: 5, waitForStore: true });
      const writer = track(await openFileStore(dir));
      const follower = track(await waiting);
      expect(await follower.revision()).to.equal(0);
      const it = follower.watch(0)[Symbol.asyncIterator]();
      await writer.transaction([router('r1')]);
      const [ev] = await nextEvents(it, () => true);
      expect(ev?.revision).to.equal(1);
      await it.return?.();
    });

    it('follow a writer in a child process (whose lock refuses a second writer)', async function () {
      this.timeout(30_000);
      const writerPath = join(import.meta.dirname, 'helpers', 'store-crash-writer.ts');
      const child = spawn(process.execPath, ['--import', 'tsx', writerPath, dir, '0', '10'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      try {
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        const e = await expectReject(openFileStore(dir), StoreLockedError);
        expect(e.message).to.equal(`store ${dir} is in use by process ${child.pid}`);
        const follower = track(await openFileStore(dir, { readOnly: true, pollMs: 10 }));
        const it = follower.watch(await follower.revision())[Symbol.asyncIterator]();
        const evs = await nextEvents(it, (ev) => ev.revision >= 40);
        for (let i = 1; i < evs.length; i++)
          expect(evs[i]!.revision).to.be.greaterThan(evs[i - 1]!.revision);
        await it.return?.();
        expect(await verifyStore(follower)).to.deep.equal([]);
        for (const c of await follower.list('chain')) {
          expect(c.ruleIds).to.have.length(Number(c.metadata[0]?.value));
        }
      } finally {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
    });
  });
});
