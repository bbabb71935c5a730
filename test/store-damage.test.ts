/**
 * Damage that is not a crash: each file of a real store (MANIFEST, snapshot.ndjson,
 * journal.log) is flipped, zeroed, truncated inside and at a record boundary, deleted, or
 * replaced by an older copy. Every outcome must be either a refusal that names the file (and,
 * for a journal record, its offset and revision) and changes no file, or a load of exactly the
 * last acknowledged commit. Nothing else.
 */
import { cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  KINDS,
  openFileStore,
  StoreCorruptError,
  verifyStore,
  type AnyObject,
} from '../src/store/index.js';
import { JOURNAL_HEADER_SIZE } from '../src/store/journal.js';
import { chain, router, routerPort, rule } from './helpers/store-conformance.js';

const FILES = ['MANIFEST', 'snapshot.ndjson', 'journal.log'] as const;
type StoreFile = (typeof FILES)[number];

/** Every file of a directory (name → bytes), LOCK aside. */
async function filesOf(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort())
    if (name !== 'LOCK') out.set(name, await readFile(join(dir, name)));
  return out;
}

/** Record start offsets of a journal, and the end of its last record. */
function recordBounds(buf: Buffer): number[] {
  const out: number[] = [];
  for (let pos = JOURNAL_HEADER_SIZE; pos < buf.length; pos += 20 + buf.readUInt32LE(pos))
    out.push(pos);
  out.push(buf.length);
  return out;
}

/** Line start offsets of a snapshot, and its end. */
function lineBounds(buf: Buffer): number[] {
  const out = [0];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10) out.push(i + 1);
  return out;
}

/** A damage: what it does to one file's bytes (undefined deletes the file). */
interface Damage {
  readonly name: string;
  readonly file: StoreFile;
  /** The journal record whose offset and revision a refusal must name. */
  readonly record?: { offset: number; revision: number };
  apply(buf: Buffer, older: Map<string, Buffer>[]): Buffer | undefined;
}

/** Every object of a store, by kind, for exact comparison. */
async function contents(dir: string): Promise<{ revision: number; objects: AnyObject[][] }> {
  const s = await openFileStore(dir, { readOnly: true });
  try {
    const objects: AnyObject[][] = [];
    for (const k of KINDS) objects.push([...(await s.list(k))]);
    return { revision: await s.revision(), objects };
  } finally {
    await s.close();
  }
}

