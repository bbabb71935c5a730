/**
 * Which host realizes which part of the overlay, from the multi-host fixture mapped into a
 * store (no root needed): a bridge gets its VXLAN device on every host that realizes it as
 * soon as another host realizes it too, including the router host and a host whose
 * instances are the bridge's only ports.
 */
import { expect } from 'chai';
import { hostId } from '../src/common/index.js';
import { desiredHost, readHostTopology } from '../src/datapath/index.js';
import { vxlanDev } from '../src/datapath/names.js';
import { UPLINK_EGRESS_CHAIN, UPLINK_SOURCES } from '../src/datapath/uplink-egress.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/cycle.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { loadDoc, removeInstance, repoPath, viewOf, type Doc } from './helpers/gni-doc.js';

const FIXTURE = repoPath('fixtures/datapath/multi-host.xml');
const H1 = '192.0.2.11';
const H2 = '192.0.2.12';
const GW = '192.0.2.21';
const MAC_E = 'd0:0d:00:00:01:0e';

/** The document mapped into a fresh store, every host registered with its name as address. */
async function storeOf(doc: Doc): Promise<TopologyStore> {
  const store = createMemoryStore();
  await reconcileView(store, viewOf(doc), DEFAULT_MAPPING_CONFIG);
  const hosts = await store.list('host');
  await store.transaction(
    hosts.map((h) => ({
      op: 'update' as const,
      kind: 'host' as const,
      object: { id: h.id, name: h.name, addresses: [h.name], owner: h.owner! },
    })),
  );
  return store;
}

async function desiredOf(store: TopologyStore, host: string) {
  return desiredHost(await readHostTopology(store, hostId(host)), {
    netnsPrefix: 't-',
    stateDir: '/nonexistent',
  });
}

/** Subnet bridge name → id (`vb_<vpc>_<subnet>`). */
async function subnetBridges(store: TopologyStore): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const b of await store.list('bridge')) {
    const m = /subnet-[0-9a-f]+$/.exec(b.name);
    if (m && b.vni !== undefined) out.set(m[0], b.id);
  }
  return out;
}

function withoutGateway(doc: Doc): Doc {
  const mido = doc.configuration.property.find((p: Doc) => p.name === 'mido');
  mido.property = mido.property.filter((p: Doc) => p.name !== 'gateways');
  return doc;
}

describe('datapath placement across hosts (multi-host fixture)', function () {
  const stores: TopologyStore[] = [];
  const open = async (doc: Doc): Promise<TopologyStore> => {
    const s = await storeOf(doc);
    stores.push(s);
    return s;
  };
  after(async () => {
    for (const s of stores) await s.close();
  });

  it('gives the router host a VXLAN device for a bridge whose instances are all on it', async () => {
    const store = await open(loadDoc(FIXTURE));
    const bridges = await subnetBridges(store);
    expect([...bridges.keys()].sort()).to.deep.equal([
      'subnet-000000c1',
      'subnet-000000c2',
      'subnet-000000c3',
    ]);
    const all = [...bridges.values()].map(vxlanDev).sort();
    for (const host of [H1, H2, GW]) {
      const d = await desiredOf(store, host);
      expect((d.vxlans ?? []).map((v) => v.dev).sort(), host).to.deep.equal(all);
    }
    // the compute hosts send to e through the gateway host's VTEP; nothing points elsewhere
    const c3 = vxlanDev(bridges.get('subnet-000000c3')!);
    for (const host of [H1, H2]) {
      const d = await desiredOf(store, host);
      expect(d.fdb, host).to.deep.include({ mac: MAC_E, dev: c3, dst: GW });
    }
    const gw = await desiredOf(store, GW);
    expect((gw.fdb ?? []).filter((f) => f.mac === MAC_E)).to.deep.equal([]);
    expect([...gw.slaves.keys()]).to.include('vn_i-0000010e');
  });

  it('places the same device on a host that is no router host (no gateway at all)', async () => {
    const store = await open(withoutGateway(loadDoc(FIXTURE)));
    const bridges = await subnetBridges(store);
    const c3 = vxlanDev(bridges.get('subnet-000000c3')!);
    const gw = await desiredOf(store, GW);
    // e's host realizes c3 for e alone; h1's and h2's router copies route into it
    expect((gw.vxlans ?? []).map((v) => v.dev)).to.include(c3);
    const h1 = await desiredOf(store, H1);
    expect(h1.fdb).to.deep.include({ mac: MAC_E, dev: c3, dst: GW });
  });

  it('makes no VXLAN device for a bridge no other host realizes', async () => {
    const doc = withoutGateway(loadDoc(FIXTURE));
    for (const id of ['i-0000010b', 'i-0000010d', 'i-0000010e']) removeInstance(doc, id);
    const store = await open(doc);
    const h1 = await desiredOf(store, H1);
    expect(h1.bridges.size).to.be.greaterThan(1);
    expect(h1.vxlans ?? []).to.deep.equal([]);
    expect(h1.fdb ?? []).to.deep.equal([]);
  });

  it('lets only public sources out of the gateway uplink', async () => {
    const store = await open(loadDoc(FIXTURE));
    const gw = await desiredOf(store, GW);
    const tables = gw.routerNamespaces.flatMap((r) =>
      r.nft?.chains.some((c) => c.name === UPLINK_EGRESS_CHAIN) ? [r.nft] : [],
    );
    expect(tables).to.have.length(1); // the core router's, nobody else's
    const set = tables[0]!.sets.find((x) => x.name === UPLINK_SOURCES)!;
    // a's elastic IP and the NAT gateway's public address, the uplink's own address
    expect([...set.elements.keys()]).to.include.members([
      '203.0.113.31',
      '203.0.113.30',
      '198.51.100.2',
    ]);
    expect([...set.elements.keys()].filter((a) => a.startsWith('10.'))).to.deep.equal([]);
    const chain = tables[0]!.chains.find((c) => c.name === UPLINK_EGRESS_CHAIN)!;
    expect(chain.hook).to.deep.include({ hook: 'forward' });
    // the uplink (eth1's macvlan inside the core router's namespace)
    expect(chain.rules).to.have.length(1);
    expect(chain.rules[0]).to.match(
      /^oifname \{ "rp-[0-9a-f]{10}" \} ip saddr != @uplink_sources drop$/,
    );
    for (const host of [H1, H2]) {
      const d = await desiredOf(store, host);
      const chains = d.routerNamespaces.flatMap((r) => r.nft?.chains ?? []);
      expect(
        chains.map((c) => c.name),
        host,
      ).to.not.include(UPLINK_EGRESS_CHAIN);
    }
  });
});
