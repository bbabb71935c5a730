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
  appliedNs,
  createStoreLiveness,
  desiredHost,
  planHost,
  readHostTopology,
  type DesiredHost,
  type GatewayLiveness,
} from '../src/datapath/index.js';
import { routerNamespace, transitDev as transitDevOf } from '../src/datapath/names.js';
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

/** router namespace → underlay addresses its transit device sends to (compute hosts). */
function transitSets(d: DesiredHost): Map<string, string[]> {
  return new Map(
    d.routerNamespaces
      .filter((r) => (r.fdb ?? []).length > 0)
      .map((r) => [r.ns, r.fdb!.map((f) => f.dst).sort()]),
  );
}

/** Transit traffic of per-flow routers goes to this nexthop group. */
const TRANSIT_GROUP_ID = 1000;
const TRANSIT_GW = '192.0.0.8';
const EIP = '203.0.113.31/32';
const NAT_PUBLIC = '203.0.113.30/32';

function advertised(d: DesiredHost): string[] {
  const conf = d.files?.find((f) => f.path.endsWith('bird.conf'))?.content ?? '';
  return [...conf.matchAll(/route (\S+) unreachable;/g)].map((m) => m[1]!);
}

describe('datapath gateway hosts (several router hosts)', function () {
  let store: TopologyStore;
  let vpcNs = '';
  let natNs = '';
  let transitDev = '';
  before(async function () {
    store = createMemoryStore();
    await reconcileView(store, viewOf(loadDoc(FIXTURE)), DEFAULT_MAPPING_CONFIG);
    const routers = await store.list('router');
    const vpc = routers.find((r) => r.name.startsWith('vr_'))!;
    vpcNs = routerNamespace(options.netnsPrefix, vpc.id);
    natNs = routerNamespace(
      options.netnsPrefix,
      routers.find((r) => r.name.startsWith('natr_'))!.id,
    );
    transitDev = transitDevOf(vpc.id);
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

  it('spreads the elastic IP router over both gateways by flow, pins the NAT gateway router to one', async function () {
    const compute = await stateOf(store, '192.0.2.11');
    const vpc = compute.routerNamespaces.find((r) => r.ns === vpcNs)!;
    const nat = compute.routerNamespaces.find((r) => r.ns === natNs)!;
    // the VPC router (its only public address is an elastic IP): one nexthop per gateway, a
    // resilient group over both, every route through the transit uses the group
    expect(transitSets(compute).get(vpcNs)).to.deep.equal([GW1, GW2]);
    const group = vpc.nexthops?.find((n) => 'group' in n);
    // two nexthops per gateway (twins): never a one-member group, whose bucket use the kernel
    // does not track
    expect(group).to.deep.equal({ id: TRANSIT_GROUP_ID, group: [1, 2, 501, 502] });
    const transitRoutes = vpc.routes.filter((r) => r.nhid !== undefined || r.via === TRANSIT_GW);
    expect(transitRoutes.map((r) => r.nhid)).to.deep.equal(transitRoutes.map(() => 1000));
    expect(transitRoutes.map((r) => r.dst)).to.include('default');
    // each hop's address is a permanent neighbor holding that gateway's own transit MAC
    for (const hop of vpc.nexthops!.filter((n) => 'via' in n)) {
      const via = (hop as { via: string }).via;
      const mac = vpc.neighbors.find((n) => n.ip === via)?.mac;
      expect(vpc.fdb?.find((f) => f.mac === mac)?.dst, via).to.be.oneOf([GW1, GW2]);
    }
    // the NAT gateway router: one gateway, no group
    expect(transitSets(compute).get(natNs)).to.have.length(1);
    expect(nat.nexthops).to.equal(undefined);
    const [g1, g2] = await Promise.all([stateOf(store, GW1), stateOf(store, GW2)]);
    // the gateway's transit device holds the MAC the compute host sends to
    for (const [g, addr] of [
      [g1, GW1],
      [g2, GW2],
    ] as const) {
      const mac = g.routerNamespaces
        .find((r) => r.ns === vpcNs)!
        .links.find((l) => l.kind === 'transit')!.mac!;
      expect(vpc.fdb?.find((f) => f.mac === mac)?.dst, addr).to.equal(addr);
    }
    // both advertise the range and the elastic IP; the NAT gateway address only the gateway
    // the compute hosts send its router's traffic to
    const ads1 = advertised(g1);
    const ads2 = advertised(g2);
    for (const ads of [ads1, ads2]) expect(ads).to.include.members(['203.0.113.0/24', EIP]);
    const natServer = transitSets(compute).get(natNs)![0];
    expect(ads1.includes(NAT_PUBLIC)).to.equal(natServer === GW1);
    expect(ads2.includes(NAT_PUBLIC)).to.equal(natServer === GW2);
    // the other compute host agrees
    expect(transitSets(await stateOf(store, '192.0.2.12'))).to.deep.equal(transitSets(compute));
  });

  it('translates the elastic IP statelessly on every gateway (the NAT gateway stays stateful)', async function () {
    for (const gw of [GW1, GW2]) {
      const d = await stateOf(store, gw);
      const vpc = d.routerNamespaces.find((r) => r.ns === vpcNs)!;
      const chains = new Map(vpc.nft!.chains.map((c) => [c.name, c]));
      const publicDev = vpc.links.find((l) => l.address === '169.254.0.2/17')!.nsDev;
      expect(chains.get('eucanetd-eip-in')).to.deep.equal({
        name: 'eucanetd-eip-in',
        hook: { hook: 'prerouting', priority: -150 },
        rules: [`iifname "${publicDev}" ip daddr set ip daddr map { 203.0.113.31 : 10.20.1.10 }`],
      });
      expect(chains.get('eucanetd-eip-out')).to.deep.equal({
        name: 'eucanetd-eip-out',
        hook: { hook: 'forward', priority: 0 },
        rules: [`oifname "${publicDev}" ip saddr set ip saddr map { 10.20.1.10 : 203.0.113.31 }`],
      });
      const nat = d.routerNamespaces.find((r) => r.ns === natNs)!;
      expect(nat.nft!.chains.map((c) => c.name)).not.to.include('eucanetd-eip-in');
      expect(JSON.stringify(nat.nft)).to.include('snat to 203.0.113.30:1024-65535');
    }
  });

  it('pins a router whose elastic IP is not 1:1 (its SNAT source group has two addresses)', async function () {
    // the source group of the elastic IP's SNAT rule (the instance's private address)
    const group = (await store.list('ip-addr-group')).find((g) => g.name.startsWith('elip_post'))!;
    expect(group.addresses).to.deep.equal(['10.20.1.10']);
    const edit = async (addresses: string[]): Promise<void> => {
      await store.transaction([
        {
          op: 'update' as const,
          kind: 'ip-addr-group' as const,
          object: { ...group, addresses } as never,
        },
      ]);
    };
    await edit(['10.20.1.10', '10.20.1.11']);
    try {
      const d = await stateOf(store, '192.0.2.11');
      expect(transitSets(d).get(vpcNs)).to.have.length(1);
      expect(d.routerNamespaces.find((r) => r.ns === vpcNs)!.nexthops).to.equal(undefined);
      const g = await stateOf(store, GW1);
      const vpc = g.routerNamespaces.find((r) => r.ns === vpcNs)!;
      expect(vpc.nft!.chains.map((c) => c.name)).not.to.include('eucanetd-eip-in');
      // only the gateway serving it advertises the elastic IP now
      const ads = [advertised(g), advertised(await stateOf(store, GW2))];
      expect(ads.filter((a) => a.includes(EIP))).to.have.length(1);
    } finally {
      await edit([...group.addresses]);
    }
    expect(
      (await stateOf(store, '192.0.2.11')).routerNamespaces.find((r) => r.ns === vpcNs)!.nexthops,
    ).to.have.length(5); // back: two nexthops per gateway and their group
  });

  it('drops only a dead gateway from the group, pins its routers elsewhere, takes it back', async function () {
    const before = transitSets(await stateOf(store, '192.0.2.11', only(GW1, GW2)));
    for (const [dead, alive] of [
      [GW1, GW2],
      [GW2, GW1],
    ] as const) {
      const after = transitSets(await stateOf(store, '192.0.2.11', only(alive)));
      expect([...after.values()], `${dead} dead`).to.deep.equal([[alive], [alive]]);
      const survivor = await stateOf(store, alive, only(alive));
      expect(advertised(survivor).filter((r) => r.endsWith('/32'))).to.have.members([
        NAT_PUBLIC,
        EIP,
      ]);
    }
    // with both alive again, every router is back where it was
    expect(transitSets(await stateOf(store, '192.0.2.11', only(GW1, GW2)))).to.deep.equal(before);
    // no live gateway known: the routers stay with the gateways (a guess beats dropping)
    expect(transitSets(await stateOf(store, '192.0.2.11', only()))).to.deep.equal(before);
  });

  it("drops a gateway whose agent's stored heartbeat expired (the store is the authority)", async function () {
    const hosts = await store.list('host');
    const beat = async (name: string, ageMs: number | undefined): Promise<void> => {
      const h = hosts.find((x) => x.id === hostId(name))!;
      const { heartbeatAt: _a, heartbeatTtlMs: _t, ...rest } = h;
      await store.transaction([
        {
          op: 'update' as const,
          kind: 'host' as const,
          object: (ageMs === undefined
            ? rest
            : { ...rest, heartbeatAt: Date.now() - ageMs, heartbeatTtlMs: 30_000 }) as never,
        },
      ]);
    };
    const liveness = createStoreLiveness({ fast: only(GW1, GW2) });
    try {
      await beat(GW1, 120_000); // its agent stopped writing two minutes ago
      await beat(GW2, 1000);
      const d = await stateOf(store, '192.0.2.11', liveness);
      expect([...transitSets(d).values()]).to.deep.equal([[GW2], [GW2]]);
      // the gateway itself still realizes its part and advertises what it serves
      expect(advertised(await stateOf(store, GW1, liveness))).to.include(EIP);
    } finally {
      liveness.close();
      await beat(GW1, undefined);
      await beat(GW2, undefined);
    }
    const fresh = createStoreLiveness({ fast: only(GW1, GW2) });
    const back = await stateOf(store, '192.0.2.11', fresh);
    fresh.close();
    expect([...transitSets(back).values()].flat()).to.include(GW1);
  });

  it('plans a compute host pass that changes only the transit entries when a gateway dies', async function () {
    const both = await stateOf(store, '192.0.2.12', only(GW1, GW2));
    const one = await stateOf(store, '192.0.2.12', only(GW2));
    const strip = (d: DesiredHost): unknown =>
      d.routerNamespaces.map((r) => ({
        ...r,
        fdb: undefined,
        nexthops: undefined,
        neighbors: r.neighbors.filter((n) => !n.dev.startsWith('tr-')),
      }));
    expect(strip(one)).to.deep.equal(strip(both));
    expect(one.vxlans).to.deep.equal(both.vxlans);
    expect(one.fdb).to.deep.equal(both.fdb);
    // the VPC router's namespace: the group shrinks, the dead gateway's nexthop goes, no route
    // changes (the kernel moves only the dead gateway's buckets)
    const vpcBoth = both.routerNamespaces.find((r) => r.ns === vpcNs)!;
    const observed = {
      links: new Map(),
      namespaces: new Map(both.routerNamespaces.map((r) => [r.ns, appliedNs(r)])),
      dhcp: new Map(),
      nft: new Map(),
      isBridgeNfCallOn: true,
    };
    const lines = planHost(one, observed)
      .filter((a) => a.type === 'ip' && a.ns === vpcNs)
      .flatMap((a) => (a.type === 'ip' ? a.lines : []));
    const deadHop = vpcBoth.nexthops!.find(
      (n) =>
        'via' in n &&
        !one.routerNamespaces.find((r) => r.ns === vpcNs)!.nexthops!.some((m) => m.id === n.id),
    )!;
    const liveHop = deadHop.id === 1 ? 2 : 1;
    expect(lines).to.deep.equal([
      `nexthop replace id 1000 group ${liveHop}/${liveHop + 500} type resilient buckets 64 idle_timer 10 unbalanced_timer 0`,
      `nexthop del id ${deadHop.id + 500}`,
      `nexthop del id ${deadHop.id}`,
      `neigh del ${(deadHop as { via: string }).via} dev ${transitDev}`,
    ]);
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
      ...new Set([...transitSets(await stateOf(statics, '192.0.2.11', live)).values()].flat()),
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
