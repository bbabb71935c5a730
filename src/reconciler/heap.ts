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
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Heap growth past the live size before a full GC, in percent (see `limitHeapGrowth`). */
export const DAEMON_HEAP_GROWING_PERCENT = 25;

/** A cycle that created, updated or deleted at least this many objects is a large one: the
 * daemon compacts its heap after it (see `HeapKeeper`). */
export const COMPACT_AFTER_OBJECTS = 10_000;

/** The daemon compacts its heap once it has had no cycle for this long (see `HeapKeeper`)... */
export const IDLE_COMPACT_MS = 10_000;

/** ...when its heap holds (or has committed) at least this many bytes more than after the last
 * compaction. */
export const IDLE_COMPACT_BYTES = 4 * 2 ** 20;

/**
 * Commits the daemon's embedded store keeps for `watch` (its default is 10,000, bounded by
 * weight to a few MiB): the daemon's store is watched only by the daemon, which follows the
 * commits made by others since its last cycle (none on a file store, whose writer holds its
 * lock; an etcd store serves older ones from etcd) and re-reads the store when it cannot. With
 * the default, the last ~20 one-instance commits at 10,000 instances stayed reachable, each
 * with a router and a port whose route lists hold 11,000 ids: ~5 MiB more live heap after 20
 * cycles, and the lists lived long enough to be promoted to the old generation: with one
 * commit kept they mostly die young (in process at 10k, 40 KiB promoted per one-instance cycle;
 * 91 KiB with four commits kept).
 */
export const DAEMON_STORE_HISTORY = 1;

/** The daemon compacts its heap right after a cycle once it holds this many bytes more than
 * after the last compaction, cycles or not (see `HeapKeeper`). */
export const GROWTH_COMPACT_BYTES = 8 * 2 ** 20;

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

/** What `compactHeap` did: the V8 heap's committed size before and after, what it holds and
 * has committed after (the live size and its pages, in bytes), and the time. */
export interface Compaction {
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  readonly usedAfter: number;
  readonly committedAfter: number;
  readonly ms: number;
}

const MiB = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;

/** The process's memory now, in MiB (one decimal), as fields of the daemon's cycle line:
 * resident, the V8 heap's committed and used sizes, memory outside it (buffers), and what V8
 * itself has allocated with malloc (compiler zones and the like). */
export function memoryFields(): {
  rss_mib: number;
  heap_total_mib: number;
  heap_used_mib: number;
  external_mib: number;
  v8_malloced_mib: number;
} {
  const m = process.memoryUsage();
  return {
    rss_mib: MiB(m.rss),
    heap_total_mib: MiB(m.heapTotal),
    heap_used_mib: MiB(m.heapUsed),
    external_mib: MiB(m.external),
    v8_malloced_mib: MiB(getHeapStatistics().malloced_memory),
  };
}

/**
 * Full, blocking garbage collections now, `passes` of them (default two: the first frees the
 * garbage, the second moves objects off pages it left sparse), with the heap growth limited
 * first so the next limit is set from the live size. V8 returns the emptied pages to the system
 * (its unmapper thread, within a moment). A pass takes a few hundred ms at 10,000 instances:
 * call it between cycles, never on a hot path.
 */
export function compactHeap(percent = DAEMON_HEAP_GROWING_PERCENT, passes = 2): Compaction {
  limitHeapGrowth(percent);
  const gc = fullGc();
  const before = process.memoryUsage().heapTotal;
  const t = performance.now();
  for (let i = 0; i < passes; i++) gc();
  const after = heapNow();
  return {
    heapBeforeMiB: MiB(before),
    heapAfterMiB: MiB(after.committed),
    usedAfter: after.used,
    committedAfter: after.committed,
    ms: Math.round(performance.now() - t),
  };
}

/**
 * The V8 heap now: what its old generation holds (every space but the young generation's,
 * whose use swings by its size between scavenges) and what the whole heap has committed.
 */
export function heapNow(): { used: number; committed: number } {
  let used = 0;
  let committed = 0;
  for (const s of getHeapSpaceStatistics()) {
    committed += s.space_size;
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space')
      used += s.space_used_size;
  }
  return { used, committed };
}

/** The part of a cycle's report the heap keeper looks at. */
export interface CycleOutcome {
  readonly result: string;
  readonly counts?: { readonly create: number; readonly update: number; readonly delete: number };
}

/** Why the heap keeper compacted: after a large cycle, after a cycle that left the heap
 * `growthBytes` larger than the last compaction, or once the daemon was idle. */
export type CompactionReason = 'large cycle' | 'growth' | 'idle';

