/**
 * The store conformance suite: one `describe` block of behaviour every `TopologyStore` backend
 * must show (bindings, transactions, typed errors, reads, watch). The memory and file backends
 * run it in `store-conformance.test.ts`; the API client and etcd backends reuse it. The cases
 * live in the `store-conformance-<topic>.ts` parts; this file opens a fresh store per test and
 * declares the describe blocks. It also re-exports the op builders other store tests use.
 */
import type { Kind, TopologyStore } from '../../src/store/index.js';
import { deviceBindingCases } from './store-conformance-bindings-devices.js';
import { referenceBindingCases } from './store-conformance-bindings-references.js';
import type { Obj } from './store-conformance-ops.js';
import { readCases } from './store-conformance-reads.js';
import type { ConformanceContext } from './store-conformance-support.js';
import { transactionCases } from './store-conformance-transactions.js';
import { watchCases } from './store-conformance-watch.js';

export {
  bridge,
  bridgePort,
  chain,
  create,
  del,
  host,
  router,
  routerPort,
  rule,
  update,
} from './store-conformance-ops.js';

type Factory = () => Promise<{ store: TopologyStore; cleanup(): Promise<void> }>;

/** Declares the conformance suite for one backend. */
export function runStoreConformance(name: string, factory: Factory): void {
  describe(`store conformance: ${name}`, function () {
    let store: TopologyStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await cleanup();
    });
    const get = async (kind: Kind, id: string): Promise<Obj | undefined> =>
      (await store.get(kind, id)) as unknown as Obj | undefined;
    const ctx: ConformanceContext = {
      get store() {
        return store;
      },
      get,
    };

    describe('reads and revisions', () => {
      readCases(ctx);
    });

    describe('transactions and errors', () => {
      transactionCases(ctx);
    });

    describe('bindings', () => {
      deviceBindingCases(ctx);
      referenceBindingCases(ctx);
    });

    describe('watch', () => {
      watchCases(ctx);
    });
  });
}
