/**
 * The GNI mutation fuzzer, CI-sized (issue 14): 1,000 mutants of the shared samples, fixtures
 * and generated documents, each checked for exceptions and hangs, incremental read equal to the
 * full read, the patched mapping's plan equal to the full one, held entities' topology
 * unchanged, every validated document applying without a store error, and convergence back to
 * the source. The 20,000-mutant soak is
 * `npx tsx scripts/fuzz-gni.ts --count 20000 --seed 1` (figures in docs/benchmarks.md).
 */
import { expect } from 'chai';
import { defaultSources, runFuzz } from '../scripts/lib/fuzz-check.js';

describe('GNI mutation fuzzer (1,000 mutants)', function () {
  this.timeout(900_000);

  it('finds no exception, hang, read mismatch, held-topology change or unappliable document', async () => {
    const figures = await runFuzz({
      count: 1000,
      seed: 14,
      sources: defaultSources(new URL('../', import.meta.url)),
      // a hang is a mutant that never finishes; under CI load a slow one is not
      hangMs: 60_000,
    });
    const failures = figures.failures.map(
      (f) => `#${f.index} ${f.source} ${f.operator} ${f.check}: ${f.detail.slice(0, 300)}`,
    );
    expect(failures).to.deep.equal([]);
    expect(figures.mutants).to.equal(1000);
    // the mutants exercise every path: rejected documents, validated ones, held entities, and
    // plans the binding check had to hold an owner in
    expect(figures.rejected).to.be.greaterThan(100);
    expect(figures.validated).to.be.greaterThan(400);
    expect(figures.withHeld).to.be.greaterThan(200);
    expect(figures.planCheckHolds).to.be.greaterThan(0);
    // most validated mutants take the daemon's path (a patched mapping, a diff of its delta)
    expect(figures.patched).to.be.greaterThan(figures.validated / 2);
  });
});
