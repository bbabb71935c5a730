/** The memory backend: the embedded engine with nothing persisted (tests, dry runs). */
import { EmbeddedStore } from './base.js';
import type { BulkCreated } from './bulk.js';
import { StoreState } from './state.js';
import type { Change, TopologyStore } from './types.js';
import { WatchHub } from './watch.js';

class MemoryStore extends EmbeddedStore {
  constructor(historySize: number | undefined) {
    super(new StoreState(), new WatchHub(0, historySize));
  }

  protected async persist(_revision: number, _changes: readonly Change[]): Promise<void> {
    // Nothing to make durable: a memory store lives and dies with the process.
  }

  protected override async persistBulkCreate(_revision: number, _bulk: BulkCreated): Promise<void> {
    // nothing to make durable (and no change records to make for it)
  }
}

/** Options for `createMemoryStore`; `historySize` (default 10,000) bounds watch resumption. */
export interface MemoryStoreOptions {
  readonly historySize?: number;
}

/** Creates an empty in-memory store (revision 0). */
export function createMemoryStore(options: MemoryStoreOptions = {}): TopologyStore {
  return new MemoryStore(options.historySize);
}
