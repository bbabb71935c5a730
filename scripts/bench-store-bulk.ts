/**
 * The store side of a cold build, phase by phase: the ops of a bulk build (a fresh mapping of
 * the realistic document, `buildPlan` against an empty store, handed over with
 * `freezeForStore` as the daemon's cycle does; all outside the timings) committed
 *   engine  `prepareBulkCreate` on an empty state (validation, back-references, versions),
 *   memory  `bulkCreate` into a memory store (the engine plus applying the commit),
 *   file    `bulkCreate` into an empty file store, fsync on (the above plus the snapshot),
 *   encode  encoding that file store's snapshot again (chunks made, not written).
 * Each timing gets a mapping of its own (a store adopts the objects it is handed).
 * Run with the daemon's V8 flags to see its garbage collection, e.g.
 *   NODE_OPTIONS=--max-semi-space-size=4 npx tsx scripts/bench-store-bulk.ts --size L
 * `--only PHASE` times one phase (for `--cpu-prof`). Compare ratios on a shared machine.
 * `--against DIR` compares with another build of the store in the same process instead: DIR is
 * a tree whose `dist/` holds it (e.g. `git archive <commit>` unpacked and built with
 * `npx tsc -p tsconfig.build.json`); the engine, memory and file phases run with each store in
 * turn, alternating which goes first, and the ratios this/DIR are printed.
 * `--slots` gives the store objects with slots (docs/store.md, "Slots": `version` and
 * back-reference placeholders), each remade as an object literal of its own fields plus the
 * slots (what a mapping that writes them makes); with `--against`, the other build gets them
 * too when it has slots (it exports `BACK_REFERENCE_SLOT`), else the mapping's objects.
 * Usage: npx tsx scripts/bench-store-bulk.ts [--size S|M|L|XL|25k] [--rounds N] [--only P]
 *          [--against DIR] [--slots]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { emptyActual } from '../src/discovery/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from '../src/mapping/index.js';
import { buildPlan } from '../src/reconciler/index.js';
import { freezeForStore } from '../src/reconciler/share.js';
import { prepareBulkCreate, type CreateOp } from '../src/store/bulk.js';
import { encodeSnapshotKinds } from '../src/store/snapshot.js';
import { StoreState } from '../src/store/state.js';
import * as thisStore from '../src/store/index.js';
import {
  BACK_REFERENCE_FIELDS,
  createMemoryStore,
  KINDS,
  openFileStore,
  type Kind,
  type TopologyStore,
} from '../src/store/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import { median } from './lib/daemon-driver.js';
import { arg, load } from './lib/bench-cli.js';

const sizeArg = arg('size', 'L');
const instances = sizeArg === '25k' ? 25_000 : SIZES[sizeArg as Size];
const rounds = Number(arg('rounds', '3'));
const PHASES = ['engine', 'memory', 'file', 'encode'] as const;
type Phase = (typeof PHASES)[number];
const only = arg('only', '');
const phases: readonly Phase[] = only ? [only as Phase] : PHASES;

const view = generateView({ instances, seed: 1, gateways: 'shared-peer' });

const slots = process.argv.includes('--slots');

/** The create ops of a bulk build of a fresh mapping, handed over (`withSlots`: see the
 * header). */
function freshOps(withSlots = slots, store: StoreModule = thisStore): CreateOp[] {
  const mapped = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  const ops = buildPlan(mapped.desired, emptyActual(), false).storeOps as CreateOp[];
  freezeForStore(ops);
  const slot = store.BACK_REFERENCE_SLOT as readonly string[] | undefined;
  if (!withSlots || slot === undefined) return ops;
  const remade = ops.map((op) => ({ ...op, object: slotted(op.kind, op.object, slot) as never }));
  store.handOverBatch(remade);
  return remade;
}

/** Per kind and field list, a function making an object literal of those fields and the
 * kind's slots. */
const literals = new Map<string, (slot: unknown, o: object) => object>();

/** `o` remade as an object literal with the slots of its kind (version last). */
function slotted(kind: Kind, o: object, slot: readonly string[]): object {
  const keys = Object.keys(o);
  const key = `${kind}:${keys.join(',')}`;
  let make = literals.get(key);
  if (make === undefined) {
    const backs = (BACK_REFERENCE_FIELDS[kind] as readonly string[]).filter(
      (f) => !keys.includes(f),
    );
    const fields = [
      ...keys.map((k) => `${JSON.stringify(k)}: o[${JSON.stringify(k)}]`),
      ...backs.map((b) => `${JSON.stringify(b)}: slot`),
      'version: 0',
    ];
    make = new Function('slot', 'o', `return { ${fields.join(', ')} };`) as (
      slot: unknown,
      o: object,
    ) => object;
    literals.set(key, make);
  }
  return make(slot, o);
}

/** CPU time of the process (every thread: garbage collection helpers too) per phase, in ms:
 * on a loaded machine steadier than the wall clock. */
const cpu = new Map<Phase, number[]>();

/** Times `fn` (wall clock; its CPU time goes to `cpu`) after a garbage collection when
 * `global.gc` is exposed. */
async function timed(phase: Phase, fn: () => unknown): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  const end = performance.now();
  const used = process.cpuUsage(c);
  if (process.env['BENCH_MARKS']) console.log(`timed ${t.toFixed(0)}..${end.toFixed(0)} ms`);
  (cpu.get(phase) ?? cpu.set(phase, []).get(phase)!).push((used.user + used.system) / 1000);
  return end - t;
}

