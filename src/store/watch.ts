/**
 * The watch hub: a bounded in-memory history of committed events plus live subscribers.
 * `watch(from)` replays the history after `from`, then live events, in revision order; a
 * subscriber registers before it reads the history, so no commit falls in between.
 *
 * The history is bounded by commits and by weight (what its objects hold: one per field plus
 * one per back-reference or list entry). The weight bound is what keeps a long-running writer
 * flat: at 10,000 instances a one-instance commit updates a router and a port whose route
 * lists hold 11,000 ids each, so 10,000 such commits would keep 10,000 copies of both lists.
 * A watch that falls behind the history gets `RevisionCompactedError` and re-lists.
 */
import { RevisionCompactedError } from './errors.js';
import type { ChangeEvent } from './types.js';

interface Subscriber {
  push(ev: ChangeEvent): void;
  end(): void;
}

/** Default number of commits kept for `watch` resumption. */
export const DEFAULT_HISTORY = 10_000;
/** Default bound of the history's weight (see `eventWeight`): a few MiB of retained values. */
export const DEFAULT_HISTORY_WEIGHT = 500_000;

/** What an event keeps alive, in slots: per changed object its fields and the entries of its
 * list fields (back-reference lists dominate). */
export function eventWeight(ev: ChangeEvent): number {
  let w = 0;
  for (const c of ev.changes) {
    w++;
    const o = c.object as Readonly<Record<string, unknown>> | undefined;
    if (o === undefined) continue;
    for (const k in o) {
      const v = o[k];
      w += Array.isArray(v) ? 1 + v.length : 1;
    }
  }
  return w;
}

/** History and subscribers of one store. */
export class WatchHub {
  private history: ChangeEvent[] = [];
  /** Weight of each event in `history` (same index). */
  private weights: number[] = [];
  private weight = 0;
  private head = 0;
  /** Every event with a revision greater than `floor` is in the history. */
  private floor: number;
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  /** `maxHistory` commits (default 10,000) of at most `maxWeight` in all (default 500,000;
   * the latest commit is always kept). */
  constructor(
    floor: number,
    private readonly maxHistory = DEFAULT_HISTORY,
    private readonly maxWeight = DEFAULT_HISTORY_WEIGHT,
  ) {
    this.floor = floor;
  }

  /** Records a committed event and hands it to every subscriber. */
  publish(ev: ChangeEvent): void {
    const w = eventWeight(ev);
    this.history.push(ev);
    this.weights.push(w);
    this.weight += w;
    while (
      this.history.length - this.head > this.maxHistory ||
      (this.weight > this.maxWeight && this.history.length - this.head > 1)
    ) {
      this.floor = this.history[this.head]!.revision;
      this.weight -= this.weights[this.head]!;
      this.history[this.head++] = undefined as unknown as ChangeEvent;
    }
    if (this.head > 1024 && this.head * 2 > this.history.length) {
      this.history = this.history.slice(this.head);
      this.weights = this.weights.slice(this.head);
      this.head = 0;
    }
    for (const s of this.subscribers) s.push(ev);
  }

  /** Hands a committed event to every subscriber without keeping it: the history is forgotten
   * and resumption starts at its revision (a bulk commit, which would hold every object it
   * wrote). `changes` is asked for only when someone is subscribed (a bulk create makes its
   * change records then). */
  announce(revision: number, changes: () => ChangeEvent['changes']): void {
    this.reset(revision);
    if (this.subscribers.size === 0) return;
    const ev: ChangeEvent = { revision, changes: changes() };
    for (const s of this.subscribers) s.push(ev);
  }

  /** Forgets the history (after a follower reloaded a snapshot); resumption starts at `floor`. */
  reset(floor: number): void {
    this.history = [];
    this.weights = [];
    this.weight = 0;
    this.head = 0;
    this.floor = floor;
  }

  /** Ends every subscription. */
  close(): void {
    this.closed = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }

  /** Events after `fromRevision`, then live ones, until `signal` aborts or the store closes. */
  async *watch(fromRevision: number, signal?: AbortSignal): AsyncGenerator<ChangeEvent> {
    if (this.closed || signal?.aborted) return;
    if (fromRevision < this.floor) {
      throw new RevisionCompactedError(
        `watch from revision ${fromRevision}: history starts after revision ${this.floor}; re-list`,
      );
    }
    const queue: ChangeEvent[] = [];
    let qh = 0;
    let ended = false;
    let wake: (() => void) | null = null;
    const notify = (): void => {
      const w = wake;
      wake = null;
      w?.();
    };
    const sub: Subscriber = {
      push(ev) {
        queue.push(ev);
        notify();
      },
      end() {
        ended = true;
        notify();
      },
    };
    this.subscribers.add(sub);
    for (let i = this.head; i < this.history.length; i++) {
      const ev = this.history[i]!;
      if (ev.revision > fromRevision) queue.push(ev);
    }
    const onAbort = (): void => sub.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        if (signal?.aborted) return;
        if (qh < queue.length) {
          const ev = queue[qh]!;
          queue[qh++] = undefined as unknown as ChangeEvent;
          if (qh > 1024 && qh * 2 > queue.length) {
            queue.splice(0, qh);
            qh = 0;
          }
          yield ev;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.subscribers.delete(sub);
    }
  }
}
