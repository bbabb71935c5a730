/**
 * The daemon's heap: how far it grows between full GCs, and giving back what a large cycle
 * left behind.
 *
 * Growth: V8 collects the old generation when it reaches a limit set after each full GC at the
 * live size times a growing factor that, for a fast-marking heap, goes up to 4. A daemon with
 * 300 MB live at 10,000 instances that leaves ~25 MB of garbage per cycle then grows to over
 * 1.2 GB before its next full GC (measured: RSS 486 → 1,234 MiB over 30 cycles, no full GC).
 * Until the reader stopped allocating a fresh 16 MiB buffer per cycle, external-memory pressure
 * happened to force a GC every few cycles; `limitHeapGrowth` makes the bound explicit.
 *
 * Large cycles: a cold build (or a flush and rebuild, or a large change) leaves a few hundred
 * MiB of garbage (the parse, a full mapping, the plan, the store's validation copies, the JSON
 * of the snapshot it writes) in a heap whose limit was set with V8's own factor, so nothing
 * collects it until the heap grows further: at 10,000 instances the daemon's RSS stayed at
 * ~600 MiB for a heap of ~270 MiB live. `compactHeap` runs full GCs right after such a cycle,
 * so V8 frees the emptied pages and sets its next limit from the live size.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap growth past the live size before a full GC, in percent (see `limitHeapGrowth`). */
export const DAEMON_HEAP_GROWING_PERCENT = 25;

/** A cycle that created, updated or deleted at least this many objects is a large one: the
 * daemon compacts its heap after it (see `HeapKeeper`). */
export const COMPACT_AFTER_OBJECTS = 10_000;

/**
 * Sets V8's heap growing factor to `1 + percent / 100` for the rest of the process (default
 * 25 %): full GCs come more often (incremental and concurrent, between and during cycles) and
 * resident memory stays near the live size. Process-wide: call it from the daemon's
 * composition root, after the cold build (which is faster with V8's own factor).
 */
export function limitHeapGrowth(percent = DAEMON_HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${Math.max(1, Math.round(percent))}`);
}

let gcFunction: (() => void) | undefined;

/**
 * V8's `gc()` (a full, blocking collection), without `--expose-gc` on the command line: the
 * flag is set only while one new context is created, whose global `gc` is taken, and cleared
 * again, so no other context (this one included) gets a `gc` global. With `node --expose-gc`
 * the global one is used.
 */
function fullGc(): () => void {
  if (gcFunction !== undefined) return gcFunction;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (gcFunction = exposed as () => void);
  setFlagsFromString('--expose-gc');
  try {
    gcFunction = runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return gcFunction;
}

/** What `compactHeap` did: the V8 heap's committed size before and after, and the time. */
export interface Compaction {
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  readonly ms: number;
}

const MiB = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;

/**
 * Two full, blocking garbage collections now (the first frees the garbage, the second moves
 * objects off pages it left sparse), with the heap growth limited first so the next limit is
 * set from the live size. V8 returns the emptied pages to the system (its unmapper thread,
 * within a moment). Takes about a second at 10,000 instances: call it between cycles, after a
 * large one, never on a hot path.
 */
export function compactHeap(percent = DAEMON_HEAP_GROWING_PERCENT): Compaction {
  limitHeapGrowth(percent);
  const gc = fullGc();
  const before = process.memoryUsage().heapTotal;
  const t = performance.now();
  gc();
  gc();
  return {
    heapBeforeMiB: MiB(before),
    heapAfterMiB: MiB(process.memoryUsage().heapTotal),
    ms: Math.round(performance.now() - t),
  };
}

/** The part of a cycle's report the heap keeper looks at. */
export interface CycleOutcome {
  readonly result: string;
  readonly counts?: { readonly create: number; readonly update: number; readonly delete: number };
}

/**
 * The daemon's heap policy between cycles: after the first applied cycle (the cold build, or
 * the first cycle after a flush and rebuild) and after any applied cycle that changed at least
 * `COMPACT_AFTER_OBJECTS` objects, the heap is compacted (`compactHeap`, which also limits its
 * growth from then on). Small cycles do nothing here.
 */
export class HeapKeeper {
  private compacted = false;

  constructor(
    private readonly compact: () => Compaction = compactHeap,
    private readonly threshold = COMPACT_AFTER_OBJECTS,
  ) {}

  /** Called after every cycle; returns the compaction it ran, if any. */
  afterCycle(report: CycleOutcome): Compaction | undefined {
    if (report.result !== 'applied') return undefined;
    const c = report.counts;
    const changed = c === undefined ? 0 : c.create + c.update + c.delete;
    if (this.compacted && changed < this.threshold) return undefined;
    this.compacted = true;
    return this.compact();
  }
}
