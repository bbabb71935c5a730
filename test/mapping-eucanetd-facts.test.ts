/**
 * The five mapping facts matched to eucanetd's source (docs/mapping.md, "Matched to eucanetd's
 * source"): upstream peer, full-range TCP/UDP ports, router-id order, metadata NAT flow action,
 * and the euca_version stamp (default and setting).
 */
import { expect } from 'chai';
import { settingsFromKeys } from '../src/reconciler/index.js';
import { makeView, natGateway, subnet, vpc, defaultAcl } from './helpers/view-builder.js';
import { byName, id, rulesOf, run, testView, V } from './helpers/mapping-view.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';

describe('mapping: facts matched to eucanetd', () => {
  it('uses bgpPeerIp as the upstream when externalRouterIp is set too', () => {
    const v = makeView({
      gateways: [
        {
          host: 'gw1',
          externalCidr: '198.51.100.0/24',
          externalDevice: 'eth1',
          externalIp: '198.51.100.2',
          externalRouterIp: '198.51.100.1',
          bgpPeerIp: '198.51.100.9',
          bgpPeerAsn: 65000,
          bgpAdRoutes: [],
        },
        {
          host: 'gw2',
          externalCidr: '198.51.101.0/24',
          externalDevice: 'eth1',
          externalIp: '198.51.101.2',
          externalRouterIp: '198.51.101.1',
          bgpAdRoutes: [],
        },
      ],
    });
    const d = run(v).desired;
    const eucart = id('router:eucart');
    const gateways = [...d.route.values()]
      .filter((r) => r.routerId === eucart && r.dstNetworkLength === 0)
      .map((r) => r.nextHopGateway);
    expect(gateways).to.deep.equal(['198.51.100.9', '198.51.101.1']);
    const hosts = [...d.route.values()]
      .filter((r) => r.routerId === eucart && r.dstNetworkLength === 32)
      .map((r) => r.dstNetworkAddr);
    expect(hosts).to.include('198.51.100.9').and.not.include('198.51.100.1');
  });

  it('keeps tpDst 0-65535 for full-range TCP and UDP rules', () => {
    const d = run(
      testView({
        sg1: [
          { protocol: 6, fromPort: 0, toPort: 65535, cidr: '10.0.0.0/8' },
          { protocol: 17, fromPort: 0, toPort: 65535, cidr: '10.0.0.0/8' },
          { protocol: -1, cidr: '10.0.0.0/8' },
        ],
      }),
    ).desired;
    const rules = rulesOf(d, 'sg_ingress_sg-11111111');
    expect(rules.map((r) => r['tpDst'])).to.deep.equal([
      { start: 0, end: 65535 },
      { start: 0, end: 65535 },
      undefined,
    ]);
  });

  it('hands out router ids per VPC in GNI order, each VPC then its NAT gateways', () => {
    const mk = (vpcId: string, cidr: string, sub: string, nat: string) =>
      vpc(vpcId, cidr, {
        subnets: [subnet(sub, cidr.replace('.0.0/16', '.1.0/24'), 'acl-1', 'rtb-1')],
        networkAcls: [defaultAcl('acl-1')],
        natGateways: [natGateway(nat, vpcId, sub, cidr.replace('.0.0/16', '.1.250'))],
      });
    const v = makeView({
      vpcs: [
        mk('vpc-99999999', '10.9.0.0/16', 'subnet-99999999', 'nat-99999999999999999'),
        mk('vpc-22222222', '10.2.0.0/16', 'subnet-22222222', 'nat-22222222222222222'),
      ],
    });
    const r = run(v);
    expect(Object.fromEntries(r.allocations.routerIds)).to.deep.equal({
      'vpc-99999999': 2,
      'nat-99999999999999999': 3,
      'vpc-22222222': 4,
      'nat-22222222222222222': 5,
    });
    expect(() => byName(r.desired.router, 'vr_vpc-99999999_2')).to.not.throw();
  });

  it('gives the metadata NAT rules flowAction continue', () => {
    const d = run(testView()).desired;
    for (const chain of [`vc_${V}_mdulin`, `vc_${V}_mdulout`]) {
      const rules = rulesOf(d, chain);
      expect(rules.length, chain).to.be.greaterThan(0);
      for (const r of rules) expect(r['flowAction'], chain).to.equal('continue');
    }
  });

  it('stamps euca_version 4.4.2.0 by default, EUCA_VERSION when set, and refuses a bad one', () => {
    const stamp = (config = DEFAULT_MAPPING_CONFIG) =>
      byName(run(testView(), config).desired['ip-addr-group'], 'euca_version').addresses;
    expect(stamp()).to.deep.equal(['4.4.2.0']);
    const set = settingsFromKeys(new Map([['EUCA_VERSION', '4.4.5.0']]));
    expect(set.issues).to.deep.equal([]);
    expect(stamp(set.settings.mapping)).to.deep.equal(['4.4.5.0']);
    const bad = settingsFromKeys(new Map([['EUCA_VERSION', '4.4']]));
    expect(bad.settings.mapping.eucaVersion).to.equal('4.4.2.0');
    expect(bad.issues.map((i) => i.path)).to.deep.equal(['config/EUCA_VERSION']);
  });
});
