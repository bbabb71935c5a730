/**
 * Cold build and flush into an empty file store (fsync on), two ways in one process,
 * alternating, on the same mapped document: the transaction path (diff + chunked
 * transactions of 5,000 ops, what a store without a bulk path gets) and the bulk path
 * (`buildPlan` + `bulkCreate`, `bulkDelete` for the flush). On a shared machine compare the
 * ratio, not the absolute figures.
 * Usage: npx tsx scripts/bench-build.ts [--size S|M|L|XL|25k] [--rounds N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { KINDS, openFileStore } from '../src/store/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import { median } from './lib/daemon-driver.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const sizeArg = arg('size', 'L');
const instances = sizeArg === '25k' ? 25_000 : SIZES[sizeArg as Size];
const rounds = Number(arg('rounds', '3'));
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function main(): Promise<void> {
  const view = generateView({ instances, seed: 1, gateways: 'shared-peer' });
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  const times: Record<string, number[]> = {
    txBuild: [],
    bulkBuild: [],
    txFlush: [],
    bulkFlush: [],
  };
  for (let r = 0; r < rounds; r++) {
    for (const bulk of r % 2 === 0 ? [false, true] : [true, false]) {
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
        const { ops } = await planFlush(store); // children first, newest first
        t = performance.now();
        if (bulk) await store.bulkDelete!(ops);
        else await applyOps(store, ops);
        times[bulk ? 'bulkFlush' : 'txFlush']!.push(performance.now() - t);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`round ${r} done (load ${load()})`);
  }
  const objects = KINDS.reduce((n, k) => n + mapped.desired[k].size, 0);
  const m = (k: string): number => median(times[k]!);
  console.log(
    `size ${sizeArg}, ${objects} objects, medians of ${rounds}: build into an empty file store: transactions ${m('txBuild').toFixed(0)} ms, bulk ${m('bulkBuild').toFixed(0)} ms (ratio ${(m('bulkBuild') / m('txBuild')).toFixed(2)}); flush: transactions ${m('txFlush').toFixed(0)} ms, bulk ${m('bulkFlush').toFixed(0)} ms (ratio ${(m('bulkFlush') / m('txFlush')).toFixed(2)}); load ${load()}`,
  );
}

await main();
