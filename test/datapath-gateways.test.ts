/**
 * Several gateway hosts from a real mapping (fixtures/datapath/multi-gateway.xml, two BGP
 * gateways): each realizes its own uplink, the whole north-south part and a metadata endpoint;
 * each distributed router is served by one live gateway (compute hosts' transit goes there,
 * and only that gateway advertises the router's public /32s); a dead gateway's routers move
 * to the other and come back when it returns, while the other gateway's routers stay put.
 * No root needed.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { hostId } from '../src/common/index.js';
import {
  desiredHost,
  readHostTopology,
  type DesiredHost,
  type GatewayLiveness,
} from '../src/datapath/index.js';
import { readGni } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';

const FIXTURE = repoPath('fixtures/datapath/multi-gateway.xml');
const options = { netnsPrefix: 'edpt-', stateDir: '/run/edpt-test-state' };
const GW1 = '192.0.2.21';
const GW2 = '192.0.2.22';
const HOSTS = ['192.0.2.11', '192.0.2.12', GW1, GW2];

const only = (...names: string[]): GatewayLiveness => ({
  liveHosts: (candidates) =>
    Promise.resolve(new Set(candidates.filter((c) => names.map(hostId).includes(c)))),
});

async function stateOf(
  store: TopologyStore,
  host: string,
  liveness?: GatewayLiveness,
): Promise<DesiredHost> {
  return desiredHost(await readHostTopology(store, hostId(host), liveness), options);
}

/** router namespace → underlay address its transit device points at (compute hosts). */
function transitTargets(d: DesiredHost): Map<string, string> {
  return new Map(d.routerNamespaces.flatMap((r) => (r.fdb ?? []).map((f) => [r.ns, f.dst])));
}

function advertised(d: DesiredHost): string[] {
  const conf = d.files?.find((f) => f.path.endsWith('bird.conf'))?.content ?? '';
  return [...conf.matchAll(/route (\S+) unreachable;/g)].map((m) => m[1]!);
}

