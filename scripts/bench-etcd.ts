/**
 * etcd backend benchmark (issue 9 targets): the same work through the file store and through
 * a local etcd (started here, data dir in a temp dir, fsync on as etcd always does):
 *   cold build of a generated document (target: etcd within 5x the file store),
 *   unchanged controller cycle (target: within 2x), a full re-plan that lists every kind
 *   (what a changed cycle reads), and a one-instance change applied.
 * Usage: npx tsx scripts/bench-etcd.ts [--size S|M|L] [--seed N] [--rounds N]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/common/index.js';
import { readGni, writeGniJson, writeGniXml, type GlobalView } from '../src/gni/index.js';
import { Controller, DEFAULT_SETTINGS, reconcileView } from '../src/reconciler/index.js';
import { openEtcdStore, openFileStore, type TopologyStore } from '../src/store/index.js';
import { EtcdCluster, etcdAvailable } from '../test/helpers/etcd.js';
import { addInstanceLike, type Doc } from '../test/helpers/gni-doc.js';
import { generateView } from './lib/gni-generator.js';
import { arg } from './lib/bench-cli.js';

const size = arg('size', 'M') as 'S' | 'M' | 'L';
const seed = Number(arg('seed', '1'));
const rounds = Number(arg('rounds', '3'));

interface Figures {
  cold: number;
  unchanged: number;
  replan: number;
  change: number;
  objects: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function measure(
  store: TopologyStore,
  view: GlobalView,
  changed: GlobalView,
  dir: string,
): Promise<Figures> {
  const gni = join(dir, 'global_network_info.xml');
  writeFileSync(gni, writeGniXml(view));
  const settings = { ...DEFAULT_SETTINGS, pollingSeconds: 3600 };
  const controller = new Controller({
    store,
    gniPath: gni,
    settings,
    logger: createLogger({ level: 'error' }),
    resyncMs: 3_600_000,
    watchFile: false,
  });
  let t = performance.now();
  const cold = await controller.runCycle();
  const coldMs = performance.now() - t;
  if (cold.result !== 'applied') throw new Error(`cold build: ${cold.result} ${cold.error ?? ''}`);
  const unchanged: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    const r = await controller.runCycle();
    unchanged.push(performance.now() - t);
    if (r.result !== 'unchanged') throw new Error(`expected an unchanged cycle, got ${r.result}`);
  }
  const replan: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const r = await reconcileView(store, view, settings.mapping);
    replan.push(performance.now() - t);
    if (r.plan.ops.length !== 0) throw new Error('re-plan of an applied view has ops');
  }
  t = performance.now();
  const r = await reconcileView(store, changed, settings.mapping);
  const changeMs = performance.now() - t;
  if (r.plan.ops.length === 0) throw new Error('the changed view made no ops');
  let objects = 0;
  for (const c of Object.values(cold.counts ?? {})) objects += typeof c === 'number' ? c : 0;
  return {
    cold: coldMs,
    unchanged: median(unchanged),
    replan: median(replan),
    change: changeMs,
    objects: cold.counts?.create ?? objects,
  };
}

async function main(): Promise<void> {
  if (!etcdAvailable()) throw new Error('etcd is not installed (apt-get install etcd-server)');
  console.log(
    `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  const view = generateView({ size, seed });
  const doc = JSON.parse(writeGniJson(view)) as Doc;
  addInstanceLike(doc, String(doc.instances[0]!['name']), 'a0000001', 250);
  doc.version = 'b0000001';
  const changed = readGni(JSON.stringify(doc)).view!;
  console.log(`document: size ${size} seed ${seed}, ${view.instances.length} instances`);
  const cluster = await EtcdCluster.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-etcd-'));
  const file: Figures[] = [];
  const etcd: Figures[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const fdir = join(dir, `file-${round}`);
      const fs = await openFileStore(join(fdir, 'store'));
      file.push(await measure(fs, view, changed, dir));
      await fs.close();
      const es = await openEtcdStore(cluster.spec(`bench-${round}`));
      etcd.push(await measure(es, view, changed, dir));
      await es.close();
      const f = file[round]!;
      const e = etcd[round]!;
      console.log(
        `round ${round + 1}: cold file ${f.cold.toFixed(0)} ms / etcd ${e.cold.toFixed(0)} ms; ` +
          `unchanged ${f.unchanged.toFixed(2)} / ${e.unchanged.toFixed(2)} ms; ` +
          `re-plan ${f.replan.toFixed(0)} / ${e.replan.toFixed(0)} ms; ` +
          `one change ${f.change.toFixed(0)} / ${e.change.toFixed(0)} ms`,
      );
    }
    const m = (xs: Figures[], k: keyof Figures): number => median(xs.map((x) => x[k]));
    console.log(`objects created by the cold build: ${etcd[0]!.objects}`);
    for (const k of ['cold', 'unchanged', 'replan', 'change'] as const) {
      console.log(
        `${k}: file ${m(file, k).toFixed(2)} ms, etcd ${m(etcd, k).toFixed(2)} ms, ratio ${(m(etcd, k) / m(file, k)).toFixed(2)}x`,
      );
    }
  } finally {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
