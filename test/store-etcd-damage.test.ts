/**
 * The etcd backend refuses a root whose `rev` key disagrees with its objects (a revision put,
 * rolled back or deleted by hand, an object put outside a commit), naming the key, against a
 * real etcd on loopback.
 */
import { expect } from 'chai';
import { Etcd3 } from 'etcd3';
import { openEtcdStore, StoreCorruptError, type TopologyStore } from '../src/store/index.js';
import { EtcdCluster, etcdAvailable } from './helpers/etcd.js';
import { router, routerPort } from './helpers/store-conformance.js';

describe('etcd backend: a rev key that disagrees with the objects is refused', function () {
  this.timeout(60_000);
  let cluster: EtcdCluster | undefined;
  let client: Etcd3 | undefined;
  let n = 0;

  before(async function () {
    if (!etcdAvailable()) {
      this.skip(); // etcd is not installed (Debian: apt-get install etcd-server)
    }
    cluster = await EtcdCluster.start();
    client = new Etcd3({ hosts: cluster.endpoints.split(',').map((h) => `http://${h}`) });
  });
  after(async () => {
    client?.close();
    await cluster?.stop();
  });

  /** A root with three commits; returns its spec and key root. */
  async function populated(): Promise<{ spec: string; root: string }> {
    const prefix = `d-${process.pid}-${++n}`;
    const spec = cluster!.spec(prefix);
    const s = await openEtcdStore(spec, { lock: false });
    await s.transaction([router('r1')]);
    await s.transaction([routerPort('p1', 'r1')]);
    await s.transaction([routerPort('p2', 'r1')]);
    await s.close();
    return { spec, root: `/${prefix}` };
  }

  async function refusal(spec: string): Promise<string> {
    let s: TopologyStore | undefined;
    try {
      s = await openEtcdStore(spec, { readOnly: true });
    } catch (e) {
      expect(e, String(e)).to.be.instanceOf(StoreCorruptError);
      return (e as Error).message;
    }
    await s.close();
    return expect.fail('opened');
  }

  it('opens a sound root and an empty one', async () => {
    const { spec } = await populated();
    const s = await openEtcdStore(spec, { readOnly: true });
    expect(await s.revision()).to.equal(3);
    await s.close();
    const empty = await openEtcdStore(cluster!.spec(`empty-${process.pid}`), { readOnly: true });
    expect(await empty.revision()).to.equal(0);
    await empty.close();
  });

  it('refuses a rev rolled back by hand, naming the key and both counts', async () => {
    const { spec, root } = await populated();
    await client!.put(`${root}/rev`).value('2');
    const msg = await refusal(spec);
    expect(msg).to.include(`${root}/rev says revision 2 but was put 4 time(s)`);
  });

  it('refuses a deleted rev key beside objects, and a rev that is not a number', async () => {
    const a = await populated();
    await client!.delete().key(`${a.root}/rev`);
    expect(await refusal(a.spec)).to.include(`but no ${a.root}/rev key`);
    const b = await populated();
    await client!.put(`${b.root}/rev`).value('x3');
    expect(await refusal(b.spec)).to.include(`${b.root}/rev holds "x3"`);
  });

  it('refuses an object written after the last commit, naming it; a writer too', async () => {
    const { spec, root } = await populated();
    const raw = await client!.get(`${root}/o/router/r1`).string();
    const obj = JSON.parse(raw!) as Record<string, unknown>;
    await client!.put(`${root}/o/router/r1`).value(JSON.stringify({ ...obj, name: 'hand' }));
    expect(await refusal(spec)).to.match(
      /router\/r1 was written \(etcd revision \d+\) after the last commit/,
    );
    let writer: TopologyStore | undefined;
    const e = await openEtcdStore(spec, { lock: false }).then(
      (s) => ((writer = s), undefined),
      (err: unknown) => err,
    );
    await writer?.close();
    expect(e).to.be.instanceOf(StoreCorruptError);
  });
});
