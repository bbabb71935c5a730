import { expect } from 'chai';
import type { DhcpSubnet } from '../store/index.js';
import { dhcpConfig } from './dhcp.js';
import { deviceMtuOf, instanceMtuFor, VXLAN_OVERHEAD } from './mtu.js';

const subnet: DhcpSubnet = {
  version: 1,
  id: 'd1',
  bridgeId: 'br',
  subnetPrefix: '10.0.1.0',
  subnetLength: 24,
  defaultGateway: '10.0.1.1',
  serverAddr: '10.0.1.1',
  dnsServerAddrs: [],
  ntpServers: [],
  opt121Routes: [],
  enabled: true,
  hosts: [],
};

describe('instance MTU (DHCP option 26)', () => {
  it('leaves the VXLAN overhead off the underlay, never above the instance links', () => {
    expect(VXLAN_OVERHEAD).to.equal(50);
    expect(instanceMtuFor(1500)).to.equal(1450);
    expect(instanceMtuFor(9000)).to.equal(1500);
    expect(instanceMtuFor(1600)).to.equal(1500);
  });

  it('reads the MTU of the device that holds the underlay address', async () => {
    const json = JSON.stringify([
      { ifname: 'lo', mtu: 65536, addr_info: [{ family: 'inet', local: '127.0.0.1' }] },
      { ifname: 'eth0', mtu: 1450, addr_info: [{ family: 'inet', local: '192.0.2.11' }] },
    ]);
    const run = async (): Promise<string> => json;
    expect(await deviceMtuOf(run, '192.0.2.11')).to.equal(1450);
    expect(await deviceMtuOf(run, '192.0.2.99')).to.equal(undefined);
  });

  it('offers the setting unless the subnet sets its own', () => {
    const conf = (s: DhcpSubnet, mtu?: number): string =>
      dhcpConfig('t', 'ns', 'rp-x', [s], '/state', mtu).conf;
    expect(conf(subnet, 1450)).to.include('dhcp-option=tag:s0,option:mtu,1450');
    expect(conf({ ...subnet, interfaceMTU: 1400 }, 1450)).to.include('option:mtu,1400');
    expect(conf({ ...subnet, interfaceMTU: 1400 }, 1450)).to.not.include('option:mtu,1450');
    expect(conf(subnet)).to.not.include('option:mtu');
  });
});
