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

  it('HeapKeeper compacts after the first applied cycle and after large ones only', () => {
    const runs: number[] = [];
    const fake = (): Compaction => {
      runs.push(runs.length);
      return { heapBeforeMiB: 2, heapAfterMiB: 1, ms: 0 };
    };
    const keeper = new HeapKeeper(fake, 100);
    const counts = (n: number) => ({ create: n, update: 0, delete: 0 });
    // nothing applied yet: a rejected, failed or unchanged cycle does nothing
    expect(keeper.afterCycle({ result: 'rejected' })).to.equal(undefined);
    expect(keeper.afterCycle({ result: 'failed' })).to.equal(undefined);
    expect(keeper.afterCycle({ result: 'unchanged' })).to.equal(undefined);
    expect(runs).to.have.length(0);
    // the first applied cycle compacts whatever its size (the cold build; or nothing to do)
    expect(keeper.afterCycle({ result: 'applied', counts: counts(0) })).to.deep.equal({
      heapBeforeMiB: 2,
      heapAfterMiB: 1,
      ms: 0,
    });
    expect(runs).to.have.length(1);
    // small ones after it do not
    expect(keeper.afterCycle({ result: 'applied', counts: counts(99) })).to.equal(undefined);
    expect(keeper.afterCycle({ result: 'unchanged' })).to.equal(undefined);
    expect(runs).to.have.length(1);
    // a large one does: creates, updates and deletes count together
    keeper.afterCycle({ result: 'applied', counts: { create: 40, update: 30, delete: 30 } });
    expect(runs).to.have.length(2);
    // a large failed cycle does not (its report has no counts)
    keeper.afterCycle({ result: 'failed' });
    expect(runs).to.have.length(2);
  });
});
