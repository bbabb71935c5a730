/**
 * `eucanetd store recover`: says what it would drop, changes nothing without
 * `--to-revision N --yes`, and then leaves a store at exactly revision N (old files kept).
 */
import { cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { KINDS, openFileStore, verifyStore, type AnyObject } from '../src/store/index.js';
import { JOURNAL_HEADER_SIZE } from '../src/store/journal.js';
import { runStoreCommand as run } from './helpers/store-cli-run.js';
import { chain, router, routerPort, rule } from './helpers/store-conformance.js';

async function contents(dir: string): Promise<[number, AnyObject[][]]> {
  const s = await openFileStore(dir, { readOnly: true });
  try {
    const all: AnyObject[][] = [];
    for (const k of KINDS) all.push([...(await s.list(k))]);
    return [await s.revision(), all];
  } finally {
    await s.close();
  }
}

async function files(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const f of ['MANIFEST', 'snapshot.ndjson', 'journal.log'])
    out[f] = await readFile(join(dir, f)).catch(() => Buffer.alloc(0));
  return out;
}

describe('store CLI: store recover', function () {
  this.timeout(30_000);
  let root: string;
  let pristine: string;
  /** The state at revisions 6 and 7 (the journal holds records 5..8 after a snapshot at 4). */
  const at: Record<number, [number, AnyObject[][]]> = {};
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'store-recover-'));
    pristine = join(root, 'pristine');
    const s = await openFileStore(pristine, { snapshotEvery: 4 });
    await s.transaction([router('r1'), chain('c1')]);
    for (let i = 0; i < 3; i++) await s.transaction([routerPort(`p${i}`, 'r1')]);
    await s.transaction([rule('x1', 'c1')]);
    await s.transaction([rule('x2', 'c1')]);
    await s.close();
    at[6] = await contents(pristine);
    const s2 = await openFileStore(pristine, { snapshotEvery: 100 });
    await s2.transaction([routerPort('p3', 'r1')]);
    await s2.close();
    at[7] = await contents(pristine);
    const s3 = await openFileStore(pristine, { snapshotEvery: 100 });
    await s3.transaction([rule('x3', 'c1')]);
    await s3.close();
    expect((await contents(pristine))[0]).to.equal(8);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = join(root, `case-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    await cp(pristine, dir, { recursive: true });
  });

  /** Byte offsets of the journal records. */
  async function records(): Promise<number[]> {
    const buf = await readFile(join(dir, 'journal.log'));
    const out: number[] = [];
    for (let p = JOURNAL_HEADER_SIZE; p < buf.length; p += 20 + buf.readUInt32LE(p)) out.push(p);
    return out;
  }

  it('lists what it drops, changes nothing without --yes, then recovers to exactly N', async () => {
    const offs = await records();
    const last = offs[offs.length - 1]!;
    const path = join(dir, 'journal.log');
    const buf = await readFile(path);
    buf[last + 25] = 0; // a payload byte of revision 8
    await writeFile(path, buf);
    const before = await files(dir);

    const plan = await run('store', 'recover', '--store', dir);
    expect(plan.code).to.equal(1);
    expect(plan.stdout).to.include(`journal.log record at byte offset ${last} (revision 8)`);
    expect(plan.stdout).to.include('recoverable: revisions up to 7');
    expect(plan.stdout).to.include('MANIFEST says revision 8 was committed');
    expect(plan.stdout).to.match(
      new RegExp(`revision 8 \\(journal.log byte offset ${last}\\): damaged: record checksum`),
    );
    expect(plan.stdout).to.include('--to-revision 7 --yes');
    const dry = await run('store', 'recover', '--store', dir, '--to-revision', '6');
    expect(dry.code).to.equal(1);
    expect(dry.stdout).to.match(/revision 7 \(journal.log byte offset \d+\): 2 change\(s\): /);
    expect(dry.stdout).to.include('nothing changed');
    expect(await files(dir)).to.deep.equal(before);

    const done = await run('store', 'recover', '--store', dir, '--to-revision', '6', '--yes');
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.include(`recovered: store ${dir} is at revision 6`);
    expect(await contents(dir)).to.deep.equal(at[6]);
    expect(await verifyStore(dir)).to.deep.equal([]);
    const saved = (await readdir(dir)).filter((f) => f.startsWith('damaged-'));
    expect(saved).to.have.length(1);
    expect(await files(join(dir, saved[0]!))).to.deep.equal(before);
    const w = await openFileStore(dir);
    expect((await w.transaction([router('r2')])).revision).to.equal(7);
    await w.close();
    const again = await run('store', 'recover', '--store', dir);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.include('opens as it is');
  });

  it('recovers a store whose journal was deleted to its snapshot, naming the missing revisions', async () => {
    await unlink(join(dir, 'journal.log'));
    const plan = await run('store', 'recover', '--store', dir);
    expect(plan.code).to.equal(1);
    expect(plan.stdout).to.include('journal.log is missing');
    expect(plan.stdout).to.include('recoverable: revisions up to 4');
    expect(plan.stdout).to.match(/revisions 6\.\.8: missing from journal\.log/);
    const range = await run('store', 'recover', '--store', dir, '--to-revision', '7', '--yes');
    expect(range.code).to.equal(1);
    expect(range.stderr).to.include('outside the recoverable range 4..4');
    const done = await run('store', 'recover', '--store', dir, '--to-revision', '4', '--yes');
    expect(done.code, done.stderr).to.equal(0);
    expect((await contents(dir))[0]).to.equal(4);
  });

  it('recovers past a truncated journal and refuses while a writer holds the store', async () => {
    const offs = await records();
    const path = join(dir, 'journal.log');
    await writeFile(path, (await readFile(path)).subarray(0, offs[offs.length - 1]!));
    const verify = await run('store', 'verify', '--store', dir);
    expect(verify.code).to.equal(1);
    expect(verify.stderr).to.include('MANIFEST says revision 8 was committed');
    const done = await run('store', 'recover', '--store', dir, '--to-revision', '7', '--yes');
    expect(done.code, done.stderr).to.equal(0);
    expect(await contents(dir)).to.deep.equal(at[7]);
    const w = await openFileStore(dir);
    try {
      const locked = await run('store', 'recover', '--store', dir, '--to-revision', '7', '--yes');
      expect(locked.code).to.equal(1);
      expect(locked.stderr).to.include(`is in use by process ${process.pid}`);
    } finally {
      await w.close();
    }
  });
});
