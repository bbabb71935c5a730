/**
 * The store conformance suite against the etcd backend: one real etcd server on loopback, a
 * fresh key prefix per test (the lock is skipped: each test is its own single writer).
 */
import { openEtcdStore } from '../src/store/index.js';
import { EtcdCluster, etcdAvailable } from './helpers/etcd.js';
import { runStoreConformance } from './helpers/store-conformance.js';

describe('etcd backend: conformance', function () {
  this.timeout(30_000);
  let cluster: EtcdCluster | undefined;
  let n = 0;

  before(async function () {
    if (!etcdAvailable()) {
      this.skip(); // etcd is not installed (Debian: apt-get install etcd-server)
    }
    cluster = await EtcdCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  runStoreConformance('etcd', async () => {
    const store = await openEtcdStore(cluster!.spec(`conf-${process.pid}-${++n}`), {
      lock: false,
    });
    return { store, cleanup: () => store.close() };
  });
});
