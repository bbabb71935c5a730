import { expect } from 'chai';
import type { Rule } from '../store/index.js';
import { translateL3Rule, type L3RuleContext } from './router-nft.js';

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
});
