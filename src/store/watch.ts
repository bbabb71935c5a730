/**
 * The watch hub: a bounded in-memory history of committed events plus live subscribers.
 * `watch(from)` replays the history after `from`, then live events, in revision order; a
 * subscriber registers before it reads the history, so no commit falls in between.
 */
import { RevisionCompactedError } from './errors.js';
import type { ChangeEvent } from './types.js';

interface Subscriber {
  push(ev: ChangeEvent): void;
  end(): void;
}

/** Default number of commits kept for `watch` resumption. */
export const DEFAULT_HISTORY = 10_000;

/** History and subscribers of one store. */
export class WatchHub {
  private history: ChangeEvent[] = [];
  private head = 0;
  /** Every event with a revision greater than `floor` is in the history. */
  private floor: number;
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(
    floor: number,
    private readonly maxHistory = DEFAULT_HISTORY,
  ) {
    this.floor = floor;
  }

  /** Records a committed event and hands it to every subscriber. */
  publish(ev: ChangeEvent): void {
    this.history.push(ev);
    if (this.history.length - this.head > this.maxHistory) {
      this.floor = this.history[this.head]!.revision;
      this.history[this.head++] = undefined as unknown as ChangeEvent;
      if (this.head > 1024 && this.head * 2 > this.history.length) {
        this.history = this.history.slice(this.head);
        this.head = 0;
      }
    }
    for (const s of this.subscribers) s.push(ev);
  }

  /** Forgets the history (after a follower reloaded a snapshot); resumption starts at `floor`. */
  reset(floor: number): void {
    this.history = [];
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
