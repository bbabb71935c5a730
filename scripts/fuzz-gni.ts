/**
 * Mutation fuzzer for the GNI reader, the mapping and the reconciler (issue 14):
 *   npx tsx scripts/fuzz-gni.ts --count 20000 --seed 1 [--failures DIR] [--hang-ms 10000]
 * Mutates the shared samples and fixtures (fixtures/gni) and generated documents: byte flips,
 * truncation, dropped and duplicated elements, duplicate ids, dangling references, bad
 * addresses and MACs, unicode, DOCTYPE and entities, missing and mistyped fields, JSON variants.
 * Per mutant it checks: no exception or hang; the incremental read equals the full read; no
 * object of a held entity changed or deleted (planned, or by the apply); every document that
 * validates applies without a store error; the source applied again converges. Prints the
 * figures (and writes each failing mutant to DIR); exits 1 if any check failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultSources, runFuzz } from './lib/fuzz-check.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    failures: { type: 'string' },
    'hang-ms': { type: 'string', default: '10000' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const started = Date.now();
const figures = await runFuzz({
  count,
  seed,
  sources: defaultSources(new URL('../', import.meta.url)),
  hangMs: Number(values['hang-ms']),
  onProgress: (done, f) => {
    if (done % 1000 === 0)
      process.stderr.write(
        `${done}/${count} mutants, ${f.failures.length} failures, ${Math.round((Date.now() - started) / 1000)} s\n`,
      );
  },
});
const { failures, operators, ...counts } = figures;
console.log(
  JSON.stringify(
    {
      seed,
      ...counts,
      meanMs: Math.round((counts.totalMs / Math.max(1, counts.mutants)) * 10) / 10,
      maxMs: Math.round(counts.maxMs),
      totalMs: Math.round(counts.totalMs),
      operators,
      failures: failures.length,
    },
    null,
    2,
  ),
);
for (const f of failures.slice(0, 20)) {
  console.log(`#${f.index} ${f.source} ${f.operator} ${f.check}: ${f.detail.slice(0, 400)}`);
}
if (values.failures !== undefined && failures.length > 0) {
  mkdirSync(values.failures, { recursive: true });
  for (const f of failures) {
    const ext = f.text.startsWith('{') ? 'json' : 'xml';
    writeFileSync(join(values.failures, `${f.index}-${f.check}.${ext}`), f.text);
  }
}
process.exitCode = failures.length > 0 ? 1 : 0;
