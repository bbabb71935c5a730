/**
 * Store damage soak: randomized trials, each on a fresh real file store (a random number of
 * commits, a random compaction interval, older copies of its files taken along the way), then
 * one damage to one file — flip or zero a byte, zero a range, truncate inside a record or at a
 * record boundary, delete, or swap in an older copy — and an open by a writer and by
 * `verifyStore`. Each outcome is counted as refused (StoreCorruptError naming the damaged
 * file, no file changed), loaded exactly (the state of the last acknowledged commit), no-op
 * (the damage left the bytes as they were), or WRONG (anything else: a silent wrong load, a
 * refusal naming another file, an unexpected error, a file changed). Exits 1 on any WRONG.
 * Usage: npx tsx scripts/soak-store-damage.ts [--trials N] [--seed S]
 */
import { cp, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KINDS,
  openFileStore,
  StoreCorruptError,
  verifyStore,
  type Op,
} from '../src/store/index.js';
import { JOURNAL_HEADER_SIZE } from '../src/store/journal.js';
import { prng } from './lib/gni-generator.js';
import { numArg } from './lib/bench-cli.js';

const FILES = ['MANIFEST', 'snapshot.ndjson', 'journal.log'] as const;
const DAMAGES = [
  'flip',
  'zero',
  'zero-range',
  'truncate-inside',
  'truncate-boundary',
  'delete',
  'older-copy',
] as const;
type Damage = (typeof DAMAGES)[number];
type Outcome = 'refused' | 'loaded' | 'no-op' | 'WRONG';

/** The ops of commit `i`: a router with ports, chains with rules, groups, some deletes. */
function commitOps(i: number, rnd: () => number): Op[] {
  const n = 1 + Math.floor(rnd() * 4);
  const ops: Op[] = [];
  if (i === 0) {
    ops.push({ op: 'create', kind: 'router', object: { id: 'r', name: 'r' } as never });
    ops.push({ op: 'create', kind: 'chain', object: { id: 'c', name: 'c' } as never });
  }
  for (let k = 0; k < n; k++) {
    const id = `${i}-${k}`;
    if (rnd() < 0.5)
      ops.push({
        op: 'create',
        kind: 'port',
        object: { id: `p${id}`, type: 'Router', routerId: 'r' } as never,
      });
    else
      ops.push({
        op: 'create',
        kind: 'rule',
        object: { id: `x${id}`, chainId: 'c', type: 'accept' } as never,
      });
  }
  if (i > 2 && rnd() < 0.3)
    ops.push({ op: 'delete', kind: 'port', id: `p${i - 2}-0`, ignoreMissing: true });
  return ops;
}

async function snapshotOf(dir: string): Promise<string> {
  const s = await openFileStore(dir, { readOnly: true });
  try {
    const parts: unknown[] = [await s.revision()];
    for (const k of KINDS) parts.push(await s.list(k));
    return JSON.stringify(parts);
  } finally {
    await s.close();
  }
}

async function filesOf(dir: string): Promise<string> {
  const out: string[] = [];
  for (const f of (await readdir(dir)).sort())
    if (f !== 'LOCK') out.push(f, (await readFile(join(dir, f))).toString('base64'));
  return out.join('|');
}

/** Record (or line) boundaries of a file, for truncation at a boundary. */
function boundaries(file: string, buf: Buffer): number[] {
  const out: number[] = [0];
  if (file === 'journal.log') {
    for (let p = JOURNAL_HEADER_SIZE; p <= buf.length && p >= 0; p += 20 + buf.readUInt32LE(p)) {
      out.push(p);
      if (p + 20 > buf.length) break;
    }
  } else if (file === 'snapshot.ndjson') {
    for (let i = 0; i < buf.length - 1; i++) if (buf[i] === 10) out.push(i + 1);
  } else out.push(8, 16, 40);
  return out.filter((b) => b < buf.length);
}

function damage(
  kind: Damage,
  file: string,
  buf: Buffer,
  older: Buffer | undefined,
  rnd: () => number,
): Buffer | undefined | 'skip' {
  const at = (n: number): number => Math.floor(rnd() * n);
  const c = Buffer.from(buf);
  switch (kind) {
    case 'flip': {
      const p = at(c.length);
      c[p] = c[p]! ^ (1 << at(8));
      return c;
    }
    case 'zero':
    case 'zero-range': {
      // start at a byte that is not zero already, so every trial damages something
      const nonZero = Array.from({ length: c.length }, (_, i) => i).filter((i) => c[i] !== 0);
      if (nonZero.length === 0) return 'skip';
      const p = nonZero[at(nonZero.length)]!;
      c.fill(0, p, kind === 'zero' ? p + 1 : p + 1 + at(c.length - p));
      return c;
    }
    case 'truncate-inside': {
      const bs = new Set(boundaries(file, buf));
      const inside = Array.from({ length: buf.length }, (_, i) => i).filter((i) => !bs.has(i));
      return inside.length ? c.subarray(0, inside[at(inside.length)]!) : 'skip';
    }
    case 'truncate-boundary': {
      const bs = boundaries(file, buf);
      return c.subarray(0, bs[at(bs.length)]!);
    }
    case 'delete':
      return undefined;
    case 'older-copy':
      return older ?? 'skip';
  }
}

