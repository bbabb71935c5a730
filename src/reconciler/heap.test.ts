import { expect } from 'chai';
import { compactHeap, HeapKeeper, type Compaction } from './heap.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('heap', () => {
  it('compactHeap collects what nothing references, without a gc global', async () => {
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    let big: number[][] | undefined = Array.from({ length: 1000 }, (_, i) => [i, i + 1]);
    const ref = new WeakRef(big);
    big = undefined;
    await tick(); // a WeakRef's target lives at least until the end of the job that made it
    const c = compactHeap();
    expect(ref.deref()).to.equal(undefined);
    expect(c.heapAfterMiB).to.be.greaterThan(0);
    expect(c.ms).to.be.at.least(0);
    // the flag was only on while the context that gave the handle was made
    if (!hadGc) expect((globalThis as { gc?: unknown }).gc).to.equal(undefined);
    // a second call reuses the handle and keeps what is referenced
    const kept = { still: 'here' };
    const keptRef = new WeakRef(kept);
    await tick();
    compactHeap();
    expect(keptRef.deref()).to.equal(kept);
  });

  const counts = (n: number) => ({ create: n, update: 0, delete: 0 });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  /** A keeper whose compactions are recorded (the heap's used bytes given by `used`). */
  function keeper(used: { bytes: number }, idleMs = 1_000_000) {
    const runs: string[] = [];
    const k = new HeapKeeper({
      compact: (): Compaction => ({
        heapBeforeMiB: 2,
        heapAfterMiB: 1,
        usedAfter: (used.bytes = 100),
        ms: 0,
      }),
      largeCycle: 100,
      idleMs,
      idleBytes: 50,
      heapUsed: () => used.bytes,
      onCompact: (_c, reason) => runs.push(reason),
    });
    return { k, runs };
  }

  it('HeapKeeper compacts after the first applied cycle and after large ones only', () => {
    const { k, runs } = keeper({ bytes: 0 });
    try {
      // nothing applied yet: a rejected, failed or unchanged cycle does nothing at once
      expect(k.afterCycle({ result: 'rejected' })).to.equal(undefined);
      expect(k.afterCycle({ result: 'failed' })).to.equal(undefined);
      expect(k.afterCycle({ result: 'unchanged' })).to.equal(undefined);
      expect(runs).to.deep.equal([]);
      // the first applied cycle compacts whatever its size (the cold build; or nothing to do)
      expect(k.afterCycle({ result: 'applied', counts: counts(0) })).to.deep.equal({
        heapBeforeMiB: 2,
        heapAfterMiB: 1,
        usedAfter: 100,
        ms: 0,
      });
      expect(runs).to.deep.equal(['large cycle']);
      // small ones after it do not
      expect(k.afterCycle({ result: 'applied', counts: counts(99) })).to.equal(undefined);
      expect(k.afterCycle({ result: 'unchanged' })).to.equal(undefined);
      expect(runs).to.have.length(1);
      // a large one does: creates, updates and deletes count together
      k.afterCycle({ result: 'applied', counts: { create: 40, update: 30, delete: 30 } });
      expect(runs).to.deep.equal(['large cycle', 'large cycle']);
      // a large failed cycle does not (its report has no counts)
      k.afterCycle({ result: 'failed' });
      expect(runs).to.have.length(2);
    } finally {
      k.stop();
    }
  });

  it('HeapKeeper compacts once idle after cycles, if the heap grew enough since the last', async () => {
    const used = { bytes: 0 };
    const idleMs = 600;
    const { k, runs } = keeper(used, idleMs);
    const until = async (n: number): Promise<void> => {
      const t = Date.now();
      while (runs.length < n && Date.now() - t < 10_000) await sleep(10);
    };
    try {
      k.afterCycle({ result: 'applied', counts: counts(0) }); // compacts: used 100
      // idle after a small cycle that left little garbage: nothing
      used.bytes = 120;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      await sleep(idleMs + 200);
      expect(runs).to.deep.equal(['large cycle']);
      // each cycle starts the wait again (a rejected one too; an unchanged one does not count)
      used.bytes = 200;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      await sleep(idleMs / 2);
      k.afterCycle({ result: 'rejected' });
      k.afterCycle({ result: 'unchanged' });
      // past the first cycle's wait, before the rejected one's
      await sleep((idleMs * 3) / 4);
      expect(runs, 'not yet: the rejected cycle restarted the wait').to.deep.equal(['large cycle']);
      // then idle with 100 bytes more than after the last compaction: compacted once
      await until(2);
      expect(runs).to.deep.equal(['large cycle', 'idle']);
      expect(used.bytes).to.equal(100);
      await sleep(idleMs + 200);
      expect(runs).to.have.length(2);
      // stop() cancels a pending one
      used.bytes = 500;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      k.stop();
      await sleep(idleMs + 200);
      expect(runs).to.have.length(2);
    } finally {
      k.stop();
    }
  });
});
