/**
 * Incremental read benchmark: the daemon's case of a document that changed a little since the
 * last one. Generates a document, reads it with state, then for each round writes the next
 * version (one instance added, or a public IP changed, alternately; instances sorted, a new
 * root version, as a cloud controller writes it) and reads it twice: in full (`readGni`) and
 * against the last read (`readGniWithState`). Prints both medians, their ratio, how many bytes
 * the incremental read scanned, and checks that both reads give the same result.
 * Also prints each edit's incremental median and the load average (figures on a shared machine
 * are noisy: compare the ratio to the full read of the same run).
 *   npx tsx scripts/bench-gni-incremental.ts [--size L|25k|…] [--rounds 10] [--seed 1]
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { readGni, readGniWithState } from '../src/gni/index.js';
import { cloudDocument as doc, EDITS } from '../test/helpers/view-edits.js';
import { generateView, prng, SIZES, type Size } from './lib/gni-generator.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'L' },
      rounds: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
    },
  });
  // named sizes, or a count such as 25k (the size bench-reconcile.ts calls '25k')
  const name = values.size;
  const count = /^\d+k$/.test(name) ? Number(name.slice(0, -1)) * 1000 : undefined;
  if (count === undefined && !(name in SIZES)) throw new Error(`unknown size ${name}`);
  const shape = count === undefined ? { size: name as Size } : { instances: count };
  const rounds = Number(values.rounds);
  const seed = Number(values.seed);
  console.log(
    `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const base = doc(generateView({ ...shape, seed }), 1);
  let last = readGniWithState(base);
  if (last.state === undefined) throw new Error('the generated document has issues');
  console.log(`document: size ${name} seed ${seed}, ${(base.length / 2 ** 20).toFixed(1)} MiB`);
  const r = prng(seed);
  const full: number[] = [];
  const inc: number[] = [];
  const scanned: number[] = [];
  const byEdit = new Map<string, number[]>();
  let view = last.result.view!;
  for (let round = 0; round < rounds; round++) {
    const edit = round % 2 === 0 ? 'add an instance' : 'change a public IP';
    const bytes = doc(EDITS[edit]!(view, r), 2 + round);
    let t = performance.now();
    const whole = readGni(bytes);
    full.push(performance.now() - t);
    t = performance.now();
    const next = readGniWithState(bytes, {}, last.state);
    inc.push(performance.now() - t);
    byEdit.set(edit, [...(byEdit.get(edit) ?? []), inc.at(-1)!]);
    if (!next.incremental || next.state === undefined) throw new Error(`${edit}: read in full`);
    if (!isDeepStrictEqual(next.result, whole)) throw new Error(`${edit}: results differ`);
    scanned.push(next.scanned);
    last = next;
    view = next.result.view!;
    console.log(
      `  ${edit.padEnd(18)} full ${full.at(-1)!.toFixed(1)} ms, incremental ${inc.at(-1)!.toFixed(1)} ms, scanned ${(next.scanned / 1024).toFixed(1)} KiB`,
    );
  }
  const f = median(full);
  const i = median(inc);
  console.log(
    `${[...byEdit].map(([e, xs]) => `${e}: incremental median ${median(xs).toFixed(1)} ms`).join('; ')}; load ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `full read: median ${f.toFixed(1)} ms; incremental: median ${i.toFixed(1)} ms (${(f / i).toFixed(1)}x faster), scanned median ${(median(scanned) / 1024).toFixed(1)} KiB of ${(base.length / 1024).toFixed(0)} KiB; results equal in all ${rounds} rounds`,
  );
}

main();
