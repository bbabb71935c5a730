/**
 * Steady memory (issue 20): the daemon's controller keeps nothing per cycle. A child process
 * (`node --expose-gc`, test/helpers/retention-child.ts) runs the daemon's `Controller` on a
 * generated 1,000-instance document and a file store opened as `eucanetd run` opens it, warms
 * up, then makes 150 one-instance changes (added, removed, alternating: the topology ends where
 * it started) and reports the heap's used bytes after full GCs before and after them. No clock
 * is involved: what a cycle leaves reachable shows as growth proportional to the cycles (the
 * store's default watch history, 32 KB a cycle at this size, shows as ~4.8 MB: checked too);
 * what does not (optimized code and its deopt data, a hash table resized once: heap snapshots
 * before and after show no other growth) stays under 0.8 MB.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from './helpers/gni-doc.js';

const CYCLES = 150;

/** The heap's used bytes after full GCs before and after `CYCLES` changes. */
function heapOverCycles(mode: 'daemon' | 'default-history'): { before: number; after: number } {
  const dir = mkdtempSync(join(tmpdir(), 'eucanetd-retention-'));
  try {
    const r = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        repoPath('test/helpers/retention-child.ts'),
        dir,
        '1000',
        '30',
        String(CYCLES),
        mode,
      ],
      { encoding: 'utf8', timeout: 300_000, cwd: repoPath('.') },
    );
    expect(r.status, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as { before: number; after: number };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('daemon retention (steady memory over cycles)', function () {
  this.timeout(600_000);

  it('the controller on the daemon store keeps nothing per one-instance cycle', () => {
    const { before, after } = heapOverCycles('daemon');
    // under 14 KB a cycle in all: no cycle's records or changed objects accumulate
    expect(after - before, `heap ${before} -> ${after} bytes`).to.be.below(2 * 2 ** 20);
  });

  it('the probe sees per-cycle retention: the store default history keeps every commit', () => {
    const { before, after } = heapOverCycles('default-history');
    expect(after - before, `heap ${before} -> ${after} bytes`).to.be.above(3 * 2 ** 20);
  });
});
