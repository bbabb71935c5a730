/**
 * Per-key mutual exclusion inside one API server: read-modify-writes of the same object (a
 * member added to a list) run one after the other instead of failing each other's version
 * check. Entries are removed when their queue drains.
 */

/** Runs functions one at a time per key, in arrival order. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every earlier `run` of `key` has settled; returns its result. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.then(fn, fn);
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    try {
      return await mine;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
