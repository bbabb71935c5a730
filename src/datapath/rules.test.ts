import { expect } from 'chai';
import type { Rule } from '../store/index.js';
import { translateRule, type RuleContext } from './rules.js';

const ctx: RuleContext = {
  chainName: (id) => (id === 'c-sg' ? 'sg_ingress_sg-1' : undefined),
  setName: (id) => (id === 'g-all' ? 'iag_sg_all_sg-1' : undefined),
  portDev: (id) => (id === 'p-1' ? 'vn_eni-1' : undefined),
};

function rule(fields: Partial<Rule>): Rule {
  return { id: 'r', version: 1, chainId: 'c', type: 'accept', ...fields };
}

describe('datapath rule translator', () => {
  it('translates an SG ingress rule with a CIDR, protocol and port range', () => {
    const t = translateRule(
      rule({
        nwProto: 6,
        nwSrcAddress: '10.0.0.0',
        nwSrcLength: 16,
        tpDst: { start: 80, end: 90 },
      }),
      ctx,
    );
    expect(t).to.deep.equal({
      text: 'ether type 0x0800 ip protocol 6 ip saddr 10.0.0.0/16 tcp dport 80-90 accept',
      unsupported: [],
    });
  });

  it('uses the ip-addr-group set and ICMP type/code from tpSrc/tpDst', () => {
    const t = translateRule(
      rule({ nwProto: 1, ipAddrGroupSrc: 'g-all', tpSrc: { start: 8, end: 8 } }),
      ctx,
    );
    expect(t.text).to.equal(
      'ether type 0x0800 ip protocol 1 ip saddr @iag_sg_all_sg-1 icmp type 8 accept',
    );
  });

  it('reads nw fields as ARP addresses and opcode when dlType is ARP', () => {
    const spa = translateRule(
      rule({
        type: 'drop',
        dlType: 0x0806,
        nwSrcAddress: '10.0.0.5',
        nwSrcLength: 32,
        invNwSrc: true,
      }),
      ctx,
    );
    expect(spa.text).to.equal('ether type 0x0806 arp saddr ip != 10.0.0.5 drop');
    const tha = translateRule(
      rule({
        type: 'drop',
        dlType: 0x0806,
        nwProto: 2,
        dlDst: 'D0:0D:00:00:00:01',
        invDlDst: true,
      }),
      ctx,
    );
    expect(tha.text).to.equal(
      'ether type 0x0806 ether daddr != d0:0d:00:00:00:01 arp operation 2 drop',
    );
  });

  it('maps return flows, jumps and "drop all but ARP"', () => {
    expect(translateRule(rule({ matchReturnFlow: true }), ctx).text).to.equal(
      'meta mark & 0x00000001 == 0x00000001 accept',
    );
    expect(translateRule(rule({ type: 'jump', jumpChainId: 'c-sg' }), ctx).text).to.equal(
      'jump sg_ingress_sg-1',
    );
    expect(
      translateRule(rule({ type: 'drop', dlType: 0x0806, invDlType: true }), ctx).text,
    ).to.equal('ether type != 0x0806 drop');
  });

  it('fails closed on unsupported fields: accept left out, drop kept with what it can express', () => {
    const accept = translateRule(rule({ portGroup: 'pg', nwProto: 17 }), ctx);
    expect(accept).to.deep.equal({ text: undefined, unsupported: ['portGroup'] });
    const drop = translateRule(rule({ type: 'drop', portGroup: 'pg', nwProto: 17 }), ctx);
    expect(drop).to.deep.equal({
      text: 'ether type 0x0800 ip protocol 17 drop',
      unsupported: ['portGroup'],
    });
    const nat = translateRule(rule({ type: 'dnat' }), ctx);
    expect(nat).to.deep.equal({ text: undefined, unsupported: ['type:dnat'] });
    const missingJump = translateRule(rule({ type: 'jump', jumpChainId: 'nowhere' }), ctx);
    expect(missingJump.text).to.equal(undefined);
  });

  it('matches in-ports by interface name and leaves out rules that cannot match here', () => {
    expect(translateRule(rule({ inPorts: ['p-1'] }), ctx).text).to.equal(
      'iifname { "vn_eni-1" } accept',
    );
    expect(translateRule(rule({ inPorts: ['p-elsewhere'] }), ctx)).to.deep.equal({
      text: undefined,
      unsupported: [],
    });
    expect(
      translateRule(
        rule({ type: 'drop', nwSrcAddress: '0.0.0.0', nwSrcLength: 0, invNwSrc: true }),
        ctx,
      ).text,
    ).to.equal(undefined);
  });

  it('matches in/out port groups by the group ports on this host, fails closed on VLANs', () => {
    const withGroups: RuleContext = {
      ...ctx,
      portGroupDevs: (g) => (g === 'pg-1' ? ['vn_eni-1', 'vn_eni-2'] : []),
    };
    expect(translateRule(rule({ type: 'drop', inPortGroup: 'pg-1' }), withGroups).text).to.equal(
      'iifname { "vn_eni-1", "vn_eni-2" } drop',
    );
    expect(
      translateRule(rule({ outPortGroup: 'pg-1', invOutPortGroup: true }), withGroups).text,
    ).to.equal('oifname != { "vn_eni-1", "vn_eni-2" } accept');
    // no member here: the rule cannot match on this host
    expect(translateRule(rule({ inPortGroup: 'pg-empty' }), withGroups).text).to.equal(undefined);
    // without group resolution the condition is unsupported: accept left out, drop kept
    expect(translateRule(rule({ inPortGroup: 'pg-1' }), ctx)).to.deep.equal({
      text: undefined,
      unsupported: ['inPortGroup'],
    });
    expect(translateRule(rule({ noVlan: true, nwProto: 6 }), ctx)).to.deep.equal({
      text: undefined,
      unsupported: ['noVlan'],
    });
    expect(translateRule(rule({ type: 'drop', vlan: 7 }), ctx)).to.deep.equal({
      text: 'drop',
      unsupported: ['vlan'],
    });
  });
});
