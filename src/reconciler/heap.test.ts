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

  /** A keeper whose compactions are recorded (the heap's used bytes given by `used`, its
   * committed ones by `used.committed`). */
  function keeper(used: { bytes: number; committed?: number }, idleMs = 1_000_000) {
    const runs: string[] = [];
    const k = new HeapKeeper({
      compact: (): Compaction => ({
        heapBeforeMiB: 2,
        heapAfterMiB: 1,
        usedAfter: (used.bytes = 100),
        committedAfter: (used.committed = 150),
        ms: 0,
      }),
      largeCycle: 100,
      idleMs,
      idleBytes: 50,
      growthBytes: 300,
      heap: () => ({ used: used.bytes, committed: used.committed ?? 0 }),
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
        committedAfter: 150,
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
      used.bytes = 350;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      k.stop();
      await sleep(idleMs + 200);
      expect(runs).to.have.length(2);
    } finally {
      k.stop();
    }
  });

  it('HeapKeeper compacts after a small cycle that left the heap growthBytes larger', () => {
    const used = { bytes: 0 };
    const { k, runs } = keeper(used);
    try {
      // before the first compaction growth does not count
      used.bytes = 10_000;
      k.afterCycle({ result: 'failed' });
      expect(runs).to.deep.equal([]);
      k.afterCycle({ result: 'applied', counts: counts(1) }); // the first: used 100
      used.bytes = 399; // 299 more: not yet
      expect(k.afterCycle({ result: 'applied', counts: counts(1) })).to.equal(undefined);
      used.bytes = 400; // 300 more, but a failed or rejected cycle does not compact at once
      k.afterCycle({ result: 'failed' });
      k.afterCycle({ result: 'rejected' });
      expect(runs).to.deep.equal(['large cycle']);
      // an applied one does, and the growth is counted from that compaction on
      expect(k.afterCycle({ result: 'applied', counts: counts(1) })?.usedAfter).to.equal(100);
      expect(runs).to.deep.equal(['large cycle', 'growth']);
      used.bytes = 399;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      expect(runs).to.have.length(2);
    } finally {
      k.stop();
    }
  });

  it('HeapKeeper compacts once idle when the committed heap grew, the used one not', async () => {
    const used: { bytes: number; committed?: number } = { bytes: 0 };
    const idleMs = 300;
    const { k, runs } = keeper(used, idleMs);
    try {
      k.afterCycle({ result: 'applied', counts: counts(0) }); // used 100, committed 150
      // V8's own full GC freed the garbage but kept its pages: 49 more committed, nothing
      used.bytes = 110;
      used.committed = 199;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      await sleep(idleMs + 200);
      expect(runs).to.deep.equal(['large cycle']);
      used.committed = 200; // 50 more committed than after the last compaction
      k.afterCycle({ result: 'applied', counts: counts(1) });
      const t = Date.now();
      while (runs.length < 2 && Date.now() - t < 10_000) await sleep(10);
      expect(runs).to.deep.equal(['large cycle', 'idle']);
    } finally {
      k.stop();
    }
  });

  it('HeapKeeper compacts once idle after a growth compaction that left committed pages', async () => {
    const heap = { used: 0, committed: 0 };
    const idleMs = 300;
    let committedAfter = 150;
    const runs: string[] = [];
    const k = new HeapKeeper({
      compact: (reason): Compaction => {
        runs.push(reason);
        heap.used = 100;
        heap.committed = committedAfter;
        return { heapBeforeMiB: 2, heapAfterMiB: 1, usedAfter: 100, committedAfter, ms: 0 };
      },
      largeCycle: 100,
      idleMs,
      idleBytes: 50,
      growthBytes: 300,
      heap: () => heap,
    });
    try {
      k.afterCycle({ result: 'applied', counts: counts(0) }); // two passes: committed 150
      // a growth compaction's one pass frees the garbage but keeps 60 more committed
      heap.used = 400;
      committedAfter = 210;
      k.afterCycle({ result: 'applied', counts: counts(1) });
      expect(runs).to.deep.equal(['large cycle', 'growth']);
      // idle: 60 more committed than after the last two-pass compaction
      const t = Date.now();
      while (runs.length < 3 && Date.now() - t < 10_000) await sleep(10);
      expect(runs).to.deep.equal(['large cycle', 'growth', 'idle']);
    } finally {
      k.stop();
    }
  });
});