describe('datapath gateway hosts (several router hosts)', function () {
  let store: TopologyStore;
  before(async function () {
    store = createMemoryStore();
    await reconcileView(store, viewOf(loadDoc(FIXTURE)), DEFAULT_MAPPING_CONFIG);
    // what the agents register: each host's underlay address
    const hosts = await store.list('host');
    await store.transaction(
      HOSTS.map((name) => {
        const h = hosts.find((x) => x.id === hostId(name))!;
        return {
          op: 'update' as const,
          kind: 'host' as const,
          object: { ...h, addresses: [name] },
        };
      }),
    );
  });
  after(async () => store.close());

  it('realizes on each gateway its own uplink, every router and a metadata endpoint', async function () {
    const [g1, g2] = await Promise.all([stateOf(store, GW1), stateOf(store, GW2)]);
    const uplinks = (d: DesiredHost): string[] =>
      d.routerNamespaces.flatMap((r) =>
        r.links.filter((l) => l.kind === 'macvlan').map((l) => `${l.hostDev} ${l.address!}`),
      );
    expect(uplinks(g1)).to.deep.equal(['eth1 198.51.100.2/24']);
    expect(uplinks(g2)).to.deep.equal(['eth1 198.51.100.3/24']);
    // same routers (eucart, eucamdrt, VPC router, NAT gateway router) plus the metadata
    // endpoint namespace on both
    expect(g1.routerNamespaces.map((r) => r.ns)).to.deep.equal(
      g2.routerNamespaces.map((r) => r.ns),
    );
    expect(g1.routerNamespaces.map((r) => r.ns)).to.include('edpt-r-md');
    expect(g1.routerNamespaces.filter((r) => r.nft !== undefined)).to.have.length(
      g1.routerNamespaces.length - 1,
    );
  });

  it('sends each router copy of a compute host to one gateway, and that gateway advertises its public /32s', async function () {
    const compute = await stateOf(store, '192.0.2.11');
    const targets = transitTargets(compute);
    expect(targets.size).to.equal(2); // the VPC router and the NAT gateway router
    const [g1, g2] = await Promise.all([stateOf(store, GW1), stateOf(store, GW2)]);
    const ads1 = advertised(g1);
    const ads2 = advertised(g2);
    // both advertise the range; each public address from exactly one gateway
    expect(ads1).to.include('203.0.113.0/24');
    expect(ads2).to.include('203.0.113.0/24');
    const hostRoutes = [...ads1, ...ads2].filter((r) => r.endsWith('/32')).sort();
    expect(hostRoutes).to.deep.equal(['203.0.113.30/32', '203.0.113.31/32']);
    // a gateway that serves a compute host's router copy is the one advertising its /32s
    const served = (addr: string): number => [...targets.values()].filter((t) => t === addr).length;
    expect(ads1.filter((r) => r.endsWith('/32'))).to.have.length(served(GW1));
    expect(ads2.filter((r) => r.endsWith('/32'))).to.have.length(served(GW2));
    // the other compute host agrees
    expect([...transitTargets(await stateOf(store, '192.0.2.12')).values()].sort()).to.deep.equal(
      [...targets.values()].sort(),
    );
  });

  it('moves only the routers of a dead gateway, and moves them back when it returns', async function () {
    const before = transitTargets(await stateOf(store, '192.0.2.11', only(GW1, GW2)));
    for (const [dead, alive] of [
      [GW1, GW2],
      [GW2, GW1],
    ] as const) {
      const after = transitTargets(await stateOf(store, '192.0.2.11', only(alive)));
      expect([...after.values()], `${dead} dead`).to.deep.equal(
        [...after.values()].map(() => alive),
      );
      const survivor = await stateOf(store, alive, only(alive));
      expect(
        advertised(survivor)
          .filter((r) => r.endsWith('/32'))
          .sort(),
      ).to.deep.equal(['203.0.113.30/32', '203.0.113.31/32']);
    }
    // with both alive again, every router is back where it was
    expect(transitTargets(await stateOf(store, '192.0.2.11', only(GW1, GW2)))).to.deep.equal(
      before,
    );
    // no live gateway known: the routers stay with a gateway (a guess beats dropping)
    expect(transitTargets(await stateOf(store, '192.0.2.11', only())).size).to.equal(2);
  });

  it('plans a compute host pass that changes only the transit entries when a gateway dies', async function () {
    const both = await stateOf(store, '192.0.2.12', only(GW1, GW2));
    const one = await stateOf(store, '192.0.2.12', only(GW2));
    const strip = (d: DesiredHost): unknown =>
      d.routerNamespaces.map((r) => ({ ...r, fdb: undefined }));
    expect(strip(one)).to.deep.equal(strip(both));
    expect(one.vxlans).to.deep.equal(both.vxlans);
    expect(one.fdb).to.deep.equal(both.fdb);
  });

  it('keeps static-route gateways as primary and backup: every router on the first live one', async function () {
    // the same cloud with static upstream routes instead of BGP
    const text = readFileSync(FIXTURE, 'utf8')
      .replaceAll(
        '<property name="bgpPeerIp"><value>198.51.100.1</value></property>',
        '<property name="externalRouterIp"><value>198.51.100.1</value></property>',
      )
      .replace(/ *<property name="bgp(PeerAsn|AdRoutes|Asn)">.*<\/property>\n/g, '');
    const read = readGni(Buffer.from(text));
    expect(read.view, JSON.stringify(read.issues.slice(0, 3))).not.to.equal(undefined);
    const statics = createMemoryStore();
    await reconcileView(statics, read.view!, DEFAULT_MAPPING_CONFIG);
    const hosts = await statics.list('host');
    await statics.transaction(
      HOSTS.map((name) => {
        const h = hosts.find((x) => x.id === hostId(name))!;
        return {
          op: 'update' as const,
          kind: 'host' as const,
          object: { ...h, addresses: [name] },
        };
      }),
    );
    const targets = async (live: GatewayLiveness): Promise<string[]> => [
      ...new Set(transitTargets(await stateOf(statics, '192.0.2.11', live)).values()),
    ];
    const primary = await targets(only(GW1, GW2));
    expect(primary).to.have.length(1); // one gateway carries everything, as the upstream expects
    const backup = primary[0] === GW1 ? GW2 : GW1;
    expect(await targets(only(backup))).to.deep.equal([backup]);
    expect(await targets(only(GW1, GW2))).to.deep.equal(primary);
    // no speaker on either gateway
    for (const gw of [GW1, GW2])
      expect((await stateOf(statics, gw)).processes?.map((p) => p.key) ?? []).not.to.include('bgp');
    await statics.close();
  });
});
