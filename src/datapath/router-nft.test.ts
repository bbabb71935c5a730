import { expect } from 'chai';
import type { Chain, Router, Rule } from '../store/index.js';
import { buildRouterNft, translateL3Rule, type L3RuleContext } from './router-nft.js';
import type { HostTopology } from './topology.js';

const ctx: L3RuleContext = {
  chainName: (id) => (id === 'c-pre' ? 'vc_vpc-1_preelip' : undefined),
  setName: (id) => (id === 'g-post' ? 'iag_elip_post_i-1' : undefined),
  portDev: (id) => (id === 'uplink' ? 'rp-up' : undefined),
};
const rule = (r: Partial<Rule>): Rule =>
  ({ version: 1, id: 'r', chainId: 'c', type: 'accept', ...r }) as Rule;
const nat = (from: string, portFrom = 0, portTo = 0) => [
  { addressFrom: from, addressTo: from, portFrom, portTo },
];

describe('datapath router-namespace rule translator', function () {
  it('translates EIP DNAT and SNAT (with a group and an inverted destination)', function () {
    const dnat = translateL3Rule(
      rule({
        type: 'dnat',
        dlType: 0x0800,
        nwDstAddress: '203.0.113.31',
        nwDstLength: 32,
        natTargets: nat('10.20.1.10'),
      }),
      ctx,
    );
    expect(dnat).to.deep.equal({
      text: 'ip daddr 203.0.113.31 dnat to 10.20.1.10',
      unsupported: [],
    });
    const snat = translateL3Rule(
      rule({
        type: 'snat',
        ipAddrGroupSrc: 'g-post',
        nwDstAddress: '10.20.0.0',
        nwDstLength: 16,
        invNwDst: true,
        natTargets: nat('203.0.113.31'),
      }),
      ctx,
    );
    expect(snat.text).to.equal(
      'ip daddr != 10.20.0.0/16 ip saddr @iag_elip_post_i-1 snat to 203.0.113.31',
    );
  });

  it('splits a NAT gateway port range into a TCP/UDP rule and an address-only rule', function () {
    const t = translateL3Rule(
      rule({
        type: 'snat',
        nwSrcAddress: '10.20.0.0',
        nwSrcLength: 16,
        outPorts: ['uplink'],
        natTargets: nat('203.0.113.30', 1024, 65535),
      }),
      ctx,
    );
    expect(t.text?.split('\n')).to.deep.equal([
      'oifname { "rp-up" } ip saddr 10.20.0.0/16 meta l4proto { tcp, udp } snat to 203.0.113.30:1024-65535',
      'oifname { "rp-up" } ip saddr 10.20.0.0/16 snat to 203.0.113.30',
    ]);
  });

  it('accepts reverse NAT, jumps, leaves out ARP-only rules and rules on absent ports', function () {
    expect(
      translateL3Rule(
        rule({ type: 'rev_snat', nwDstAddress: '203.0.113.30', nwDstLength: 32 }),
        ctx,
      ).text,
    ).to.equal('ip daddr 203.0.113.30 accept');
    expect(translateL3Rule(rule({ type: 'jump', jumpChainId: 'c-pre' }), ctx).text).to.equal(
      'jump vc_vpc-1_preelip',
    );
    expect(translateL3Rule(rule({ type: 'accept', dlType: 0x0806 }), ctx).text).to.equal(undefined);
    expect(
      translateL3Rule(rule({ type: 'drop', dlType: 0x0806, invDlType: true }), ctx).text,
    ).to.equal('drop');
    expect(
      translateL3Rule(
        rule({ type: 'snat', outPorts: ['elsewhere'], natTargets: nat('1.2.3.4') }),
        ctx,
      ).text,
    ).to.equal(undefined);
  });

  it('runs the local-redirect chain before the inbound filter and the forward chain before the outbound filter', function () {
    const chain = (id: string, ruleIds: string[]): Chain =>
      ({ id, version: 1, name: id, metadata: [], ruleIds, jumpRuleIds: [] }) as unknown as Chain;
    const router = {
      id: 'rt',
      version: 1,
      name: 'rt',
      adminStateUp: true,
      localRedirectChainId: 'c-redirect',
      inboundFilterId: 'c-in',
      forwardChainId: 'c-fwd',
      outboundFilterId: 'c-out',
      portIds: [],
      routeIds: [],
      bgpPeerIds: [],
      bgpNetworkIds: [],
    } as Router;
    const rules = new Map<string, Rule>([
      ['r1', rule({ id: 'r1', chainId: 'c-redirect', type: 'drop', nwProto: 47 })],
      ['r2', rule({ id: 'r2', chainId: 'c-fwd', type: 'drop', nwProto: 6 })],
    ]);
    const topo = {
      hostId: 'h',
      boundPorts: [],
      bridges: [],
      ports: new Map(),
      routers: [router],
      routes: [],
      chains: new Map(
        [
          chain('c-redirect', ['r1']),
          chain('c-in', []),
          chain('c-fwd', ['r2']),
          chain('c-out', []),
        ].map((c) => [c.id, c]),
      ),
      rules,
      ipAddrGroups: new Map(),
      dhcpSubnets: [],
      arpEntries: [],
      macEntries: [],
    } as HostTopology;
    const table = buildRouterNft(router, topo, () => undefined, []);
    const byName = new Map(table.chains.map((c) => [c.name, c.rules]));
    expect(byName.get('eucanetd-pre')).to.deep.equal(['jump c-redirect', 'jump c-in']);
    expect(byName.get('eucanetd-post')).to.deep.equal(['jump c-fwd', 'jump c-out']);
    expect(byName.get('c-redirect')).to.deep.equal(['ip protocol 47 drop']);
    expect(byName.get('c-fwd')).to.deep.equal(['ip protocol 6 drop']);
  });
});
