import { expect } from 'chai';
import { instance, subnet, vpc } from '../../test/helpers/view-builder.js';
import { mapTopology } from './index.js';
import {
  V,
  S1,
  S2,
  NAT,
  SG1,
  SG2,
  testView,
  run,
  byName,
  id,
  rulesOf,
  withoutSlots,
} from '../../test/helpers/mapping-view.js';

describe('mapping/mapTopology', () => {
  it('builds an interface prechain and postchain rule by rule in eucanetd order (§3.7)', () => {
    const { desired: d } = run(testView());
    const mac = 'd0:0d:00:00:00:01';
    expect(rulesOf(d, 'ic_i-00000001_prechain')).to.deep.equal([
      { type: 'drop', dlType: 0x0806, nwSrcAddress: '10.1.1.10', nwSrcLength: 32, invNwSrc: true },
      { type: 'drop', dlType: 0x0806, dlSrc: mac, invDlSrc: true },
      { type: 'drop', dlType: 0x0800, nwSrcAddress: '10.1.1.10', nwSrcLength: 32, invNwSrc: true },
      { type: 'drop', dlSrc: mac, invDlSrc: true },
      { type: 'accept', matchReturnFlow: true },
      { type: 'accept', nwDstAddress: '10.1.1.2', nwDstLength: 31 },
      { type: 'accept', nwDstAddress: '169.254.169.248', nwDstLength: 29 },
      {
        type: 'jump',
        jumpChainId: id(`chain:sg_egress_${SG1}`),
        jumpChainName: `sg_egress_${SG1}`,
      },
      { type: 'drop', dlType: 0x0806, invDlType: true },
    ]);
    expect(rulesOf(d, 'ic_i-00000001_postchain')).to.deep.equal([
      { type: 'drop', dlType: 0x0806, nwDstAddress: '10.1.1.10', nwDstLength: 32, invNwDst: true },
      { type: 'drop', dlType: 0x0806, nwProto: 2, dlDst: mac, invDlDst: true },
      { type: 'accept', dlType: 0x0800, nwProto: 17, tpDst: { start: 67, end: 68 } },
      { type: 'drop', dlType: 0x0800, nwDstAddress: '10.1.1.10', nwDstLength: 32, invNwDst: true },
      { type: 'accept', matchReturnFlow: true },
      {
        type: 'jump',
        jumpChainId: id(`chain:sg_ingress_${SG1}`),
        jumpChainName: `sg_ingress_${SG1}`,
      },
      { type: 'drop', dlType: 0x0806, invDlType: true },
    ]);
  });

  it('names the primary interface after the instance and binds its port to vn_<id> on its node', () => {
    const { desired: d } = run(testView());
    const port = d.port.get(id(`port:vb_${V}_${S1}:vn_i-00000001`))!;
    expect(port).to.include({
      hostId: id('host:10.30.0.1'),
      interfaceName: 'vn_i-00000001',
      owner: 'i-00000001',
    });
    expect(port.inboundFilterId).to.equal(id('chain:ic_i-00000001_prechain'));
    expect(port.outboundFilterId).to.equal(id('chain:ic_i-00000001_postchain'));
    expect(d.port.get(id(`port:vb_${V}_${S1}:vn_eni-00000002`))).to.include({
      interfaceName: 'vn_eni-00000002',
    });
    expect(withoutSlots('host', d.host.get(id('host:10.30.0.2'))!)).to.deep.equal({
      id: id('host:10.30.0.2'),
      owner: 'hosts',
      name: '10.30.0.2',
      addresses: [],
    });
  });

  it('drops the source/destination check rules when sourceDestCheck is false, and all L2/L3/ARP rules with disableL2Isolation', () => {
    const { desired: d } = run(testView());
    const pre = rulesOf(d, 'ic_eni-00000002_prechain').map(
      (r) => r['type'] + (r['dlType'] === 0x0800 ? ':ip' : ''),
    );
    expect(pre).to.deep.equal([
      'drop',
      'drop',
      'drop',
      'accept',
      'accept',
      'accept',
      'jump',
      'jump',
      'drop',
    ]);
    const post = rulesOf(d, 'ic_eni-00000002_postchain');
    expect(
      post.some((r) => r['nwProto'] === 17 || (r['invNwDst'] === true && r['dlType'] === 0x0800)),
    ).to.equal(false);
    const open = run(testView(), { disableL2Isolation: true }).desired;
    expect(rulesOf(open, 'ic_i-00000001_prechain').map((r) => r['type'])).to.deep.equal([
      'accept',
      'accept',
      'accept',
      'jump',
      'drop',
    ]);
    expect(rulesOf(open, 'ic_i-00000001_postchain').map((r) => r['type'])).to.deep.equal([
      'accept',
      'jump',
      'drop',
    ]);
  });

  it('maps a public IP to a DNAT in preelip, a SNAT in postchain and a weight-100 /32 on eucart', () => {
    const r = run(testView());
    const d = r.desired;
    const rtid = r.allocations.routerIds.get(V)!;
    expect(rulesOf(d, `vc_${V}_preelip`)).to.deep.equal([
      {
        type: 'dnat',
        dlType: 0x0800,
        nwDstAddress: '198.51.100.17',
        nwDstLength: 32,
        natTargets: [{ addressFrom: '10.1.1.10', addressTo: '10.1.1.10', portFrom: 0, portTo: 0 }],
        flowAction: 'continue',
      },
    ]);
    expect(rulesOf(d, `vc_${V}_postchain`)).to.deep.equal([
      {
        type: 'snat',
        dlType: 0x0800,
        ipAddrGroupSrc: id('ip-addr-group:elip_post_i-00000001'),
        natTargets: [
          { addressFrom: '198.51.100.17', addressTo: '198.51.100.17', portFrom: 0, portTo: 0 },
        ],
        flowAction: 'continue',
        nwDstAddress: '10.1.0.0',
        nwDstLength: 16,
        invNwDst: true,
      },
    ]);
    const route = [...d.route.values()].find((x) => x.dstNetworkAddr === '198.51.100.17')!;
    expect(route).to.include({
      routerId: id('router:eucart'),
      nextHopPort: id('port:eucart:int'),
      nextHopGateway: `169.254.0.${rtid}`,
      weight: 100,
      owner: 'i-00000001',
    });
    expect(byName(d['ip-addr-group'], 'elip_pre_i-00000001').addresses).to.deep.equal([
      '198.51.100.17',
    ]);
    expect(byName(d['ip-addr-group'], 'elip_post_i-00000001').addresses).to.deep.equal([
      '10.1.1.10',
    ]);
  });

  it('maps route tables to source routes with weights 10/20/30 and warns on unsupported targets', () => {
    const r = run(testView());
    const routes = [...r.desired.route.values()].filter((x) => x.owner.endsWith('/routes'));
    const rtid = r.allocations.routerIds.get(V)!;
    const vr = `vr_${V}_${rtid}`;
    expect(
      routes.map((x) => [
        x.owner,
        x.srcNetworkAddr,
        x.dstNetworkAddr,
        x.dstNetworkLength,
        x.nextHopGateway,
        x.weight,
        x.nextHopPort,
      ]),
    ).to.deep.equal([
      [`${S1}/routes`, '10.1.1.0', '0.0.0.0', 0, '169.254.0.1', 10, id(`port:${vr}:uplink`)],
      [`${S2}/routes`, '10.1.2.0', '0.0.0.0', 0, '10.1.1.250', 20, id(`port:${vr}:sub:${S1}`)],
      [`${S2}/routes`, '10.1.2.0', '192.168.0.0', 16, '10.1.1.11', 30, id(`port:${vr}:sub:${S1}`)],
    ]);
    expect(
      r.issues.some(
        (i) => i.code === 'mapping.unsupported-route-target' && i.message.includes('pcx-1234'),
      ),
    ).to.equal(true);
  });

  it('maps a NAT gateway: router, ports, routes, SNAT/REV_SNAT chains, eucart /32 and elip_pre', () => {
    const r = run(testView());
    const d = r.desired;
    const rtid = r.allocations.routerIds.get(NAT)!;
    const name = `natr_${NAT}_${S1}_${rtid}`;
    const router = byName(d.router, name);
    expect(router).to.include({
      owner: NAT,
      inboundFilterId: id(`chain:natc_${NAT}_rtin`),
      outboundFilterId: id(`chain:natc_${NAT}_rtout`),
    });
    const sub = d.port.get(id(`port:${name}:sub:${S1}`))!;
    expect(sub).to.include({
      portAddress: '10.1.1.250',
      networkAddress: '10.1.1.0',
      networkLength: 24,
      portMac: 'd0:0d:aa:bb:cc:dd',
      peerId: id(`port:vb_${V}_${S1}:nat:${NAT}`),
    });
    expect(rulesOf(d, `natc_${NAT}_rtout`)).to.deep.equal([
      {
        type: 'snat',
        dlType: 0x0800,
        nwSrcAddress: '10.1.0.0',
        nwSrcLength: 16,
        outPorts: [id(`port:${name}:uplink`)],
        natTargets: [
          {
            addressFrom: '198.51.100.50',
            addressTo: '198.51.100.50',
            portFrom: 1024,
            portTo: 65535,
          },
        ],
        flowAction: 'accept',
      },
    ]);
    expect(rulesOf(d, `natc_${NAT}_rtin`)).to.deep.equal([
      {
        type: 'rev_snat',
        dlType: 0x0800,
        nwDstAddress: '198.51.100.50',
        nwDstLength: 32,
        flowAction: 'accept',
      },
    ]);
    const routes = [...d.route.values()]
      .filter((x) => x.owner === NAT)
      .map(
        (x) =>
          `${x.routerId === router.id ? 'natr' : 'eucart'} ${x.dstNetworkAddr}/${x.dstNetworkLength} ${x.nextHopGateway ?? '-'} ${x.weight}`,
      );
    expect(routes).to.deep.equal([
      'natr 0.0.0.0/0 169.254.0.1 0',
      'natr 169.254.0.0/17 - 0',
      'natr 10.1.0.0/16 10.1.1.1 0',
      `eucart 198.51.100.50/32 169.254.0.${rtid} 100`,
    ]);
    expect(byName(d['ip-addr-group'], `elip_pre_${NAT}`).addresses).to.deep.equal([
      '198.51.100.50',
    ]);
  });

  it('maps every security-group rule form and fills the groups with member addresses', () => {
    const r = run(testView());
    const d = r.desired;
    expect(rulesOf(d, `sg_ingress_${SG2}`)).to.deep.equal([
      {
        type: 'accept',
        dlType: 0x0800,
        nwProto: 6,
        tpDst: { start: 5432, end: 5432 },
        ipAddrGroupSrc: id(`ip-addr-group:sg_all_${SG1}`),
      },
      {
        type: 'accept',
        dlType: 0x0800,
        nwProto: 1,
        tpSrc: { start: 8, end: 8 },
        nwSrcAddress: '0.0.0.0',
        nwSrcLength: 0,
      },
      { type: 'accept', dlType: 0x0800, nwProto: 47, nwSrcAddress: '10.0.0.0', nwSrcLength: 8 },
    ]);
    expect(
      r.issues.some(
        (i) => i.code === 'mapping.sg-reference-missing' && i.message.includes('sg-99999999'),
      ),
    ).to.equal(true);
    expect(byName(d['ip-addr-group'], `sg_priv_${SG1}`).addresses).to.deep.equal([
      '10.1.1.10',
      '10.1.1.11',
    ]);
    expect(byName(d['ip-addr-group'], `sg_pub_${SG1}`).addresses).to.deep.equal(['198.51.100.17']);
    expect(byName(d['ip-addr-group'], `sg_all_${SG1}`).addresses).to.deep.equal([
      '10.1.1.10',
      '198.51.100.17',
      '10.1.1.11',
    ]);
    expect(byName(d['ip-addr-group'], `sg_all_${SG2}`).addresses).to.deep.equal([
      '10.1.1.11',
      '10.1.2.10',
    ]);
  });

  it('builds subnets: .1 router port, bridge with VNI and filters, seed rules plus one ACL jump, DHCP and the .2 ARP entry', () => {
    const { desired: d } = run(testView());
    const bridge = byName(d.bridge, `vb_${V}_${S1}`);
    expect(bridge).to.include({
      owner: S1,
      vni: 1,
      inboundFilterId: id(`chain:sc_${S1}_in`),
      outboundFilterId: id(`chain:sc_${S1}_out`),
    });
    const types = rulesOf(d, `sc_${S1}_in`).map(
      (x) =>
        `${x['type']} ${String(x['nwSrcAddress'] ?? x['nwProto'])}/${String(x['nwSrcLength'] ?? '')}`,
    );
    expect(types).to.deep.equal([
      'accept 10.1.1.0/24',
      'accept 17/',
      'accept 169.254.0.0/16',
      'accept 10.1.1.0/30',
      'jump undefined/',
    ]);
    expect(rulesOf(d, `sc_${S1}_out`).at(-1)).to.deep.include({
      jumpChainName: `acl_egress_${V}_acl-11111111`,
    });
    const dhcp = d['dhcp-subnet'].get(id(`dhcp:vb_${V}_${S1}`))!;
    expect(dhcp).to.deep.include({
      subnetPrefix: '10.1.1.0',
      subnetLength: 24,
      defaultGateway: '10.1.1.1',
      dnsServerAddrs: ['10.20.0.2'],
      domainName: 'eucalyptus.internal',
    });
    expect(dhcp.hosts.map((h) => [h.name, h.macAddr, h.ipAddr])).to.deep.equal([
      ['eni-00000002', 'd0:0d:00:00:00:02', '10.1.1.11'],
      ['i-00000001', 'd0:0d:00:00:00:01', '10.1.1.10'],
    ]);
    expect(dhcp.hosts[0]!.extraDhcpOpts).to.deep.equal([
      { optName: 'domain_search', optValue: 'eucalyptus.internal' },
    ]);
    const routerPort = d.port.get(
      bridge.id === '' ? '' : [...d.port.values()].find((p) => p.portAddress === '10.1.1.1')!.id,
    )!;
    expect(d['arp-entry'].get(id(`arp:vb_${V}_${S1}:10.1.1.2`))).to.include({
      ip: '10.1.1.2',
      mac: routerPort.portMac,
      owner: S1,
    });
  });

  it('applies the DHCP option set and falls back to 8.8.8.8 without DNS servers', () => {
    const withSet = testView({ vpc: { dhcpOptionSet: 'dopt-1' } });
    const opts = {
      ...withSet,
      dhcpOptionSets: [
        {
          id: 'dopt-1',
          properties: [],
          domainName: ['corp.example', 'example'],
          domainNameServers: ['10.0.0.53'],
          ntpServers: ['10.0.0.123'],
          netbiosNameServers: [],
        },
      ],
    };
    const dhcp = run(opts).desired['dhcp-subnet'].get(id(`dhcp:vb_${V}_${S1}`))!;
    expect(dhcp).to.deep.include({
      dnsServerAddrs: ['10.0.0.53'],
      domainName: 'corp.example',
      ntpServers: ['10.0.0.123'],
    });
    expect(dhcp.hosts[0]!.extraDhcpOpts).to.deep.equal([
      { optName: 'domain_search', optValue: 'corp.example example' },
    ]);
    const bare = testView();
    const noDns = { ...bare, configuration: { ...bare.configuration, instanceDNSServers: [] } };
    expect(
      run(noDns).desired['dhcp-subnet'].get(id(`dhcp:vb_${V}_${S1}`))!.dnsServerAddrs,
    ).to.deep.equal(['8.8.8.8']);
  });
});
