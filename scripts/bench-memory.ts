/**
 * Memory of the controller at steady state, in this process (run with --expose-gc):
 *   node --expose-gc --import tsx scripts/bench-memory.ts [--size L] [--cycles 40] [--fsync 1]
 * Builds the generated document into a file store with the daemon's `Controller`, then runs
 * `--cycles` one-instance changes (added, removed, alternating) and prints after a full GC:
 *   - heap used, external memory (buffers) and RSS after the cold build and over the cycles;
 *   - the heap by holder, measured by removal: the controller's references are dropped one
 *     holder at a time (discovered actual topology, mapping result, reader state and view,
 *     store) with a full GC and a heap reading after each; what a holder shares with a later
 *     one is counted with the later one (so the store's objects the actual topology also
 *     references count as the store's);
 *   - per cycle: apply_ms and, measured around the store, the time in `transaction` (the
 *     commit) against the rest of the apply.
 */
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { silentLogger } from '../src/common/index.js';
import { Controller, DAEMON_STORE_HISTORY, DEFAULT_SETTINGS } from '../src/reconciler/index.js';
import type { MappingResult } from '../src/mapping/index.js';
import { KINDS, openFileStore, type TopologyStore } from '../src/store/index.js';
import { SIZES, type Size } from './lib/gni-generator.js';
import { oneInstanceDocs, patchVersion } from './lib/view-edits.js';
import { arg, load } from './lib/bench-cli.js';

const size = arg('size', 'L') as Size;
const cycles = Number(arg('cycles', '40'));
const fsync = arg('fsync', '1') !== '0';
/** `--gc 0`: no full GC between cycles (as in the daemon); RSS and heap printed per cycle. */
const gcEachCycle = arg('gc', '1') !== '0';
const gc = (globalThis as { gc?: () => void }).gc;
const MiB = (n: number): string => (n / 2 ** 20).toFixed(1);

function heap(): { used: number; external: number; rss: number; physical: number } {
  gc!();
  gc!();
  const h = getHeapStatistics();
  return {
    used: h.used_heap_size,
    external: h.external_memory,
    rss: process.memoryUsage().rss,
    physical: h.total_physical_size,
  };
}

