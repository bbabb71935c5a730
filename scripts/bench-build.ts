/**
 * Cold build and flush into an empty file store (fsync on), two ways in one process,
 * alternating, on the same document: the transaction path (diff + chunked transactions of
 * 5,000 ops, what a store without a bulk path gets) and the bulk path (`buildPlan` +
 * `bulkCreate`, `bulkDelete` for the flush). Both take what the daemon's cycle gives the store:
 * a fresh mapping's desired objects, handed over (`freezeForStore`), so a bulk create adopts
 * them (a mapping whose objects a store adopted cannot be handed over again: each build maps
 * anew, outside the timings). On a shared machine compare the ratio, not the absolute figures.
 * Then where a bulk build's time goes (`--phases`, default on): the plan (`buildPlan`), the
 * engine and the state's indexes (the same bulk into a memory store), the same for input that
 * was not handed over (validated and copied the careful way, as API input would be), persisting
 * it (file store minus memory store), the flush's engine (memory store) and persisting it, and
 * the floors of the persisting (`scripts/lib/floor-store.ts`): serializing every object to JSON
 * as the snapshot writer does, and writing + fsyncing those bytes to a file in the same directory.
 * Usage: npx tsx scripts/bench-build.ts [--size S|M|L|XL|25k] [--rounds N] [--bulk-only]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { freezeForStore } from '../src/reconciler/share.js';
import {
  createMemoryStore,
  KINDS,
  openFileStore,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import { median } from './lib/daemon-driver.js';
import { arg, load } from './lib/bench-cli.js';
import { storeFloor } from './lib/floor-store.js';

const sizeArg = arg('size', 'L');
const instances = sizeArg === '25k' ? 25_000 : SIZES[sizeArg as Size];
const rounds = Number(arg('rounds', '3'));
const bulkOnly = process.argv.includes('--bulk-only');

const view = generateView({ instances, seed: 1, gateways: 'shared-peer' });
/** A fresh mapping (its objects not yet handed over to any store). */
const mapAnew = () => mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
const objects = ((d) => KINDS.reduce((n, k) => n + d[k].size, 0))(mapAnew().desired);

async function main(): Promise<void> {
  const times: Record<string, number[]> = {
    txBuild: [],
    bulkBuild: [],
    txFlush: [],
    bulkFlush: [],
    plan: [],
    memoryBulk: [],
    memoryBulkCareful: [],
    fileBulk: [],
    memoryFlush: [],
    fileFlush: [],
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
        const mapped = mapAnew();
        let t = performance.now();
        const actual = await discover(store);
        if (bulk) {
          const { storeOps } = buildPlan(mapped.desired, actual, false);
          freezeForStore(storeOps); // as the daemon's cycle does
          await applyBuild(store, storeOps, {});
        } else {
          const plan = diffTopology(mapped.desired, actual, mapped.held, { withOps: false });
          freezeForStore(plan.storeOps);
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
    console.log(`round ${r} done (load ${load(1)})`);
  }
  const m = (k: string): number => median(times[k]!);
  if (!bulkOnly) {
    console.log(
      `size ${sizeArg}, ${objects} objects, medians of ${rounds}: build into an empty file store: transactions ${m('txBuild').toFixed(0)} ms, bulk ${m('bulkBuild').toFixed(0)} ms (ratio ${(m('bulkBuild') / m('txBuild')).toFixed(2)}); flush: transactions ${m('txFlush').toFixed(0)} ms, bulk ${m('bulkFlush').toFixed(0)} ms (ratio ${(m('bulkFlush') / m('txFlush')).toFixed(2)}); load ${load(1)}`,
    );
  }
  const mib = (snapshotBytes / 2 ** 20).toFixed(1);
  console.log(
    `size ${sizeArg}, ${objects} objects, medians of ${rounds}: bulk build ${m('bulkBuild').toFixed(0)} ms, bulk flush ${m('bulkFlush').toFixed(0)} ms; ` +
      `phases of a bulk build: plan ${m('plan').toFixed(0)} ms, engine + state indexes (memory store) ${m('memoryBulk').toFixed(0)} ms ` +
      `(input not handed over: ${m('memoryBulkCareful').toFixed(0)} ms), ` +
      `persist (file store bulk ${m('fileBulk').toFixed(0)} minus memory) ${(m('fileBulk') - m('memoryBulk')).toFixed(0)} ms; ` +
      `flush: engine (memory store) ${m('memoryFlush').toFixed(0)} ms, persist (file ${m('fileFlush').toFixed(0)} minus memory) ${(m('fileFlush') - m('memoryFlush')).toFixed(0)} ms; ` +
      `floors of persisting: JSON of every object ${m('stringify').toFixed(0)} ms, write + fsync of ${mib} MiB ${m('writeFsync').toFixed(0)} ms; load ${load(1)}`,
  );
}

/** The phases of a bulk build and flush, and the floors of writing a snapshot (see the header). */
async function phases(
  dir: string,
  times: Record<string, number[]>,
  bytes: (n: number) => void,
): Promise<void> {
  /** A bulk create of a fresh mapping into `store` (handed over when `handed`), timed. */
  const build = async (store: TopologyStore, key: string, handed: boolean): Promise<void> => {
    const mapped = mapAnew();
    const t0 = performance.now();
    const plan = buildPlan(mapped.desired, await discover(store), false);
    if (key === 'memoryBulk') times['plan']!.push(performance.now() - t0);
    const creates = plan.storeOps as Extract<Op, { op: 'create' }>[];
    if (handed) freezeForStore(creates);
    const t = performance.now();
    await store.bulkCreate!(handed ? creates : [...creates]); // a copy was never handed over
    times[key]!.push(performance.now() - t);
  };
  /** A flush of `store` (planned outside the timing), timed. */
  const flush = async (store: TopologyStore, key: string): Promise<void> => {
    const { ops } = await planFlush(store, { ordered: false });
    const t = performance.now();
    await store.bulkDelete!(ops);
    times[key]!.push(performance.now() - t);
  };
  const careful = createMemoryStore();
  await build(careful, 'memoryBulkCareful', false);
  await careful.close();
  const memory = createMemoryStore();
  await build(memory, 'memoryBulk', true);
  const file = await openFileStore(join(dir, 'phases'));
  await build(file, 'fileBulk', true);
  bytes(statSync(join(dir, 'phases', 'snapshot.ndjson')).size);
  // the objects in map order, as the snapshot writer takes them (`list` would sort them first)
  const kinds = KINDS.map((kind) => [...memory.committedObjects!(kind).values()]);
  const floor = storeFloor([], kinds, dir);
  times['stringify']!.push(floor.json);
  times['writeFsync']!.push(floor.write);
  await flush(memory, 'memoryFlush');
  await flush(file, 'fileFlush');
  await file.close();
  await memory.close();
}

await main();
