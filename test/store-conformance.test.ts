import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore, openFileStore } from '../src/store/index.js';
import { runStoreConformance } from './helpers/store-conformance.js';

runStoreConformance('memory', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});

runStoreConformance('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'store-conf-'));
  const store = await openFileStore(dir);
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
