/**
 * Cold build and flush into an empty file store (fsync on), two ways in one process,
 * alternating, on the same mapped document: the transaction path (diff + chunked
 * transactions of 5,000 ops, what a store without a bulk path gets) and the bulk path
 * (`buildPlan` + `bulkCreate`, `bulkDelete` for the flush). On a shared machine compare the
 * ratio, not the absolute figures.
 * Then where a bulk build's time goes (`--phases`, default on): the plan (`buildPlan`), the
 * engine and the state's indexes (the same bulk into a memory store), persisting it (file store
 * minus memory store), and the floors of the persisting: serializing every object to JSON and
 * writing + fsyncing that many bytes to a file in the same directory.
 * Usage: npx tsx scripts/bench-build.ts [--size S|M|L|XL|25k] [--rounds N] [--bulk-only]
 */
import { mkdtempSync, openSync, closeSync, fsyncSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import {
  applyBuild,
  applyOps,
  buildPlan,
  diffTopology,
  planFlush,
} from '../src/reconciler/index.js';
import { createMemoryStore, KINDS, openFileStore, type Op } from '../src/store/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import { median } from './lib/daemon-driver.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const sizeArg = arg('size', 'L');
const instances = sizeArg === '25k' ? 25_000 : SIZES[sizeArg as Size];
const rounds = Number(arg('rounds', '3'));
const bulkOnly = process.argv.includes('--bulk-only');
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

const view = generateView({ instances, seed: 1, gateways: 'shared-peer' });
const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);

async function main(): Promise<void> {
  const times: Record<string, number[]> = {
    txBuild: [],
    bulkBuild: [],
    txFlush: [],
    bulkFlush: [],
    plan: [],
    memoryBulk: [],
    fileBulk: [],
    stringify: [],
    writeFsync: [],
  };
  let snapshotBytes = 0;
  for (let r = 0; r < rounds; r++) {
    const ways = bulkOnly ? [true] : r % 2 === 0 ? [false, true] : [true, false];
    for (const bulk of ways) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-build-'));
      const store = await openFileStore(join(dir, 's'));
      try {
        let t = performance.now();
        const actual = await discover(store);
        if (bulk) {
          await applyBuild(store, buildPlan(mapped.desired, actual, false).storeOps, {});
        } else {
          const plan = diffTopology(mapped.desired, actual, mapped.held, { withOps: false });
          await applyOps(store, plan.storeOps);
        }
        times[bulk ? 'bulkBuild' : 'txBuild']!.push(performance.now() - t);
        // children first; newest first only for transactions (a bulk delete takes a set)
        const { ops } = await planFlush(store, { ordered: !bulk });
        t = performance.now();
        if (bulk) await store.bulkDelete!(ops);
        else await applyOps(store, ops);
        times[bulk ? 'bulkFlush' : 'txFlush']!.push(performance.now() - t);
        if (bulk) await phases(dir, times, (n) => (snapshotBytes = n));
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`round ${r} done (load ${load()})`);
  }
  const objects = KINDS.reduce((n, k) => n + mapped.desired[k].size, 0);
  const m = (k: string): number => median(times[k]!);
  if (!bulkOnly) {
    console.log(
      `size ${sizeArg}, ${objects} objects, medians of ${rounds}: build into an empty file store: transactions ${m('txBuild').toFixed(0)} ms, bulk ${m('bulkBuild').toFixed(0)} ms (ratio ${(m('bulkBuild') / m('txBuild')).toFixed(2)}); flush: transactions ${m('txFlush').toFixed(0)} ms, bulk ${m('bulkFlush').toFixed(0)} ms (ratio ${(m('bulkFlush') / m('txFlush')).toFixed(2)}); load ${load()}`,
    );
  }
  const mib = (snapshotBytes / 2 ** 20).toFixed(1);
  console.log(
    `size ${sizeArg}, ${objects} objects, medians of ${rounds}: bulk build ${m('bulkBuild').toFixed(0)} ms, bulk flush ${m('bulkFlush').toFixed(0)} ms; ` +
      `phases of a bulk build: plan ${m('plan').toFixed(0)} ms, engine + state indexes (memory store) ${m('memoryBulk').toFixed(0)} ms, ` +
      `persist (file store bulk ${m('fileBulk').toFixed(0)} minus memory) ${(m('fileBulk') - m('memoryBulk')).toFixed(0)} ms; ` +
      `floors of persisting: JSON of every object ${m('stringify').toFixed(0)} ms, write + fsync of ${mib} MiB ${m('writeFsync').toFixed(0)} ms; load ${load()}`,
  );
}

/** The phases of a bulk build, and the floors of writing its snapshot (see the header). */
async function phases(
  dir: string,
  times: Record<string, number[]>,
  bytes: (n: number) => void,
): Promise<void> {
  const memory = createMemoryStore();
  let t = performance.now();
  const plan = buildPlan(mapped.desired, await discover(memory), false);
  times['plan']!.push(performance.now() - t);
  const creates = plan.storeOps as Extract<Op, { op: 'create' }>[];
  t = performance.now();
  await memory.bulkCreate!(creates);
  times['memoryBulk']!.push(performance.now() - t);
  const file = await openFileStore(join(dir, 'phases'));
  t = performance.now();
  await file.bulkCreate!(creates);
  times['fileBulk']!.push(performance.now() - t);
  await file.close();
  bytes(statSync(join(dir, 'phases', 'snapshot.ndjson')).size);
  t = performance.now();
  const lines: Buffer[] = [];
  for (const kind of KINDS) {
    const all = await memory.list(kind);
    for (let i = 0; i < all.length; i += 2000)
      lines.push(Buffer.from(JSON.stringify([kind, all.slice(i, i + 2000)]) + '\n'));
  }
  times['stringify']!.push(performance.now() - t);
  t = performance.now();
  const fd = openSync(join(dir, 'floor.tmp'), 'w');
  for (const b of lines) writeSync(fd, b);
  fsyncSync(fd);
  closeSync(fd);
  times['writeFsync']!.push(performance.now() - t);
  await memory.close();
}

await main();
