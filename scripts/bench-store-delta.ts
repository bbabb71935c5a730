/**
 * Journal record size and commit time of a small change to objects with long back-reference
 * lists, with list edits in records (journal format 3, the default) and with objects written
 * whole (`journalDeltas: false`, as format 2 did), in one process, rounds alternating.
 * The store holds a router `eucart` and a port whose route lists hold `--routes` ids (at L the
 * controller's router and one port hold about 11,000); each commit adds a port and a route
 * over that port (the router's port and route lists and the port's route list grow), as a
 * one-instance change does. fsync on, as the daemon runs.
 * Usage: npx tsx scripts/bench-store-delta.ts [--routes N] [--commits N] [--rounds R]
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore, type Op } from '../src/store/index.js';
import { numArg } from './lib/bench-cli.js';

/** Ids as long as the controller's (about 40 characters). */
const long = (id: string): string => `${id}-${'0'.repeat(Math.max(0, 36 - id.length))}`;
const route = (id: string, port: string): Op =>
  ({
    op: 'create',
    kind: 'route',
    object: {
      id: long(id),
      routerId: 'eucart',
      type: 'Normal',
      srcNetworkAddr: '0.0.0.0',
      srcNetworkLength: 0,
      dstNetworkAddr: '10.1.0.0',
      dstNetworkLength: 16,
      nextHopPort: port,
    },
  }) as Op;
const port = (id: string): Op =>
  ({ op: 'create', kind: 'port', object: { id, type: 'Router', routerId: 'eucart' } }) as Op;

interface Sample {
  readonly ms: number;
  readonly bytes: number;
}

async function round(deltas: boolean, routes: number, commits: number): Promise<Sample[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-store-delta-'));
  try {
    const store = await openFileStore(dir, { journalDeltas: deltas });
    const ops: Op[] = [
      { op: 'create', kind: 'router', object: { id: 'eucart', name: 'eucart' } } as Op,
      port('big'),
    ];
    for (let i = 0; i < routes; i++) ops.push(route(`rt-${i}`, 'big'));
    await store.bulkCreate!(ops as Extract<Op, { op: 'create' }>[]);
    const journal = join(dir, 'journal.log');
    const out: Sample[] = [];
    let size = (await stat(journal)).size;
    for (let i = 0; i < commits; i++) {
      const t = process.hrtime.bigint();
      await store.transaction([port(`p-${i}`), route(`new-${i}`, 'big')]);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      const now = (await stat(journal)).size;
      out.push({ ms, bytes: now - size });
      size = now;
    }
    await store.close();
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function p90(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.9 * s.length))]!;
}

async function main(): Promise<void> {
  const routes = numArg('routes', 11_000);
  const commits = numArg('commits', 50);
  const rounds = numArg('rounds', 2);
  const all = new Map<boolean, Sample[]>([
    [false, []],
    [true, []],
  ]);
  process.stdout.write(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (let r = 0; r < rounds; r++) {
    for (const deltas of r % 2 === 0 ? [false, true] : [true, false])
      all.get(deltas)!.push(...(await round(deltas, routes, commits)));
  }
  const line = (deltas: boolean): { ms: number; bytes: number } => {
    const s = all.get(deltas)!;
    const ms = median(s.map((x) => x.ms));
    const bytes = median(s.map((x) => x.bytes));
    process.stdout.write(
      `${deltas ? 'list edits (format 3)' : 'whole objects        '}: record ${bytes} bytes, commit median ${ms.toFixed(2)} ms, p90 ${p90(s.map((x) => x.ms)).toFixed(2)} ms (${s.length} commits)\n`,
    );
    return { ms, bytes };
  };
  process.stdout.write(
    `router and port with ${routes} routes each; one port + one route per commit, fsync on\n`,
  );
  const whole = line(false);
  const edits = line(true);
  process.stdout.write(
    `ratio edits/whole: record ${(edits.bytes / whole.bytes).toFixed(4)}, commit time ${(edits.ms / whole.ms).toFixed(2)}\n`,
  );
  process.stdout.write(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}

await main();
