/**
 * Reconcile benchmark (issue 5 targets) on a generated document, default size L:
 *   cold build into an empty file store, an unchanged cycle, one added instance end to end
 *   (file rename → committed, through the file watch), flush and rebuild.
 * Usage: npx tsx scripts/bench-reconcile.ts [--size S|M|L|XL] [--seed N] [--store memory|file]
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/common/index.js';
import { readGni, writeGniJson, writeGniXml } from '../src/gni/index.js';
import {
  Controller,
  DEFAULT_SETTINGS,
  flushManaged,
  reconcileView,
} from '../src/reconciler/index.js';
import { createMemoryStore, openFileStore } from '../src/store/index.js';
import type { TopologyStore } from '../src/store/index.js';
import { addInstanceLike } from '../test/helpers/gni-doc.js';
import type { Doc } from '../test/helpers/gni-doc.js';
import { generateView } from './lib/gni-generator.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const size = arg('size', 'L') as 'S' | 'M' | 'L' | 'XL';
const seed = Number(arg('seed', '1'));
const backend = arg('store', 'file');
const ms = (t: number): number => Math.round(performance.now() - t);

async function open(dir: string): Promise<TopologyStore> {
  return backend === 'memory' ? createMemoryStore() : openFileStore(join(dir, 'store'));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reconcile-'));
  try {
    const view = generateView({ size, seed });
    const gni = join(dir, 'global_network_info.xml');
    const xml = writeGniXml(view);
    writeFileSync(gni, xml);
    console.log(
      `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    );
    console.log(
      `document: size ${size} seed ${seed}, ${view.instances.length} instances, ${(xml.length / 2 ** 20).toFixed(1)} MiB XML; store: ${backend}`,
    );

    const store = await open(dir);
    const settings = { ...DEFAULT_SETTINGS, pollingSeconds: 3600 };
    const controller = new Controller({
      store,
      gniPath: gni,
      settings,
      logger: createLogger({ level: 'info', silent: true, file: join(dir, 'cycles.log') }),
      resyncMs: 3_600_000,
      debounceMs: 20,
    });

    let t = performance.now();
    const cold = await controller.runCycle();
    const coldMs = ms(t);
    console.log(
      `cold build: ${coldMs} ms, ${cold.counts?.create} objects created (${JSON.stringify(cold.durations)})`,
    );

    const unchanged: number[] = [];
    for (let i = 0; i < 20; i++) {
      t = performance.now();
      const r = await controller.runCycle();
      unchanged.push(performance.now() - t);
      if (r.result !== 'unchanged') throw new Error(`expected an unchanged cycle, got ${r.result}`);
    }
    unchanged.sort((a, b) => a - b);
    console.log(
      `unchanged cycle: median ${unchanged[10]!.toFixed(2)} ms, max ${unchanged[19]!.toFixed(2)} ms`,
    );

    // one added instance, end to end: rename the new file, the watch wakes the loop, measure to commit
    // The documents are made before the daemon loop starts: the cloud controller writes them in
    // another process, so their cost must not land in the measured cycles (this one is shared).
    const doc = JSON.parse(writeGniJson(view)) as Doc;
    const rounds: { version: string; xml: Buffer }[] = [];
    for (let round = 0; round < 11; round++) {
      addInstanceLike(
        doc,
        String(doc.instances[round * 7]!['name']),
        (0xa0000000 + round).toString(16),
        251 + (round % 4), // a free last octet (templates differ per round)
      );
      doc.version = (0xb0000000 + round).toString(16);
      const v = readGni(JSON.stringify(doc)).view!;
      rounds.push({ version: doc.version, xml: Buffer.from(writeGniXml(v)) });
    }
    const running = controller.run();
    await new Promise((r) => setTimeout(r, 300)); // let the watcher settle
    // round 0 is a warm-up: the daemon re-reads the whole store on start (as the issue asks),
    // which its first cycle pays once; rounds 1-10 are the steady state
    const added: number[] = [];
    for (const { version, xml } of rounds) {
      writeFileSync(`${gni}.temp`, xml);
      await new Promise((r) => setTimeout(r, 100)); // the writer's own events pass
      const before = await store.revision();
      t = performance.now();
      renameSync(`${gni}.temp`, gni);
      for (;;) {
        if (
          (await store.revision()) > before &&
          readFileSync(join(dir, 'global_network_info.version'), 'utf8') === version
        )
          break;
        await new Promise((r) => setTimeout(r, 2));
      }
      added.push(ms(t));
    }
    controller.stop();
    await running;
    const steady = added.slice(1).sort((a, b) => a - b);
    console.log(
      `one added instance, file rename → committed: first after start ${added[0]} ms, then ${added.slice(1).join(', ')} ms (median ${steady[Math.floor(steady.length / 2)]} ms)`,
    );
    await new Promise((r) => setTimeout(r, 200)); // let the log file flush
    const cycles = readFileSync(join(dir, 'cycles.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('main loop complete, applied GNI'))
      .slice(-11)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const c of cycles) {
      const phases = [
        'read_ms',
        'parse',
        'scanned_kb',
        'parse_ms',
        'discover_ms',
        'map_ms',
        'diff_ms',
        'apply_ms',
        'total_ms',
        'issues',
      ];
      console.log(
        `  cycle ${String(c['version'])}: ${phases.map((p) => `${p}=${String(c[p])}`).join(' ')}`,
      );
    }

    t = performance.now();
    const flushed = await flushManaged(store);
    const flushMs = ms(t);
    const v2 = readGni(readFileSync(gni)).view!;
    const rebuilt = await reconcileView(store, v2, settings.mapping, {
      allocations: flushed.allocations,
    });
    const totalMs = ms(t);
    console.log(
      `flush and rebuild: ${totalMs} ms (flush ${flushMs} ms: ${flushed.deleted} deleted; rebuild: ${rebuilt.plan.counts.create} created)`,
    );
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
