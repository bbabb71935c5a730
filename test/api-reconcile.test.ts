/**
 * A reconcile of the medium sample through the API (`--api`) gives the same topology as through
 * the embedded store (`--store`), and a second pass through the API plans nothing.
 */
import { expect } from 'chai';
import { createApiClient } from '../src/api/index.js';
import { startTestApiServer } from '../src/api/testing.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import { expectSameTopology } from './helpers/topology.js';

describe('api: reconcile through the API', function () {
  this.timeout(60_000);

  it('builds the same topology as the embedded store, and converges', async () => {
    const view = viewOf(loadDoc(repoPath('fixtures/gni/medium.xml')));
    const direct = createMemoryStore();
    const behind = createMemoryStore();
    const server = await startTestApiServer(behind);
    const client = createApiClient({ url: server.url, token: server.token });
    try {
      const viaStore = await reconcileView(direct, view, DEFAULT_MAPPING_CONFIG);
      const viaApi = await reconcileView(client, view, DEFAULT_MAPPING_CONFIG);
      expect(viaApi.plan.counts).to.deep.equal(viaStore.plan.counts);
      expect(viaApi.plan.counts.create).to.be.greaterThan(100);
      await expectSameTopology(behind, direct);
      await expectSameTopology(client, direct);
      const again = await reconcileView(client, view, DEFAULT_MAPPING_CONFIG, { dryRun: true });
      expect(again.plan.storeOps, 'a second pass through the API plans nothing').to.deep.equal([]);
    } finally {
      await client.close();
      await server.close();
      await behind.close();
      await direct.close();
    }
  });
});