describe('store file backend: damaged files are refused and named, never loaded wrong', function () {
  this.timeout(120_000);
  let root: string;
  let pristine: string;
  /** Copies of the files: [older generation, same generation before a commit, another store]. */
  const older: Map<string, Buffer>[] = [];
  let expected: { revision: number; objects: AnyObject[][] };
  let journal: Buffer;
  let snapshot: Buffer;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'store-damage-'));
    pristine = join(root, 'pristine');
    // the same commits in a second store: files alike but for the store's id
    for (const [i, dir] of [pristine, join(root, 'twin')].entries()) {
      const s = await openFileStore(dir, { snapshotEvery: 3 });
      // r1 has 40 ports more, so the records that add ports hold list edits (journal format 3)
      const more = Array.from({ length: 40 }, (_, k) => routerPort(`b${k}`, 'r1'));
      await s.transaction([router('r1'), chain('c1'), ...more]);
      for (let k = 0; k < 2; k++) await s.transaction([routerPort(`p${k}`, 'r1')]);
      if (i === 0) older.push(await filesOf(dir)); // generation 2 at revision 3, no records
      await s.transaction([rule('x1', 'c1')]);
      await s.transaction([routerPort('p3', 'r1')]);
      await s.transaction([rule('x2', 'c1'), rule('x3', 'c1')]); // compaction: generation 3
      await s.transaction([routerPort('p4', 'r1')]);
      if (i === 0) older.push(await filesOf(dir)); // generation 3, record 7
      await s.transaction([rule('x4', 'c1')]);
      await s.close();
    }
    older.push(await filesOf(join(root, 'twin')));
    expected = await contents(pristine);
    expect(expected.revision).to.equal(8);
    journal = await readFile(join(pristine, 'journal.log'));
    expect(journal.toString('utf8')).to.include('"lists":["portIds"]'); // record 7's edits
    snapshot = await readFile(join(pristine, 'snapshot.ndjson'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function damages(): Damage[] {
    const out: Damage[] = [];
    const recs = recordBounds(journal);
    const recordAt = (pos: number): { offset: number; revision: number } | undefined => {
      for (let i = 0; i + 1 < recs.length; i++) {
        const offset = recs[i]!;
        if (pos >= offset && pos < recs[i + 1]!)
          return { offset, revision: Number(journal.readBigUInt64LE(offset + 8)) };
      }
      return undefined;
    };
    const sizes: Record<StoreFile, number> = {
      MANIFEST: 64,
      'snapshot.ndjson': snapshot.length,
      'journal.log': journal.length,
    };
    for (const file of FILES) {
      const size = sizes[file];
      const positions = [0, 9, 17, 30, 41, Math.floor(size / 2), size - 2, size - 1].filter(
        (p, i, a) => p < size && a.indexOf(p) === i,
      );
      if (file === 'journal.log') for (const r of recs.slice(0, -1)) positions.push(r + 4, r + 25);
      for (const p of positions) {
        const record = file === 'journal.log' ? recordAt(p) : undefined;
        const base = { file, ...(record ? { record } : {}) };
        out.push({ ...base, name: `flip byte ${p}`, apply: (b) => flip(b, p) });
        out.push({ ...base, name: `zero byte ${p}`, apply: (b) => zero(b, p, p + 1) });
      }
      out.push({ file, name: 'zero the second half', apply: (b) => zero(b, size >> 1, size) });
      out.push({ file, name: 'truncate to 0', apply: (b) => b.subarray(0, 0) });
      out.push({ file, name: 'truncate by 1', apply: (b) => b.subarray(0, size - 1) });
      out.push({ file, name: 'truncate inside', apply: (b) => b.subarray(0, size >> 1) });
      const bounds =
        file === 'journal.log' ? recs : file === 'MANIFEST' ? [] : lineBounds(snapshot);
      for (const at of bounds.slice(0, -1))
        out.push({ file, name: `truncate at boundary ${at}`, apply: (b) => b.subarray(0, at) });
      out.push({ file, name: 'delete', apply: () => undefined });
      out.push({ file, name: 'older generation copy', apply: (_b, o) => o[0]!.get(file) });
      out.push({ file, name: 'same-generation older copy', apply: (_b, o) => o[1]!.get(file) });
      out.push({ file, name: 'copy from another store', apply: (_b, o) => o[2]!.get(file) });
    }
    return out;
  }

  it('refuses or loads exactly revision 8 for every damage of every file', async () => {
    const all = damages();
    expect(all.length).to.be.greaterThan(80);
    const outcomes = { refused: 0, loaded: 0 };
    for (const [i, d] of all.entries()) {
      const what = `${d.file}: ${d.name}`;
      const dir = join(root, `case-${i}`);
      await cp(pristine, dir, { recursive: true });
      const path = join(dir, d.file);
      const damaged = d.apply(await readFile(path), older);
      if (damaged === undefined) await unlink(path);
      else await writeFile(path, damaged);
      const before = await filesOf(dir);
      try {
        const s = await openFileStore(dir);
        await s.close();
      } catch (e) {
        expect(e, `${what}: ${String(e)}`).to.be.instanceOf(StoreCorruptError);
        const msg = (e as Error).message;
        expect(msg, what).to.include(d.file === 'MANIFEST' ? 'MANIFEST' : d.file);
        if (d.record && msg.includes('is damaged')) {
          expect(msg, what).to.include(`byte offset ${d.record.offset}`);
          expect(msg, what).to.include(`revision ${d.record.revision}`);
        }
        expect(await filesOf(dir), `${what}: files changed`).to.deep.equal(before);
        await expectVerifyRefuses(dir, what);
        outcomes.refused++;
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      expect(await contents(dir), `${what}: loaded state`).to.deep.equal(expected);
      expect(await verifyStore(dir), what).to.deep.equal([]);
      outcomes.loaded++;
      await rm(dir, { recursive: true, force: true });
    }
    // the damage that may load is only the harmless kind: an older manifest of this generation
    expect(outcomes.refused, JSON.stringify(outcomes)).to.be.greaterThan(all.length - 5);
  });

  it('refuses journal records out of order, naming the offset and the revision expected', async () => {
    const dir = join(root, 'swapped');
    await cp(pristine, dir, { recursive: true });
    const recs = recordBounds(journal);
    const [a, b, end] = [recs[0]!, recs[1]!, recs[2]!];
    const swapped = Buffer.concat([
      journal.subarray(0, a),
      journal.subarray(b, end),
      journal.subarray(a, b),
    ]);
    await writeFile(join(dir, 'journal.log'), swapped);
    const err = await openFileStore(dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect(err?.message).to.equal(
      `store ${dir}: journal.log record at byte offset ${a} has revision 8, expected 7`,
    );
  });

  it('refuses a damaged last record named by offset and revision (zeroed payload byte)', async () => {
    const dir = join(root, 'last-zero');
    await cp(pristine, dir, { recursive: true });
    const recs = recordBounds(journal);
    const last = recs[recs.length - 2]!;
    const buf = Buffer.from(journal);
    buf[last + 30] = 0;
    await writeFile(join(dir, 'journal.log'), buf);
    const err = await openFileStore(dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).to.equal(
      `store ${dir}: journal.log record at byte offset ${last} (revision 8) is damaged: record checksum mismatch`,
    );
  });
});

async function expectVerifyRefuses(dir: string, what: string): Promise<void> {
  const err = await verifyStore(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${what}: verifyStore`).to.be.instanceOf(StoreCorruptError);
}

function flip(b: Buffer, p: number): Buffer {
  const c = Buffer.from(b);
  c[p] = c[p]! ^ 0x04;
  return c;
}

function zero(b: Buffer, from: number, to: number): Buffer {
  const c = Buffer.from(b);
  c.fill(0, from, to);
  // zeroing a byte that already is zero is not a damage: flip it to 0x20 instead
  if (to - from === 1 && b[from] === 0) c[from] = 0x20;
  return c;
}
