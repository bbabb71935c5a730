/**
 * The daemon's first cycle before the store, in process: read the document, parse it in full
 * (`readGniWithState` with no previous state, as the daemon's first cycle), map it in full
 * (`mapTopology` with empty allocations) and plan the build (`buildPlan`), each timed. Run 1 is
 * the cold one (what the daemon's first cycle pays: JIT warm-up included); runs 2.. are warm.
 * Then the floor of the same work on this machine, same process: reading the file, decoding it
 * and finding every tag (what any XML reader does), one derived id and one small fresh object
 * per desired object put into a map of its kind (kinds sized as in the mapping result), and one
 * create op per object in a list; nothing a first cycle could skip.
 * Usage: npx tsx scripts/bench-first-cycle.ts --gni FILE [--runs N]
 *   (a document: npx tsx scripts/gen-gni.ts --size L -o FILE, or bench-reconcile's realistic one)
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { IdDeriver } from '../src/common/index.js';
import { readGniWithState } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { emptyActual } from '../src/discovery/index.js';
import { buildPlan } from '../src/reconciler/build.js';
import { KINDS } from '../src/store/index.js';
import { floorMaps } from './lib/floor-maps.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const file = arg('gni', '');
if (file === '') throw new Error('--gni FILE is required');
const runs = Number(arg('runs', '3'));
console.log(
  `machine: ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
);
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
const cpu = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;
let sizes: number[] = [];
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
  console.log(
    `run ${r}: read ${read.toFixed(0)} ms, parse ${parse.toFixed(0)} ms, map ${map.toFixed(0)} ms, plan ${planMs.toFixed(0)} ms, total ${(read + parse + map + planMs).toFixed(0)} ms, CPU ${used.toFixed(0)} ms (${plan.storeOps.length} creates)`,
  );
}
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
  const used = cpu(process.cpuUsage(c0));
  keep = [maps, ops];
  console.log(
    `floor ${r}: read + decode + ${tags} tags ${scan.toFixed(0)} ms, ${n} ids + objects into maps ${objects.toFixed(0)} ms, op list ${list.toFixed(0)} ms, total ${(scan + objects + list).toFixed(0)} ms, CPU ${used.toFixed(0)} ms`,
  );
}
if (keep.length !== 2) throw new Error('floor: lost');
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
