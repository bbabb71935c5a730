/**
 * The daemon's first cycle before the store, in process: read the document, parse it in full
 * (`readGniWithState` with no previous state, as the daemon's first cycle), map it in full
 * (`mapTopology` with empty allocations) and plan the build (`buildPlan`), each timed. Run 1 is
 * the cold one (what the daemon's first cycle pays: JIT warm-up included); runs 2.. are warm.
 * Then the floor of the same work on this machine, same process: reading the file, decoding it
 * and finding every tag (what any XML reader does), one derived id and one small fresh object
 * per desired object put into a map of its kind (kinds sized as in the mapping result), and one
 * create op per object in a list; nothing a first cycle could skip. And the store's part of the
 * floor (`scripts/lib/floor-store.ts`): one entry per object in an id table of its kind, the JSON
 * of the objects the last run's build commits (as a memory store holds them, outside the timings)
 * written as a snapshot is, and one fsync (`--dir DIR`: where that file goes, default the
 * system's temp directory; put it on the store's disk). The two together are the floor of a cold
 * build into the file store.
 * With `--before DIR` (DIR holds the `src` of an earlier commit, e.g. `git archive <commit> src |
 * tar -x -C DIR`), last the earlier and the current mapping and build plan (and the freeze before
 * the store) alternate pass by pass on the same parsed view, `--ab N` rounds (default 8), process
 * CPU time each: medians and ratios from one process, so a busy machine slows both alike; with
 * `node --expose-gc --import tsx` also the heap one result of each holds.
 * Usage: npx tsx scripts/bench-first-cycle.ts --gni FILE [--runs N] [--dir DIR] [--before DIR [--ab N]]
 *   (a document: npx tsx scripts/gen-gni.ts --size L -o FILE, or bench-reconcile's realistic one)
 */
import { readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IdDeriver } from '../src/common/index.js';
import { readGniWithState } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  type MappingResult,
} from '../src/mapping/index.js';
import { emptyActual } from '../src/discovery/index.js';
import { buildPlan } from '../src/reconciler/build.js';
import { freezeForStore } from '../src/reconciler/share.js';
import { createMemoryStore, KINDS, type Op } from '../src/store/index.js';
import { floorMaps } from './lib/floor-maps.js';
import { storeFloor } from './lib/floor-store.js';
import { arg, load } from './lib/bench-cli.js';
import { median } from './lib/daemon-driver.js';

