/** Opening a store from a spec string, and `verifyStore` for any store or directory. */
import { stat } from 'node:fs/promises';
import { EmbeddedStore } from './base.js';
import { StoreError } from './errors.js';
import { openEtcdStore } from './etcd.js';
import { openFileStore, type FileStoreOptions } from './file.js';
import { createMemoryStore } from './memory.js';
import { StoreState } from './state.js';
import { KINDS, type TopologyStore } from './types.js';
import { verifyState, type StoreProblem } from './verify.js';

/**
 * Opens the store a spec names: `memory:` → a new memory store; `etcd://…` → the etcd store
 * (writers wait for its controller lock; see etcd.ts); anything else, optionally prefixed
 * `file:`, → the file store in that directory with `options`.
 */
export async function openStore(
  spec: string,
  options: FileStoreOptions = {},
): Promise<TopologyStore> {
  if (spec === 'memory:' || spec === 'memory') return createMemoryStore(options);
  if (spec.startsWith('etcd://') || spec.startsWith('etcd:')) {
    return openEtcdStore(spec, {
      ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
      ...(options.historySize !== undefined ? { historySize: options.historySize } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }
  const dir = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  if (dir === '') throw new StoreError(`store spec ${JSON.stringify(spec)} names no directory`);
  return openFileStore(dir, options);
}

/**
 * Checks every binding of a store (an open store, or a file store directory opened read-only)
 * and returns the problems found, each naming `kind/id` and the field. Opening a directory
 * whose files are damaged throws `StoreCorruptError`.
 */
export async function verifyStore(storeOrDir: TopologyStore | string): Promise<StoreProblem[]> {
  if (typeof storeOrDir !== 'string') return verifyState(await stateOf(storeOrDir));
  const dir = storeOrDir;
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new StoreError(`no store at ${dir}`);
  const store = await openFileStore(dir, { readOnly: true, verify: false });
  try {
    return verifyState(await stateOf(store));
  } finally {
    await store.close();
  }
}

async function stateOf(store: TopologyStore): Promise<StoreState> {
  if (store instanceof EmbeddedStore) return store.state;
  const state = new StoreState();
  state.revision = await store.revision();
  for (const kind of KINDS) for (const obj of await store.list(kind)) state.put(kind, obj);
  return state;
}
