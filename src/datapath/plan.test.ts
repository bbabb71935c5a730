import { expect } from 'chai';
import type { Bridge, Chain, DhcpSubnet, Kind, Port, Router, Rule } from '../store/index.js';
import { isFilterOnlyChange } from './agent.js';
import { appliedNs } from './observe.js';
import { desiredHost } from './desired.js';
import { planHost, routeKey, type ObservedHost, type ObservedNs } from './plan.js';
import type { HostTopology } from './topology.js';
import {
  bridgeDev,
  linkAlias,
  routerLinkHostDev,
  routerLinkNsDev,
  routerNamespace,
} from './names.js';
import { appliedTable, parseNftJson, ruleTag as tagOf } from './nft.js';

const base = { version: 1 };
const router: Router = {
  ...base,
  id: 'rt',
  name: 'vr_vpc-1_2',
  adminStateUp: true,
  portIds: [],
  routeIds: [],
  bgpPeerIds: [],
  bgpNetworkIds: [],
};
const bridge: Bridge = {
  ...base,
  id: 'br',
  name: 'vb_vpc-1_subnet-1',
  adminStateUp: true,
  portIds: [],
  dhcpIds: [],
  arpEntryIds: [],
  macEntryIds: [],
};
const port = (p: Partial<Port> & { id: string }): Port => ({
  ...base,
  type: 'Bridge',
  adminStateUp: true,
  portGroupIds: [],
  routeIds: [],
  macEntryIds: [],
  ...p,
});
const rp = port({
  id: 'rp',
  type: 'Router',
  routerId: 'rt',
  peerId: 'bp',
  portAddress: '10.0.1.1',
  networkAddress: '10.0.1.0',
  networkLength: 24,
  portMac: '02:00:00:00:00:01',
});
const bp = port({ id: 'bp', bridgeId: 'br', peerId: 'rp' });
const vm = port({
  id: 'vm',
  bridgeId: 'br',
  hostId: 'h',
  interfaceName: 'vn_eni-1',
  inboundFilterId: 'pre',
});
const chain: Chain = {
  ...base,
  id: 'pre',
  name: 'ic_eni-1_prechain',
  metadata: [],
  ruleIds: ['r1'],
  jumpRuleIds: [],
  routerInboundIds: [],
  routerOutboundIds: [],
  bridgeInboundIds: [],
  bridgeOutboundIds: [],
  portInboundIds: [],
  portOutboundIds: [],
};
const rule: Rule = {
  ...base,
  id: 'r1',
  chainId: 'pre',
  type: 'drop',
  dlType: 0x0806,
  invDlType: true,
};
const dhcp: DhcpSubnet = {
  ...base,
  id: 'd',
  bridgeId: 'br',
  subnetPrefix: '10.0.1.0',
  subnetLength: 24,
  defaultGateway: '10.0.1.1',
  dnsServerAddrs: ['192.0.2.53'],
  ntpServers: [],
  opt121Routes: [],
  enabled: true,
  hosts: [
    { macAddr: 'D0:0D:00:00:00:01', ipAddr: '10.0.1.10', name: 'vn_eni-1', extraDhcpOpts: [] },
  ],
};
const topo: HostTopology = {
  hostId: 'h',
  boundPorts: [vm],
  bridges: [bridge],
  ports: new Map([rp, bp, vm].map((p) => [p.id, p])),
  routers: [router],
  routes: [
    {
      ...base,
      id: 'ro',
      routerId: 'rt',
      type: 'Normal',
      srcNetworkAddr: '0.0.0.0',
      srcNetworkLength: 0,
      dstNetworkAddr: '10.9.0.0',
      dstNetworkLength: 16,
      nextHopPort: 'rp',
      nextHopGateway: '10.0.1.254',
      weight: 0,
    },
  ],
  chains: new Map([[chain.id, chain]]),
  rules: new Map([[rule.id, rule]]),
  ipAddrGroups: new Map(),
  dhcpSubnets: [dhcp],
  arpEntries: [],
  macEntries: [],
};
const options = { netnsPrefix: 't-', stateDir: '/state' };
const ns = routerNamespace('t-', 'rt');
const empty: ObservedHost = {
  links: new Map(),
  namespaces: new Map(),
  dhcp: new Map(),
  nft: new Map(),
  isBridgeNfCallOn: true,
};