const file = arg('gni', '');
if (file === '') throw new Error('--gni FILE is required');
const runs = Number(arg('runs', '3'));
console.log(
  `machine: ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
);
console.log(`load average: ${load()}`);
const cpu = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
let sizes: number[] = [];
let lastPlan: readonly Op[] = []; // the last run's build plan
for (let r = 1; r <= runs; r++) {
  const c0 = process.cpuUsage();
  let t = performance.now();
  const bytes = readFileSync(file);
  const read = performance.now() - t;
  t = performance.now();
  const { view } = readGniWithState(bytes, {}).result;
  if (view === undefined) throw new Error(`${file}: not a valid GNI document`);
  const parse = performance.now() - t;
  t = performance.now();
  const mapping = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  const map = performance.now() - t;
  t = performance.now();
  const plan = buildPlan(mapping.desired, emptyActual(), false);
  const planMs = performance.now() - t;
  const used = cpu(process.cpuUsage(c0));
  sizes = KINDS.map((k) => mapping.desired[k].size);
  lastPlan = plan.storeOps;
  console.log(
    `run ${r}: read ${read.toFixed(0)} ms, parse ${parse.toFixed(0)} ms, map ${map.toFixed(0)} ms, plan ${planMs.toFixed(0)} ms, total ${(read + parse + map + planMs).toFixed(0)} ms, CPU ${used.toFixed(0)} ms (${plan.storeOps.length} creates)`,
  );
}
/** The objects a snapshot of the last run's build holds (versions and back-references filled
 * in): the build committed to a memory store, untimed. */
async function snapshotObjects(): Promise<object[][]> {
  const store = createMemoryStore();
  freezeForStore(lastPlan);
  await store.bulkCreate!(lastPlan as Extract<Op, { op: 'create' }>[]);
  const objects = KINDS.map((k) => [...store.committedObjects!(k).values()]);
  await store.close();
  return objects;
}
const committed = await snapshotObjects();
lastPlan = [];
/** The floor (see the header), `runs` times; the last run's maps stay alive during the next. */
const d = new IdDeriver();
let keep: unknown[] = [];
for (let r = 1; r <= runs; r++) {
  const c0 = process.cpuUsage();
  let t = performance.now();
  const bytes = readFileSync(file);
  const text = new TextDecoder().decode(bytes);
  let tags = 0;
  for (let i = text.indexOf('<'); i >= 0; i = text.indexOf('<', i + 1)) tags++;
  const scan = performance.now() - t;
  t = performance.now();
  const { maps, count: n } = floorMaps(d, sizes);
  const objects = performance.now() - t;
  t = performance.now();
  const ops: object[] = [];
  maps.forEach((map, k) => {
    for (const object of map.values()) ops.push({ op: 'create', kind: KINDS[k], object });
  });
  const list = performance.now() - t;
  const store = storeFloor(maps, committed, arg('dir', tmpdir()));
  const used = cpu(process.cpuUsage(c0));
  keep = [maps, ops];
  const before = scan + objects + list;
  const all = before + store.tables + store.json + store.write;
  console.log(
    `floor ${r}: read + decode + ${tags} tags ${scan.toFixed(0)} ms, ${n} ids + objects into maps ${objects.toFixed(0)} ms, op list ${list.toFixed(0)} ms, before the store ${before.toFixed(0)} ms; store: ${n} table entries ${store.tables.toFixed(0)} ms, JSON of ${(store.bytes / 2 ** 20).toFixed(1)} MiB ${store.json.toFixed(0)} ms, write + fsync ${store.write.toFixed(0)} ms; cold build floor ${all.toFixed(0)} ms, CPU ${used.toFixed(0)} ms`,
  );
}
if (keep.length !== 2) throw new Error('floor: lost');
keep = [];

/** One implementation of the pre-store steps after the parse. */
interface Steps {
  readonly name: string;
  readonly map: typeof mapTopology;
  readonly plan: typeof buildPlan;
  readonly freeze: typeof freezeForStore;
}

/** `--before`: the earlier and the current steps alternating (see the header). */
async function compare(dir: string, rounds: number): Promise<void> {
  const at = (f: string): string => pathToFileURL(`${dir}/src/${f}`).href;
  const mapping = (await import(at('mapping/index.ts'))) as { mapTopology: typeof mapTopology };
  const build = (await import(at('reconciler/build.ts'))) as { buildPlan: typeof buildPlan };
  const share = (await import(at('reconciler/share.ts'))) as {
    freezeForStore: typeof freezeForStore;
  };
  const steps: Steps[] = [
    {
      name: 'before',
      map: mapping.mapTopology,
      plan: build.buildPlan,
      freeze: share.freezeForStore,
    },
    { name: 'now', map: mapTopology, plan: buildPlan, freeze: freezeForStore },
  ];
  const { view } = readGniWithState(readFileSync(file), {}).result;
  if (view === undefined) throw new Error(`${file}: not a valid GNI document`);
  const times = steps.map(() => ({
    map: [] as number[],
    plan: [] as number[],
    freeze: [] as number[],
  }));
  let kept: unknown;
  for (let r = 0; r <= rounds; r++) {
    for (let j = 0; j < steps.length; j++) {
      const i = r % 2 === 0 ? j : steps.length - 1 - j; // alternate who goes first
      const s = steps[i]!;
      kept = undefined; // the last result dies before the next pass, as in the daemon
      let c = process.cpuUsage();
      const m = s.map(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
      const mapMs = cpu(process.cpuUsage(c));
      c = process.cpuUsage();
      const plan = s.plan(m.desired, emptyActual(), false);
      const planMs = cpu(process.cpuUsage(c));
      c = process.cpuUsage();
      s.freeze(plan.storeOps);
      const freezeMs = cpu(process.cpuUsage(c));
      kept = [m, plan];
      if (r === 0) continue; // round 0 warms both up
      times[i]!.map.push(mapMs);
      times[i]!.plan.push(planMs);
      times[i]!.freeze.push(freezeMs);
    }
  }
  if (kept === undefined) throw new Error('compare: lost');
  for (const step of ['map', 'plan', 'freeze'] as const) {
    const [b, n] = times.map((t) => median(t[step]));
    console.log(
      `${step}: before ${b!.toFixed(0)} ms CPU, now ${n!.toFixed(0)} ms CPU (medians of ${rounds}), now/before ${(n! / b!).toFixed(2)}`,
    );
  }
  const total = times.map((t) => median(t.map.map((x, k) => x + t.plan[k]! + t.freeze[k]!)));
  console.log(
    `map + plan + freeze: before ${total[0]!.toFixed(0)} ms CPU, now ${total[1]!.toFixed(0)} ms CPU, now/before ${(total[1]! / total[0]!).toFixed(2)}`,
  );
  // the heap a mapping result holds (run with node --expose-gc --import tsx to see it)
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  kept = undefined;
  const used = (): number => {
    gc();
    return getHeapStatistics().used_heap_size;
  };
  const mib = (x: number): string => (x / 2 ** 20).toFixed(1);
  /** The heap one result of `s` holds, and its desired objects alone (in a frame of its own, so
   * that nothing of it outlives the call). */
  const held = (s: Steps): [number, number] => {
    const h0 = used();
    let m: MappingResult | undefined = s.map(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const h1 = used();
    const desired = m.desired;
    m = undefined; // its record for the next pass goes with it
    const h2 = used();
    if (desired.rule.size === 0) throw new Error('held: no rules');
    return [h1 - h0, h2 - h0];
  };
  for (const s of steps) {
    const [all, desired] = held(s);
    console.log(
      `${s.name}: a result holds ${mib(all)} MiB: desired objects ${mib(desired)} MiB, record for the next pass ${mib(all - desired)} MiB`,
    );
  }
}

const before = arg('before', '');
if (before !== '') await compare(resolve(before), Number(arg('ab', '8')));
console.log(`load average: ${load()}`);
