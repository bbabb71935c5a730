/**
 * Mapping benchmark (issue 4 targets: L ≤ 300 ms, XL ≤ 1.5 s): maps a generated view several
 * times and reports the median, the object count and two yardsticks measured in the same
 * process: a plain derivedId loop over the same number of keys, and the floor of a full pass
 * (`floor`: ids, one small object each, per-kind maps). Then the controller's cycle case:
 * one instance added or removed, mapped incrementally (`mapTopology(…, previous)` patches the
 * previous result), each view sharing its unchanged entities with the previous one as the
 * incremental reader's do (contract C1: change propagation), or with `--copies` each pass on a
 * structured clone (as a full read: nothing shared, every unit's inputs compared), checked
 * against a full recompute of the same view. Last, one security-group rule changed (a port
 * rule of a group with members), the same way.
 * The document has the realistic gateways by default (two gateways peering with the same
 * upstream BGP router; `--gateways mixed` for one static and one BGP gateway).
 * Usage: npx tsx scripts/bench-mapping.ts [--size S|M|L|XL|25k] [--seed N] [--runs N]
 *          [--gateways shared-peer|mixed] [--copies]
 * Uses scripts/lib/gni-generator.ts when present, else test/helpers/view-builder.ts.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { derivedId, IdDeriver } from '../src/common/index.js';
import type { GlobalView } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  type DesiredTopology,
} from '../src/mapping/index.js';
import { wasPropagated } from '../src/mapping/map-topology.js';
import { KINDS } from '../src/store/index.js';
import { syntheticView } from '../test/helpers/view-builder.js';
import { floorMaps } from './lib/floor-maps.js';
import { changeSgRulePort, groupsWithPortRules } from './lib/view-edits.js';
import { arg } from './lib/bench-cli.js';

const SYNTHETIC = {
  S: { vpcs: 10, instances: 100 },
  M: { vpcs: 100, instances: 1000 },
  L: { vpcs: 1000, instances: 10000 },
  XL: { vpcs: 4000, instances: 50000 },
} as const;

type Size = keyof typeof SYNTHETIC | '25k';

async function loadView(
  size: Size,
  seed: number,
  gateways: string,
): Promise<{ view: GlobalView; source: string }> {
  const gen = new URL('./lib/gni-generator.ts', import.meta.url);
  if (existsSync(gen)) {
    const mod = (await import('./lib/gni-generator.js')) as {
      generateView: (o: {
        size?: Size;
        instances?: number;
        seed: number;
        gateways: string;
      }) => GlobalView;
    };
    const which = size === '25k' ? { instances: 25_000 } : { size };
    return {
      view: mod.generateView({ ...which, seed, gateways }),
      source: `scripts/lib/gni-generator (seed ${seed}, gateways ${gateways})`,
    };
  }
  if (size === '25k') throw new Error('size 25k needs scripts/lib/gni-generator.ts');
  return {
    view: syntheticView(SYNTHETIC[size]),
    source: 'test/helpers/view-builder syntheticView',
  };
}

/** Same objects in the same order (per kind, so XL need not fit in one string). */
function sameTopology(a: DesiredTopology, b: DesiredTopology): boolean {
  for (const k of KINDS) {
    const ma = a[k] as ReadonlyMap<string, unknown>;
    const mb = b[k] as ReadonlyMap<string, unknown>;
    if (ma.size !== mb.size) return false;
    // a patched result has the changed objects last: compare by id
    for (const [id, o] of ma) if (JSON.stringify(o) !== JSON.stringify(mb.get(id))) return false;
  }
  return true;
}

/**
 * The floor of a full pass on this machine: as many ids as the result has objects, derived
 * from rule-like keys (a shared prefix and a short suffix, as `TopologyBuilder.rule` does),
 * each with a small fresh object put into a map of its kind (kinds sized as in the result),
 * while the previous round's maps stay alive (as the previous result does in the daemon).
 * Nothing a pass could skip: no names, signatures, unit records or issues.
 */