describe('datapath planner', () => {
  it('plans only the nft tables and kept files in the filters scope', () => {
    const before = desiredHost(topo, options);
    const cache: ObservedHost = {
      ...empty,
      namespaces: new Map(before.routerNamespaces.map((r) => [r.ns, appliedNs(r)])),
      nft: new Map(before.nft.map((t) => [t.family, appliedTable(t)])),
    };
    // nothing changed: nothing to do, although links, DHCP and sysctl were not observed
    expect(planHost(before, cache, 'filters')).to.deep.equal([]);
    const after = desiredHost(
      { ...topo, rules: new Map([[rule.id, { ...rule, invDlType: false }]]) },
      options,
    );
    const actions = planHost(after, cache, 'filters');
    expect(actions.map((a) => a.type)).to.deep.equal(['nft']);
    expect(actions[0]?.type === 'nft' ? actions[0].script : '').to.include(
      'add rule bridge eucanetd ic_eni-1_prechain ether type 0x0806 drop',
    );
  });

  it('classifies filter-only store changes', () => {
    const change = (kind: Kind) => ({ kind, id: 'x', type: 'updated' as const });
    expect(
      isFilterOnlyChange({ revision: 2, changes: [change('rule'), change('chain')] }),
    ).to.equal(true);
    expect(isFilterOnlyChange({ revision: 2, changes: [change('ip-addr-group')] })).to.equal(true);
    expect(isFilterOnlyChange({ revision: 2, changes: [change('rule'), change('port')] })).to.equal(
      false,
    );
    expect(isFilterOnlyChange({ revision: 2, changes: [] })).to.equal(false);
  });

  it('builds a fresh host: namespace, bridge, router link, port, routes, nft, DHCP', () => {
    const d = desiredHost(topo, options);
    const actions = planHost(d, {
      ...empty,
      links: new Map([['vn_eni-1', { name: 'vn_eni-1', isUp: false }]]),
    });
    const host = actions.find(
      (a) =>
        a.type === 'ip' && a.ns === undefined && a.lines.some((l) => l.includes('type bridge')),
    );
    expect(host).to.deep.include({ type: 'ip' });
    const lines = host?.type === 'ip' ? host.lines : [];
    expect(lines).to.include(`link add ${bridgeDev('br')} type bridge`);
    expect(lines).to.include(
      `link add ${routerLinkHostDev('rp')} type veth peer name ${routerLinkNsDev('rp')} netns ${ns}`,
    );
    expect(lines).to.include(`link set dev vn_eni-1 master ${bridgeDev('br')}`);
    const inNs = actions.find((a) => a.type === 'ip' && a.ns === ns);
    expect(inNs?.type === 'ip' ? inNs.lines : []).to.include.members([
      `addr add 10.0.1.1/24 dev ${routerLinkNsDev('rp')}`,
      `route add unicast 10.9.0.0/16 via 10.0.1.254 dev ${routerLinkNsDev('rp')} metric 0 proto 186`,
    ]);
    const nft = actions.find((a) => a.type === 'nft');
    expect(nft?.type === 'nft' ? nft.script : '').to.include(
      'add rule bridge eucanetd ic_eni-1_prechain ether type != 0x0806 drop',
    );
    const start = actions.find((a) => a.type === 'exec' && a.argv.includes('dnsmasq'));
    expect(start).to.deep.equal({
      type: 'exec',
      argv: [
        'ip',
        'netns',
        'exec',
        ns,
        'dnsmasq',
        '--conf-file=/state/dhcp-' + d.dhcp[0]!.key + '.conf',
      ],
    });
    expect(d.dhcp[0]!.hosts).to.equal('d0:0d:00:00:00:01,10.0.1.10\n');
  });

  it('turns learning off on instance ports and holds their MACs in static entries', () => {
    const mac = 'd0:0d:00:00:00:01';
    const withMac: HostTopology = {
      ...topo,
      macEntries: [{ ...base, id: 'm1', bridgeId: 'br', portId: 'vm', macAddr: mac.toUpperCase() }],
    };
    const d = desiredHost(withMac, options);
    expect(d.portFdb).to.deep.equal([{ mac, dev: 'vn_eni-1' }]);
    const plugged = (learning: boolean, fdb: string[]): ObservedHost => ({
      ...empty,
      links: new Map([
        ['vn_eni-1', { name: 'vn_eni-1', isUp: true, master: bridgeDev('br'), learning }],
      ]),
      masterFdb: new Set(fdb),
    });
    const lines = (o: ObservedHost): string[] =>
      planHost(d, o).flatMap((a) => (a.type === 'ip' || a.type === 'bridge' ? a.lines : []));
    // a forged entry on the port (learned before learning was off) is removed
    const first = lines(plugged(true, ['02:00:00:00:00:99 vn_eni-1']));
    expect(first).to.include.members([
      'link set dev vn_eni-1 type bridge_slave learning off',
      `fdb replace ${mac} dev vn_eni-1 master static`,
      'fdb del 02:00:00:00:00:99 dev vn_eni-1 master',
    ]);
    const again = lines(plugged(false, [`${mac} vn_eni-1`]));
    expect(again.filter((l) => l.includes('vn_eni-1'))).to.deep.equal([]);
    // not plugged yet: no entry for it
    expect(lines(empty).filter((l) => l.includes('vn_eni-1'))).to.deep.equal([]);
  });

  it('plans nothing when the host already matches (a restart disturbs nothing)', () => {
    const d = desiredHost(topo, options);
    const nsState: ObservedNs = {
      links: new Map([
        ['lo', { name: 'lo', isUp: true }],
        [
          routerLinkNsDev('rp'),
          {
            name: routerLinkNsDev('rp'),
            isUp: true,
            mac: '02:00:00:00:00:01',
            addrs: ['10.0.1.1/24'],
          },
        ],
      ]),
      routes: new Set(d.routerNamespaces[0]!.routes.map(routeKey)),
      neighbors: new Set(),
      isForwarding: true,
    };
    const first = planHost(d, empty);
    const nftScript = first.find((a) => a.type === 'nft');
    expect(nftScript).to.not.equal(undefined);
    const observed: ObservedHost = {
      isBridgeNfCallOn: true,
      links: new Map([
        [bridgeDev('br'), { name: bridgeDev('br'), isUp: true, alias: linkAlias('bridge', 'br') }],
        [
          routerLinkHostDev('rp'),
          {
            name: routerLinkHostDev('rp'),
            isUp: true,
            master: bridgeDev('br'),
            alias: linkAlias('rport', 'rp'),
          },
        ],
        ['vn_eni-1', { name: 'vn_eni-1', isUp: true, master: bridgeDev('br'), learning: false }],
      ]),
      namespaces: new Map([[ns, nsState]]),
      dhcp: new Map([[d.dhcp[0]!.key, { ...d.dhcp[0]!, isRunning: true, pid: 42 }]]),
      nft: new Map(d.nft.map((t) => [t.family, parseNftJson(listingOf(t), t.family, t.name)])),
    };
    expect(planHost(d, observed)).to.deep.equal([]);
    // unbinding the port detaches it and removes what only it needed
    const gone = desiredHost(
      {
        ...topo,
        boundPorts: [],
        bridges: [],
        routers: [],
        ports: new Map(),
        dhcpSubnets: [],
        chains: new Map(),
        rules: new Map(),
      },
      options,
    );
    const teardown = planHost(gone, observed);
    const flat = teardown.flatMap((a) => (a.type === 'ip' ? a.lines : [a.type]));
    expect(flat).to.include.members([
      'link set dev vn_eni-1 nomaster',
      `link del ${bridgeDev('br')}`,
      `netns del ${ns}`,
      'kill-netns-pids',
    ]);
    expect(teardown).to.deep.include({ type: 'signal', pid: 42, signal: 'SIGTERM' });
  });
});

/** A `nft -j` listing that holds exactly the desired table. */
function listingOf(t: ReturnType<typeof desiredHost>['nft'][number]): string {
  const items: unknown[] = [{ table: { family: t.family, name: t.name } }];
  for (const s of t.sets) {
    const elem = [...s.elements].map(([k, v]) =>
      s.isVerdictMap ? [k, { jump: { target: v.replace('jump ', '') } }] : k,
    );
    items.push({
      [s.isVerdictMap ? 'map' : 'set']: {
        family: t.family,
        table: t.name,
        name: s.name,
        type: s.type,
        elem,
      },
    });
  }
  for (const c of t.chains) {
    items.push({
      chain: {
        family: t.family,
        table: t.name,
        name: c.name,
        ...(c.hook ? { hook: c.hook.hook, prio: c.hook.priority } : {}),
      },
    });
    for (const r of c.rules)
      items.push({ rule: { family: t.family, table: t.name, chain: c.name, comment: tagOf(r) } });
  }
  return JSON.stringify({ nftables: items });
}