/** Wraps `transaction` to time the commits of an apply. */
function timed(store: TopologyStore, spent: { ms: number; n: number }): TopologyStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'transaction') {
        return async (...a: Parameters<TopologyStore['transaction']>) => {
          const t = performance.now();
          try {
            return await target.transaction(...a);
          } finally {
            spent.ms += performance.now() - t;
            spent.n++;
          }
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** How many of the mapping's desired objects are the stored object itself (adopted by the
 * store, see store/validate.ts `handOver`), of how many. */
async function shared(controller: Controller, store: TopologyStore): Promise<string> {
  const mapping = (controller as unknown as { lastMapping?: MappingResult }).lastMapping;
  if (mapping === undefined) return 'no mapping';
  let same = 0;
  let all = 0;
  for (const kind of KINDS) {
    for (const d of mapping.desired[kind].values()) {
      all++;
      if ((await store.get(kind, d.id)) === d) same++;
    }
  }
  return `${same} of ${all} desired objects are the stored ones`;
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;

async function main(): Promise<void> {
  if (!gc) throw new Error('run with node --expose-gc');
  const instances = SIZES[size];
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  try {
    const base = heap();
    const gni = join(dir, 'gni.xml');
    const { xml0, added } = oneInstanceDocs(instances);
    writeFileSync(gni, xml0);
    const docs = [added, xml0];
    const docsHeap = heap();
    console.log(
      `size ${size}: ${instances} instances, ${MiB(xml0.length)} MiB XML; fsync ${fsync}; load ${load()}`,
    );
    const spent = { ms: 0, n: 0 };
    // opened as the daemon opens it (one commit of watch history)
    const store = await openFileStore(join(dir, 'store'), {
      fsync,
      historySize: DAEMON_STORE_HISTORY,
    });
    const controller = new Controller({
      store: timed(store, spent),
      gniPath: gni,
      versionFile: join(dir, 'version'),
      settings: DEFAULT_SETTINGS,
      logger: silentLogger(),
      watchFile: false,
      resyncMs: 3_600_000,
    });
    const cold = await controller.runCycle();
    const h0 = heap();
    console.log(
      `cold build ${String(cold.totalMs)} ms: heap ${MiB(h0.used - docsHeap.used)} MiB above the documents, external ${MiB(h0.external)} MiB, heap physical ${MiB(h0.physical)} MiB, RSS ${MiB(h0.rss)} MiB`,
    );
    console.log(`after the cold build: ${await shared(controller, store)}`);
    const used: number[] = [];
    const rss: number[] = [];
    const applyMs: number[] = [];
    const readMs: number[] = [];
    const commitMs: number[] = [];
    const totalMs: number[] = [];
    for (let c = 0; c < cycles; c++) {
      const version = `b${String(c).padStart(7, '0')}`;
      writeFileSync(`${gni}.tmp`, patchVersion(docs[c % 2]!, 'a0000000', version));
      renameSync(`${gni}.tmp`, gni);
      spent.ms = 0;
      const r = await controller.runCycle();
      if (r.result !== 'applied') throw new Error(`cycle ${c}: ${r.result} ${r.error ?? ''}`);
      applyMs.push(r.durations.apply_ms ?? 0);
      readMs.push(r.durations.read_ms ?? 0);
      commitMs.push(spent.ms);
      totalMs.push(r.totalMs ?? 0);
      if (!gcEachCycle) {
        const h = getHeapStatistics();
        const m = process.memoryUsage();
        console.log(
          `cycle ${c}: RSS ${MiB(m.rss)} MiB, heap used ${MiB(h.used_heap_size)}, physical ${MiB(h.total_physical_size)}, external ${MiB(h.external_memory)} MiB`,
        );
        continue;
      }
      const h = heap();
      used.push(h.used - docsHeap.used);
      rss.push(h.rss);
    }
    if (cycles > 0 && gcEachCycle) {
      console.log(
        `over ${cycles} cycles: heap above the documents first ${MiB(used[0]!)}, last ${MiB(used.at(-1)!)}, max ${MiB(Math.max(...used))} MiB; RSS first ${MiB(rss[0]!)}, last ${MiB(rss.at(-1)!)}, max ${MiB(Math.max(...rss))} MiB; read_ms median ${med(readMs).toFixed(1)}, max ${Math.max(...readMs).toFixed(1)}`,
      );
      const every = used.filter((_, i) => i % 10 === 9 || i === 0).map((u) => MiB(u));
      console.log(`heap above the documents after cycles 1, 10, 20, ...: ${every.join(', ')} MiB`);
      console.log(
        `per cycle (medians): total ${med(totalMs).toFixed(1)} ms, apply ${med(applyMs).toFixed(1)} ms, of which in store.transaction ${med(commitMs).toFixed(1)} ms (load ${load()})`,
      );
    }
    console.log(`after the cycles: ${await shared(controller, store)}`);
    // the heap by holder, by removal (see the header)
    const c = controller as unknown as Record<string, unknown>;
    const steps: [string, () => void][] = [
      ['discovered actual topology (its maps)', () => void (c['synced'] = undefined)],
      ['mapping result', () => void (c['lastMapping'] = undefined)],
      [
        'reader state and view',
        () => {
          c['lastView'] = undefined;
          c['lastRead'] = undefined;
          c['lastBytes'] = undefined;
        },
      ],
    ];
    let before = heap();
    const rows: string[] = [];
    for (const [name, drop] of steps) {
      drop();
      const after = heap();
      rows.push(
        `${name} ${MiB(before.used - after.used)} MiB heap, ${MiB(before.external - after.external)} MiB external`,
      );
      before = after;
    }
    await store.close();
    (store as unknown as Record<string, unknown>)['state'] = undefined;
    const after = heap();
    rows.push(`store ${MiB(before.used - after.used)} MiB heap`);
    rows.push(`rest ${MiB(after.used - base.used - (docsHeap.used - base.used))} MiB`);
    console.log(`heap by holder: ${rows.join('; ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
