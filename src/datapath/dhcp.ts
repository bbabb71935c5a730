/**
 * DHCP for a subnet: one dnsmasq per bridge, in the router namespace, bound to the router
 * port's interface, serving only static host entries from the topology's DHCP objects. The
 * subnet-level settings go to a config file (a change restarts the server); the host entries
 * go to a hosts file that dnsmasq re-reads on SIGHUP.
 */
import { join } from 'node:path';
import type { DhcpSubnet } from '../store/index.js';
import { netmask, networkOf } from './addr.js';

/** One DHCP server the host should run. */
export interface DesiredDhcp {
  /** Tag of the bridge (file names). */
  readonly key: string;
  readonly ns: string;
  readonly dev: string;
  readonly confPath: string;
  readonly hostsPath: string;
  readonly pidPath: string;
  readonly conf: string;
  readonly hosts: string;
}

const HOSTNAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Builds the dnsmasq config and hosts file for the DHCP subnets of one bridge. */
export function dhcpConfig(
  key: string,
  ns: string,
  dev: string,
  subnets: readonly DhcpSubnet[],
  stateDir: string,
  /** MTU offered (option 26) when a subnet sets none (`interfaceMTU`). */
  mtu?: number,
): DesiredDhcp {
  const base = join(stateDir, `dhcp-${key}`);
  const conf = [
    `# eucanetd agent: DHCP for bridge tag ${key}`,
    'port=0',
    `interface=${dev}`,
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'leasefile-ro',
    'dhcp-authoritative',
    // stay root: the state directory may be private, and `ip netns pids` must see the process
    'user=root',
    `pid-file=${base}.pid`,
    `dhcp-hostsfile=${base}.hosts`,
    `log-facility=${base}.log`,
  ];
  const hosts: string[] = [];
  [...subnets]
    .sort((a, b) => a.id.localeCompare(b.id))
    .forEach((s, i) => {
      const tag = `s${i}`;
      const net = networkOf(s.subnetPrefix, s.subnetLength);
      conf.push(`dhcp-range=set:${tag},${net},static,${netmask(s.subnetLength)},12h`);
      if (s.defaultGateway !== undefined)
        conf.push(`dhcp-option=tag:${tag},option:router,${s.defaultGateway}`);
      if (s.dnsServerAddrs.length > 0) {
        conf.push(`dhcp-option=tag:${tag},option:dns-server,${s.dnsServerAddrs.join(',')}`);
      }
      if (s.domainName !== undefined)
        conf.push(`dhcp-option=tag:${tag},option:domain-name,${s.domainName}`);
      if (s.ntpServers.length > 0)
        conf.push(`dhcp-option=tag:${tag},option:ntp-server,${s.ntpServers.join(',')}`);
      const offered = s.interfaceMTU ?? mtu;
      if (offered !== undefined) conf.push(`dhcp-option=tag:${tag},option:mtu,${offered}`);
      if (s.opt121Routes.length > 0) {
        const routes = s.opt121Routes.map(
          (r) => `${r.destinationPrefix}/${r.destinationLength},${r.gatewayAddr}`,
        );
        conf.push(`dhcp-option=tag:${tag},option:classless-static-route,${routes.join(',')}`);
      }
      for (const h of [...s.hosts].sort((a, b) => a.ipAddr.localeCompare(b.ipAddr))) {
        const name = HOSTNAME_RE.test(h.name) ? `,${h.name}` : '';
        hosts.push(`${h.macAddr.toLowerCase()},${h.ipAddr}${name}`);
      }
    });
  return {
    key,
    ns,
    dev,
    confPath: `${base}.conf`,
    hostsPath: `${base}.hosts`,
    pidPath: `${base}.pid`,
    conf: conf.join('\n') + '\n',
    hosts: hosts.join('\n') + '\n',
  };
}
