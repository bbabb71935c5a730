import { expect } from 'chai';
import { KINDS } from '../store/index.js';
import {
  instance,
  makeView,
  natGateway,
  securityGroup,
  subnet,
  vpc,
} from '../../test/helpers/view-builder.js';
import { mapTopology, recoverAllocations, serializeDesired } from './index.js';
import {
  V,
  S1,
  S2,
  NAT,
  SG1,
  testView,
  run,
  byName,
  id,
  rulesOf,
} from '../../test/helpers/mapping-view.js';

describe('mapping/mapTopology: holds, updates, determinism', () => {
  it('holds invalid entities and their dependants, and maps the rest', () => {
    const r = run(testView({ invalid: [`subnet:${S2}`, `securityGroup:${SG1}`] }));
    expect([...r.held].sort()).to.deep.equal([S2, `${S2}/routes`, SG1, 'i-00000002'].sort());
    const owners = new Set<string>();
    for (const k of KINDS) for (const o of r.desired[k].values()) owners.add(o.owner);
    for (const h of r.held) expect(owners.has(h), h).to.equal(false);
    expect(owners.has('i-00000001')).to.equal(true);
    expect(owners.has(NAT)).to.equal(true);
    expect(r.issues.filter((i) => i.code === 'mapping.held')).to.have.length(4);
    // jumps to the held SG's chain remain: the chain still exists, held
    expect(
      rulesOf(r.desired, 'ic_i-00000001_postchain').some(
        (x) => x['jumpChainName'] === `sg_ingress_${SG1}`,
      ),
    ).to.equal(true);
  });

  it('leaves the port of an instance on no node unbound, with a warning', () => {
    const v = testView();
    const moved = {
      ...v,
      instances: v.instances.map((i) =>
        i.id === 'i-00000002' ? (({ node: _n, ...rest }) => rest)(i) : i,
      ),
    };
    const r = run(moved);
    const port = r.desired.port.get(id(`port:vb_${V}_${S2}:vn_i-00000002`))!;
    expect(port.hostId).to.equal(undefined);
    expect(
      r.issues.some((i) => i.code === 'mapping.interface-unbound' && i.severity === 'warning'),
    ).to.equal(true);
  });

  it('turns a VPC CIDR, NAT public IP or DNS change into updates of the same ids', () => {
    const a = run(testView()).desired;
    const changed = testView({
      vpc: {
        cidr: '10.1.0.0/17',
        natGateways: [natGateway(NAT, V, S1, '10.1.1.250', '198.51.100.51')],
      },
    });
    const b = run({
      ...changed,
      configuration: { ...changed.configuration, instanceDNSServers: ['10.20.0.3'] },
    }).desired;
    for (const k of KINDS) {
      const onlyA = [...a[k].keys()].filter((x) => !b[k].has(x));
      const onlyB = [...b[k].keys()].filter((x) => !a[k].has(x));
      expect(onlyA, k).to.deep.equal([]);
      expect(onlyB, k).to.deep.equal([]);
    }
    const snat = id(`rule:vc_${V}_postchain:snat:i-00000001`);
    expect(b.rule.get(snat)!.nwDstLength).to.equal(17);
    expect(b.rule.get(id(`rule:natc_${NAT}_rtin:rev-snat`))!.nwDstAddress).to.equal(
      '198.51.100.51',
    );
    expect(b['dhcp-subnet'].get(id(`dhcp:vb_${V}_${S1}`))!.dnsServerAddrs).to.deep.equal([
      '10.20.0.3',
    ]);
  });

  it('changes one rule id when one security-group rule changes', () => {
    const rules = [
      { protocol: 6, fromPort: 22, toPort: 22, cidr: '203.0.113.0/24' },
      { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
      { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
    ];
    const a = byName(run(testView({ sg1: rules })).desired.chain, `sg_ingress_${SG1}`).ruleIds!;
    const b = byName(
      run(testView({ sg1: [rules[0]!, { ...rules[1]!, toPort: 81 }, rules[2]!] })).desired.chain,
      `sg_ingress_${SG1}`,
    ).ruleIds!;
    expect(a).to.have.length(3);
    expect(new Set(a).size).to.equal(3);
    expect(a.filter((x) => !b.includes(x))).to.have.length(1);
  });

  it('emits BGP peers and networks and the eucart AS number when the GNI asks for it', () => {
    const v = makeView({
      bgpAsn: 65001,
      gateways: [
        {
          host: 'gw1',
          externalCidr: '198.51.100.0/24',
          externalDevice: 'eth1',
          externalIp: '198.51.100.2',
          bgpPeerIp: '198.51.100.1',
          bgpPeerAsn: 65000,
          bgpAdRoutes: ['203.0.113.0/24'],
        },
        {
          host: 'gw2',
          externalCidr: '198.51.101.0/24',
          externalDevice: 'eth1',
          externalIp: '198.51.101.2',
          bgpPeerIp: '198.51.101.1',
          bgpPeerAsn: 65000,
          bgpAdRoutes: ['203.0.113.0/24'],
        },
      ],
    });
    const d = run(v).desired;
    expect(d.router.get(id('router:eucart'))!.asNumber).to.equal(65001);
    expect([...d['bgp-peer'].values()].map((p) => p.address)).to.deep.equal([
      '198.51.100.1',
      '198.51.101.1',
    ]);
    expect(
      [...d['bgp-network'].values()].map((n) => `${n.subnetAddress}/${n.subnetLength}`),
    ).to.deep.equal(['203.0.113.0/24']);
    const defaults = [...d.route.values()].filter(
      (x) => x.dstNetworkLength === 0 && x.routerId === id('router:eucart'),
    );
    expect(defaults.map((x) => x.nextHopGateway)).to.deep.equal(['198.51.100.1', '198.51.101.1']);
  });

  it('references only objects it emits (no dangling id) when the view is valid', () => {
    const r = run(testView());
    const all = new Set<string>();
    for (const k of KINDS) for (const x of r.desired[k].keys()) all.add(x);
    const refFields = [
      'chainId',
      'jumpChainId',
      'routerId',
      'bridgeId',
      'nextHopPort',
      'peerId',
      'inboundFilterId',
      'outboundFilterId',
      'ipAddrGroupSrc',
      'ipAddrGroupDst',
      'hostId',
      'portId',
    ];
    for (const k of KINDS) {
      for (const o of r.desired[k].values()) {
        for (const f of refFields) {
          const v = (o as Record<string, unknown>)[f];
          if (typeof v === 'string') expect(all.has(v), `${k} ${f}`).to.equal(true);
        }
        for (const list of ['ruleIds', 'portGroupIds', 'outPorts'] as const) {
          for (const v of ((o as Record<string, unknown>)[list] as string[] | undefined) ?? [])
            expect(all.has(v), `${k} ${list}`).to.equal(true);
        }
      }
    }
  });

  it('is deterministic: the same input gives byte-identical output', () => {
    expect(serializeDesired(run(testView()).desired)).to.equal(
      serializeDesired(run(testView()).desired),
    );
  });

  it('recovers every allocation from the objects it emits', () => {
    const r = run(testView());
    const objects = KINDS.flatMap((k) => [...r.desired[k].values()]);
    const rec = recoverAllocations(objects as Iterable<object>);
    expect(rec.routerIds).to.deep.equal(r.allocations.routerIds);
    expect(rec.eniIds).to.deep.equal(r.allocations.eniIds);
    expect(rec.vnis).to.deep.equal(r.allocations.vnis);
  });
});