function floor(like: DesiredTopology, runs: number): number[] {
  const sizes = KINDS.map((k) => like[k].size);
  const d = new IdDeriver();
  let keep: Map<string, object>[] = [];
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t = performance.now();
    const { maps } = floorMaps(d, sizes);
    if (r > 0) times.push(performance.now() - t); // round 0 warms up
    keep = maps;
  }
  if (keep.length !== sizes.length) throw new Error('floor: maps lost');
  return times;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const size = arg('size', 'L') as Size;
  const seed = Number(arg('seed', '1'));
  const runs = Number(arg('runs', '7'));
  const { view, source } = await loadView(size, seed, arg('gateways', 'shared-peer'));
  const ifaces = view.instances.reduce((n, i) => n + i.networkInterfaces.length, 0);
  console.log(
    `machine: ${cpus().length} cpus, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(
    `view: size ${size} from ${source}: ${view.vpcs.length} VPCs, ${view.instances.length} instances, ${ifaces} interfaces`,
  );

  const times: number[] = [];
  const cpuTimes: number[] = [];
  let objects = 0;
  let result = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    const c = process.cpuUsage();
    result = mapTopology(view, result.allocations, DEFAULT_MAPPING_CONFIG);
    const used = process.cpuUsage(c);
    times.push(performance.now() - t);
    // process CPU time (all threads, GC helpers included): steadier than wall time on a busy box
    cpuTimes.push((used.user + used.system) / 1000);
  }
  for (const k of KINDS) objects += result.desired[k].size;
  const keys: string[] = [];
  for (let i = 0; i < objects; i++)
    keys.push(`rule:ic_i-${i.toString(16).padStart(8, '0')}_prechain:sg:x`);
  const idTimes: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    for (const k of keys) derivedId(k);
    idTimes.push(performance.now() - t);
  }
  const floorTimes = floor(result.desired, runs);
  const m = median(times);
  const target = size === 'XL' ? 1500 : size === 'L' ? 300 : undefined;
  console.log(
    `load average: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`objects: ${objects}, issues: ${result.issues.length}, held: ${result.held.size}`);
  console.log(
    `mapTopology: median ${m.toFixed(1)} ms over ${runs} runs (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`,
  );
  console.log(`mapTopology CPU time: median ${median(cpuTimes).toFixed(1)} ms`);
  console.log(
    `derivedId x ${objects}: median ${median(idTimes).toFixed(1)} ms; ratio mapping/ids ${(m / median(idTimes)).toFixed(2)}`,
  );
  const f = median(floorTimes);
  console.log(
    `floor (ids, one small object each, per-kind maps; no mapping logic): median ${f.toFixed(1)} ms (min ${Math.min(...floorTimes).toFixed(1)}); ratio mapping/floor ${(m / f).toFixed(2)}`,
  );
  if (target !== undefined)
    console.log(`full recompute vs target ${target} ms: ${m <= target ? 'met' : 'MISSED'}`);

  // One added / removed instance (the middle one), mapped incrementally, alternating.
  const gone = view.instances[Math.floor(view.instances.length / 2)]!;
  const without: GlobalView = { ...view, instances: view.instances.filter((i) => i !== gone) };
  const copies = process.argv.includes('--copies');
  // a view as the next pass gets it: sharing unchanged entities (C1), or a full read's copy
  const next = (v: GlobalView): GlobalView => (copies ? structuredClone(v) : v);
  console.log(
    `incremental views: ${copies ? 'structured clones (nothing shared)' : 'sharing unchanged entities (C1)'}`,
  );
  let propagated = 0;
  const addTimes: number[] = [];
  const removeTimes: number[] = [];
  const incCpu: number[] = [];
  let prev = mapTopology(without, result.allocations, DEFAULT_MAPPING_CONFIG);
  let patched = 0;
  for (let r = 0; r < 2 * runs; r++) {
    const v = next(r % 2 === 0 ? view : without);
    const t = performance.now();
    const c = process.cpuUsage();
    prev = mapTopology(v, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    const used = process.cpuUsage(c);
    (r % 2 === 0 ? addTimes : removeTimes).push(performance.now() - t);
    incCpu.push((used.user + used.system) / 1000);
    if (prev.delta !== undefined) patched++;
    if (wasPropagated(prev)) propagated++;
  }
  const check = mapTopology(without, prev.allocations, DEFAULT_MAPPING_CONFIG);
  const same = sameTopology(check.desired, prev.desired);
  const incTimes = [...addTimes, ...removeTimes];
  const mi = median(incTimes);
  console.log(
    `incremental, one instance added/removed: median ${mi.toFixed(1)} ms over ${2 * runs} runs (added ${median(addTimes).toFixed(1)}, removed ${median(removeTimes).toFixed(1)}; min ${Math.min(...incTimes).toFixed(1)}, max ${Math.max(...incTimes).toFixed(1)}), CPU median ${median(incCpu).toFixed(1)} ms; patched ${patched}/${2 * runs}, by propagation ${propagated}; equal to a full recompute: ${same}`,
  );
  // One security-group rule changed (a port rule of a group with members), alternating.
  const sgId = groupsWithPortRules(view, 3)[0]!;
  const changed = changeSgRulePort(without, sgId, 2222);
  const sgTimes: number[] = [];
  let sgPatched = 0;
  let sgPropagated = 0;
  for (let r = 0; r < 2 * runs; r++) {
    const v = next(r % 2 === 0 ? changed : without);
    const t = performance.now();
    prev = mapTopology(v, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    sgTimes.push(performance.now() - t);
    if (prev.delta !== undefined) sgPatched++;
    if (wasPropagated(prev)) sgPropagated++;
  }
  const sgSame = sameTopology(
    mapTopology(without, prev.allocations, DEFAULT_MAPPING_CONFIG).desired,
    prev.desired,
  );
  console.log(
    `incremental, one SG rule changed (${sgId}): median ${median(sgTimes).toFixed(1)} ms over ${2 * runs} runs (min ${Math.min(...sgTimes).toFixed(1)}); patched ${sgPatched}/${2 * runs}, by propagation ${sgPropagated}; equal to a full recompute: ${sgSame}`,
  );
  console.log(
    `OVN comparison inputs (${size}, mapping only): full ${m.toFixed(1)} ms; added ${median(addTimes).toFixed(1)} ms; removed ${median(removeTimes).toFixed(1)} ms; SG rule ${median(sgTimes).toFixed(1)} ms`,
  );
  if (target !== undefined)
    console.log(`incremental vs target ${target} ms: ${mi <= target ? 'met' : 'MISSED'}`);
}

await main();
