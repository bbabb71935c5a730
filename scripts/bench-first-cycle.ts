/**
 * The daemon's first cycle before the store, in process: read the document, parse it in full
 * (`readGniWithState` with no previous state, as the daemon's first cycle), map it in full
 * (`mapTopology` with empty allocations) and plan the build (`buildPlan`), each timed. Run 1 is
 * the cold one (what the daemon's first cycle pays: JIT warm-up included); runs 2.. are warm.
 * Usage: npx tsx scripts/bench-first-cycle.ts --gni FILE [--runs N]
 *   (a document: npx tsx scripts/gen-gni.ts --size L -o FILE, or bench-reconcile's realistic one)
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { readGniWithState } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { emptyActual } from '../src/discovery/index.js';
import { buildPlan } from '../src/reconciler/build.js';

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
  console.log(
    `run ${r}: read ${read.toFixed(0)} ms, parse ${parse.toFixed(0)} ms, map ${map.toFixed(0)} ms, plan ${planMs.toFixed(0)} ms, total ${(read + parse + map + planMs).toFixed(0)} ms, CPU ${used.toFixed(0)} ms (${plan.storeOps.length} creates)`,
  );
}
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