/** Options of `HeapKeeper` (defaults: the daemon's). */
export interface HeapKeeperOptions {
  /** Runs a compaction (default `compactHeap`, one pass for 'growth', two otherwise). */
  readonly compact?: (reason: CompactionReason) => Compaction;
  /** Objects a cycle changes to count as large (`COMPACT_AFTER_OBJECTS`). */
  readonly largeCycle?: number;
  /** Time without a cycle before an idle compaction (`IDLE_COMPACT_MS`). */
  readonly idleMs?: number;
  /** Heap growth since the last compaction an idle compaction needs (`IDLE_COMPACT_BYTES`). */
  readonly idleBytes?: number;
  /** Heap growth since the last compaction that makes a cycle compact (`GROWTH_COMPACT_BYTES`). */
  readonly growthBytes?: number;
  /** The heap's used and committed bytes now (default `heapNow`). */
  readonly heap?: () => { readonly used: number; readonly committed: number };
  /** Told of every compaction (the daemon logs it). */
  readonly onCompact?: (c: Compaction, reason: CompactionReason) => void;
}

/**
 * The daemon's heap policy between cycles. The heap is compacted (`compactHeap`, which also
 * limits its growth from then on):
 * - after the first applied cycle (the cold build, or the first cycle after a flush and
 *   rebuild) and after any applied cycle that changed at least `largeCycle` objects;
 * - after any other applied cycle that left the old generation `growthBytes` larger than the
 *   last compaction did, one pass: V8 collects old-generation garbage only once the heap grew by
 *   a quarter of its live size (60 MiB at 10,000 instances) and keeps the pages it freed, so
 *   the daemon's RSS climbed by ~30 MiB over 100 back-to-back one-instance cycles that each
 *   promoted 0.4 MiB (copied route lists kept by the store's watch history, a rebuilt
 *   configuration). Those sources are gone (40-50 KiB a cycle now); this bounds what is left,
 *   for a pass of a few hundred ms every 150-200 such cycles, after the cycle's commit;
 * - once no cycle ran for `idleMs` after one that did something, if the heap holds or has
 *   committed `idleBytes` more than after the last two-pass compaction (V8's own full GCs, and
 *   a growth compaction's one pass, free objects but keep most of their pages); a compaction
 *   while idle also lets V8 shrink its young generation.
 * Other cycles do nothing at once. `stop()` cancels a pending idle compaction.
 */
export class HeapKeeper {
  private compacted = false;
  /** The heap after the last compaction, and after the last two-pass one (not 'growth'). */
  private after = { used: 0, committed: 0 };
  private afterFull = { used: 0, committed: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly compact: (reason: CompactionReason) => Compaction;
  private readonly largeCycle: number;
  private readonly idleMs: number;
  private readonly idleBytes: number;
  private readonly growthBytes: number;
  private readonly heap: () => { readonly used: number; readonly committed: number };

  constructor(private readonly options: HeapKeeperOptions = {}) {
    this.compact =
      options.compact ??
      ((reason) => compactHeap(DAEMON_HEAP_GROWING_PERCENT, reason === 'growth' ? 1 : 2));
    this.largeCycle = options.largeCycle ?? COMPACT_AFTER_OBJECTS;
    this.idleMs = options.idleMs ?? IDLE_COMPACT_MS;
    this.idleBytes = options.idleBytes ?? IDLE_COMPACT_BYTES;
    this.growthBytes = options.growthBytes ?? GROWTH_COMPACT_BYTES;
    this.heap = options.heap ?? heapNow;
  }

  /** Called after every cycle; returns the compaction it ran at once, if any. */
  afterCycle(report: CycleOutcome): Compaction | undefined {
    if (report.result === 'unchanged' || report.result === 'missing') return undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const c = report.counts;
    const changed = c === undefined ? 0 : c.create + c.update + c.delete;
    if (report.result === 'applied' && (!this.compacted || changed >= this.largeCycle))
      return this.run('large cycle');
    if (!this.compacted) return undefined;
    const growth =
      report.result === 'applied' && this.heap().used - this.after.used >= this.growthBytes
        ? this.run('growth')
        : undefined;
    // idle after this cycle: a growth compaction's one pass may have kept pages committed
    this.timer = setTimeout(() => this.idle(), this.idleMs);
    this.timer.unref();
    return growth;
  }

  /** Cancels a pending idle compaction. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private idle(): void {
    this.timer = undefined;
    const now = this.heap();
    if (
      now.used - this.afterFull.used >= this.idleBytes ||
      now.committed - this.afterFull.committed >= this.idleBytes
    )
      this.run('idle');
  }

  private run(reason: CompactionReason): Compaction {
    const c = this.compact(reason);
    this.compacted = true;
    this.after = { used: c.usedAfter, committed: c.committedAfter };
    if (reason !== 'growth') this.afterFull = this.after;
    this.options.onCompact?.(c, reason);
    return c;
  }
}