interface Trial {
  readonly file: string;
  readonly damage: Damage;
  readonly outcome: Outcome;
  readonly detail: string;
}

async function trial(root: string, t: number, rnd: () => number): Promise<Trial | undefined> {
  const dir = join(root, `t${t}`);
  const commits = 3 + Math.floor(rnd() * 14);
  const every = 2 + Math.floor(rnd() * 7);
  const copyAt = Math.floor(rnd() * commits);
  let olderDir: string | undefined;
  const s = await openFileStore(dir, { snapshotEvery: every, fsync: false });
  for (let i = 0; i < commits; i++) {
    await s.transaction(commitOps(i, rnd));
    if (i === copyAt && i < commits - 1) {
      olderDir = join(root, `t${t}-older`);
      await cp(dir, olderDir, { recursive: true, filter: (src) => !src.endsWith('LOCK') });
    }
  }
  await s.close();
  const expected = await snapshotOf(dir);
  const file = FILES[Math.floor(rnd() * FILES.length)]!;
  const kind = DAMAGES[Math.floor(rnd() * DAMAGES.length)]!;
  const path = join(dir, file);
  const original = await readFile(path);
  const older = olderDir ? await readFile(join(olderDir, file)).catch(() => undefined) : undefined;
  const damaged = damage(kind, file, original, older, rnd);
  if (damaged === 'skip') return undefined;
  if (damaged === undefined) await unlink(path);
  else await writeFile(path, damaged);
  const before = await filesOf(dir);
  const result = (outcome: Outcome, detail: string): Trial => ({
    file,
    damage: kind,
    outcome,
    detail,
  });
  if (damaged !== undefined && damaged.equals(original)) return result('no-op', 'bytes unchanged');
  const refusedBy = async (open: () => Promise<unknown>): Promise<string | undefined> => {
    try {
      await open();
      return undefined;
    } catch (e) {
      if (!(e instanceof StoreCorruptError)) throw e;
      return e.message;
    }
  };
  try {
    const verify = await refusedBy(() => verifyStore(dir));
    const msg = await refusedBy(async () => (await openFileStore(dir)).close());
    if (msg !== undefined) {
      if (verify === undefined) return result('WRONG', `writer refused, verify did not: ${msg}`);
      if (!msg.includes(file)) return result('WRONG', `refusal does not name ${file}: ${msg}`);
      if ((await filesOf(dir)) !== before) return result('WRONG', `files changed: ${msg}`);
      return result('refused', msg);
    }
    const got = await snapshotOf(dir);
    if (got !== expected) return result('WRONG', 'loaded a state other than the last commit');
    return result('loaded', verify ?? 'verify ok');
  } catch (e) {
    return result('WRONG', `unexpected error: ${String(e)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (olderDir) await rm(olderDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const trials = numArg('trials', 240);
  const seed = numArg('seed', 20261204);
  const rnd = prng(seed);
  const root = await mkdtemp(join(tmpdir(), 'soak-store-damage-'));
  const table = new Map<string, Record<Outcome, number>>();
  const wrong: Trial[] = [];
  let done = 0;
  const started = Date.now();
  try {
    for (let t = 0; done < trials; t++) {
      const r = await trial(root, t, rnd);
      if (!r) continue;
      done++;
      const key = `${r.file} ${r.damage}`;
      const row = table.get(key) ?? { refused: 0, loaded: 0, 'no-op': 0, WRONG: 0 };
      row[r.outcome]++;
      table.set(key, row);
      if (r.outcome === 'WRONG') wrong.push(r);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const out = (l: string): boolean => process.stdout.write(l + '\n');
  out(
    `store damage soak: ${done} trials, seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  out('| file | damage | trials | refused, named | loaded exactly | no-op | WRONG |');
  out('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  const total: Record<Outcome, number> = { refused: 0, loaded: 0, 'no-op': 0, WRONG: 0 };
  for (const [key, row] of [...table].sort()) {
    const [file, kind] = key.split(' ');
    const n = row.refused + row.loaded + row['no-op'] + row.WRONG;
    out(
      `| ${file} | ${kind} | ${n} | ${row.refused} | ${row.loaded} | ${row['no-op']} | ${row.WRONG} |`,
    );
    for (const k of Object.keys(total) as Outcome[]) total[k] += row[k];
  }
  out(
    `| all | | ${done} | ${total.refused} | ${total.loaded} | ${total['no-op']} | ${total.WRONG} |`,
  );
  for (const w of wrong) out(`WRONG: ${w.file} ${w.damage}: ${w.detail}`);
  if (wrong.length > 0) process.exitCode = 1;
}

await main();