async function main(): Promise<void> {
  const times = new Map<Phase, number[]>(phases.map((p) => [p, []]));
  let objects = 0;
  for (let r = 0; r < rounds; r++) {
    for (const phase of phases) {
      const ops = freshOps();
      objects = ops.length;
      const dir = mkdtempSync(join(tmpdir(), 'bench-store-bulk-'));
      let store: TopologyStore | undefined;
      try {
        if (phase === 'engine') {
          const state = new StoreState();
          times.get(phase)!.push(await timed(phase, () => prepareBulkCreate(state, ops)));
        } else if (phase === 'memory') {
          store = createMemoryStore();
          const s = store;
          times.get(phase)!.push(await timed(phase, () => s.bulkCreate!(ops)));
        } else {
          store = await openFileStore(join(dir, 's'));
          const s = store;
          if (phase === 'file')
            times.get(phase)!.push(await timed(phase, () => s.bulkCreate!(ops)));
          else {
            await s.bulkCreate!(ops);
            const lists = await Promise.all(KINDS.map((k) => s.list(k)));
            const count = lists.reduce((n, l) => n + l.length, 0);
            const byKind = KINDS.map((k, i) => [k, lists[i]!] as const);
            let bytes = 0;
            times.get(phase)!.push(
              await timed(phase, () => {
                for (const c of encodeSnapshotKinds(1, byKind, count, 2, 1, { reuse: true }))
                  bytes += c.length;
              }),
            );
            if (bytes === 0) throw new Error('empty snapshot');
          }
        }
      } finally {
        await store?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`round ${r} done (load ${load(1)})`);
  }
  const parts = phases.map(
    (p) => `${p} ${median(times.get(p)!).toFixed(0)} ms (cpu ${median(cpu.get(p)!).toFixed(0)} ms)`,
  );
  console.log(
    `size ${sizeArg}, ${objects} objects, medians of ${rounds}: ${parts.join(', ')}; ` +
      `${slots ? 'with slots; ' : ''}NODE_OPTIONS=${process.env['NODE_OPTIONS'] ?? ''}; load ${load(1)}`,
  );
}

/** The store functions the comparison uses. */
type StoreModule = Pick<
  typeof thisStore,
  'createMemoryStore' | 'openFileStore' | 'handOverBatch' | 'BACK_REFERENCE_SLOT'
>;

/** The bulk engine functions the comparison uses. */
interface EngineModule {
  prepareBulkCreate: (state: StoreState, ops: readonly CreateOp[]) => unknown;
  StoreState: new () => StoreState;
}

/** `--against DIR`: this store and DIR's, alternated in this process (see the header). */
async function compare(against: string): Promise<void> {
  const url = pathToFileURL(resolve(against, 'dist/src/store/index.js')).href;
  const other = (await import(url)) as StoreModule;
  const stores: Record<'this' | 'other', StoreModule> = { this: thisStore, other };
  const which = ['this', 'other'] as const;
  const samples = new Map<string, number[]>();
  const add = (key: string, v: number): void => {
    (samples.get(key) ?? samples.set(key, []).get(key)!).push(v);
  };
  // the engine alone: each build's prepareBulkCreate on an empty state of its own
  const engines: Record<'this' | 'other', EngineModule> = {
    this: { prepareBulkCreate, StoreState },
    other: {
      ...((await import(pathToFileURL(resolve(against, 'dist/src/store/bulk.js')).href)) as Pick<
        EngineModule,
        'prepareBulkCreate'
      >),
      ...((await import(pathToFileURL(resolve(against, 'dist/src/store/state.js')).href)) as Pick<
        EngineModule,
        'StoreState'
      >),
    },
  };
  const compared = phases.filter((p) => p !== 'encode');
  for (let r = 0; r < rounds; r++) {
    for (const phase of compared) {
      for (const w of r % 2 === 0 ? which : [...which].reverse()) {
        const ops = freshOps(slots, stores[w]);
        stores[w].handOverBatch(ops); // the other build's own hand-over
        const dir = mkdtempSync(join(tmpdir(), 'bench-store-bulk-'));
        const store =
          phase === 'engine'
            ? undefined
            : phase === 'memory'
              ? stores[w].createMemoryStore()
              : await stores[w].openFileStore(join(dir, 's'));
        try {
          (globalThis as { gc?: () => void }).gc?.();
          const c = process.cpuUsage();
          const t = performance.now();
          if (store === undefined) engines[w].prepareBulkCreate(new engines[w].StoreState(), ops);
          else await store.bulkCreate!(ops);
          add(`${phase} ${w}`, performance.now() - t);
          const used = process.cpuUsage(c);
          add(`${phase} ${w} cpu`, (used.user + used.system) / 1000);
        } finally {
          await store?.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    console.log(`round ${r} done (load ${load(1)})`);
  }
  const m = (key: string): number => median(samples.get(key)!);
  const parts = compared.map(
    (p) =>
      `${p}: this ${m(`${p} this`).toFixed(0)} ms (cpu ${m(`${p} this cpu`).toFixed(0)}), ` +
      `${against} ${m(`${p} other`).toFixed(0)} ms (cpu ${m(`${p} other cpu`).toFixed(0)}), ` +
      `ratio ${(m(`${p} this`) / m(`${p} other`)).toFixed(2)} (cpu ${(m(`${p} this cpu`) / m(`${p} other cpu`)).toFixed(2)})`,
  );
  console.log(
    `size ${sizeArg}, medians of ${rounds}: ${parts.join('; ')}; ${slots ? `with slots${other.BACK_REFERENCE_SLOT === undefined ? ' (this only)' : ''}; ` : ''}` +
      `NODE_OPTIONS=${process.env['NODE_OPTIONS'] ?? ''}; load ${load(1)}`,
  );
}

const against = arg('against', '');
await (against ? compare(against) : main());
