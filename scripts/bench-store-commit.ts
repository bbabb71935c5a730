/**
 * Commit latency of the file store with fsync on: one router, then N single-op commits (one
 * router port each, as an API client adding ports one by one would make). Prints the median,
 * p90 and p99 latency and commits/s. A commit syncs its journal record, then the manifest.
 * Usage: npx tsx scripts/bench-store-commit.ts [--commits N] [--rounds R]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore, type Op } from '../src/store/index.js';
import { numArg } from './lib/bench-cli.js';

async function round(commits: number): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-store-commit-'));
  try {
    const store = await openFileStore(dir);
    await store.transaction([
      { op: 'create', kind: 'router', object: { id: 'r', name: 'r' } } as Op,
    ]);
    const latencies: number[] = [];
    for (let i = 0; i < commits; i++) {
      const t = process.hrtime.bigint();
      await store.transaction([
        {
          op: 'create',
          kind: 'port',
          object: { id: `p${i}`, type: 'Router', routerId: 'r' },
        } as Op,
      ]);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    await store.close();
    return latencies;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const commits = numArg('commits', 300);
  const rounds = numArg('rounds', 3);
  const all: number[] = [];
  for (let r = 0; r < rounds; r++) all.push(...(await round(commits)));
  all.sort((a, b) => a - b);
  const q = (p: number): string =>
    all[Math.min(all.length - 1, Math.floor(p * all.length))]!.toFixed(2);
  const total = all.reduce((s, x) => s + x, 0);
  process.stdout.write(
    `file backend, single-op commits, fsync on: ${all.length} commits, median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, ${Math.round((all.length / total) * 1000)} commits/s\n`,
  );
}

await main();
