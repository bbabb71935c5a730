import { expect } from 'chai';
import { hostInterfaceName, parseBridgeName, parseRouterName, shortId } from './names.js';

describe('mapping/names', () => {
  it('parses VPC and NAT gateway router names, short and long ids', () => {
    expect(parseRouterName('vr_vpc-6a3e91c4_2')).to.deep.equal({
      kind: 'vpc',
      vpcId: 'vpc-6a3e91c4',
      rtid: 2,
    });
    expect(parseRouterName('vr_vpc-0123456789abcdef0_10743')).to.deep.equal({
      kind: 'vpc',
      vpcId: 'vpc-0123456789abcdef0',
      rtid: 10743,
    });
    expect(parseRouterName('natr_nat-0a1b2c3d4e5f60718_subnet-0b7d1e52_7')).to.deep.equal({
      kind: 'nat',
      natId: 'nat-0a1b2c3d4e5f60718',
      subnetId: 'subnet-0b7d1e52',
      rtid: 7,
    });
    for (const bad of [
      'eucart',
      'vr_vpc-1_0',
      'vr_vpc-1',
      'vr_vpc-1_x',
      'natr_nat-1_3',
      'vb_vpc-1_subnet-2',
    ]) {
      expect(parseRouterName(bad), bad).to.equal(undefined);
    }
  });

  it('parses subnet bridge names', () => {
    expect(parseBridgeName('vb_vpc-6a3e91c4_subnet-0b7d1e52')).to.deep.equal({
      vpcId: 'vpc-6a3e91c4',
      subnetId: 'subnet-0b7d1e52',
    });
    expect(parseBridgeName('eucabr')).to.equal(undefined);
  });

  it('truncates long ids to the 8-hex short form only in the host interface name', () => {
    expect(shortId('i-0e5d4c3b2a1908f7e')).to.equal('i-0e5d4c3b');
    expect(shortId('eni-0a1b2c3d4e5f60718')).to.equal('eni-0a1b2c3d');
    expect(shortId('i-0a1b2c3d')).to.equal('i-0a1b2c3d');
    expect(hostInterfaceName('i-0e5d4c3b2a1908f7e')).to.equal('vn_i-0e5d4c3b');
    expect(hostInterfaceName('eni-0a1b2c3d4e5f60718')).to.equal('vn_eni-0a1b2c3d');
    expect(hostInterfaceName('eni-0a1b2c3d4e5f60718').length).to.be.at.most(15);
  });
});
