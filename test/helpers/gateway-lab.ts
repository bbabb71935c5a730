/**
 * The network of the gateway namespace test: an underlay bridge (in the lab's host namespace)
 * joining one namespace per host, and an "internet" namespace whose bridge `ext` holds the
 * upstream router's address and joins the gateways' external devices (`eth1`); and the
 * upstream router's BIRD configuration. Only inside namespaces the lab owns.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listNamespaces, sh, type Lab } from './netns.js';

/** The metadata backend: answers with the instance id the proxy added. */
export const MD_BACKEND = `const http=require('node:http');const fs=require('node:fs');const p=process.argv[1];try{fs.unlinkSync(p)}catch{};http.createServer((q,s)=>{s.end(String(q.headers['euca-instance-id']))}).listen(p)`;

/** A host of the lab: underlay address, and the external address of a gateway. */
export interface LabHost {
  readonly tag: string;
  readonly ip: string;
  readonly ext?: string;
}

/** Builds the underlay, the internet namespace `net` (upstream address `upstream/24`) and the
 * host namespaces (`<lab prefix><tag>`, `eth0` on the underlay, `eth1` to the internet for
 * gateways). */
export async function buildGatewayNet(
  lab: Lab,
  hosts: readonly LabHost[],
  net: string,
  upstream: string,
): Promise<void> {
  const u = lab.hostNs;
  await sh(['ip', '-n', u, 'link', 'add', 'ul', 'type', 'bridge']);
  await sh(['ip', '-n', u, 'link', 'set', 'ul', 'up']);
  // the internet: the upstream router on a segment shared by both gateways' external devices
  await sh(['ip', 'netns', 'add', net]);
  await sh(['ip', '-n', net, 'link', 'set', 'lo', 'up']);
  // the upstream spreads flows by their ports too (its ECMP hashes independently of ours)
  await sh(['ip', 'netns', 'exec', net, 'sysctl', '-qw', 'net.ipv4.fib_multipath_hash_policy=1']);
  await sh(['ip', '-n', net, 'link', 'add', 'ext', 'type', 'bridge']);
  await sh(['ip', '-n', net, 'addr', 'add', `${upstream}/24`, 'dev', 'ext']);
  await sh(['ip', '-n', net, 'link', 'set', 'ext', 'up']);
  for (const h of hosts) {
    const ns = `${lab.prefix}${h.tag}`;
    await sh(['ip', 'netns', 'add', ns]);
    await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    await sh(
      ['ip', 'link', 'add', 'eth0', 'netns', ns, 'mtu', '1600', 'type', 'veth'].concat([
        'peer',
        'name',
        `u-${h.tag}`,
        'netns',
        u,
        'mtu',
        '1600',
      ]),
    );
    await sh(['ip', '-n', u, 'link', 'set', `u-${h.tag}`, 'master', 'ul', 'up']);
    await sh(['ip', '-n', ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    if (h.ext === undefined) continue;
    await sh(
      ['ip', 'link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name'].concat([
        `x-${h.tag}`,
        'netns',
        net,
      ]),
    );
    await sh(['ip', '-n', net, 'link', 'set', `x-${h.tag}`, 'master', 'ext', 'up']);
    await sh(['ip', '-n', ns, 'link', 'set', 'eth1', 'up']);
  }
}

/** The upstream router's BIRD: sessions to both gateways, learned routes into its kernel
 * table (ECMP over both when they advertise the same prefix). */
export function upstreamConfig(hosts: readonly LabHost[], upstream: string): string {
  return [
    `router id ${upstream};`,
    'protocol device { scan time 10; }',
    'protocol kernel { ipv4 { import none; export all; }; merge paths on; }',
    // BFD with the gateways' timers: an uplink down is noticed in well under a second
    'protocol bfd { interface "*" { min rx interval 200 ms; min tx interval 200 ms; multiplier 3; }; }',
    ...hosts.flatMap((h) =>
      h.ext !== undefined
        ? [
            `protocol bgp ${h.tag} {`,
            `  local ${upstream} as 65000; neighbor ${h.ext} as 65001;`,
            '  hold time 9; keepalive time 3; connect delay time 1; error wait time 1, 10; bfd on;',
            '  ipv4 { import all; export none; };',
            '}',
          ]
        : [],
    ),
  ].join('\n');
}

/** The first namespace with `prefix` that holds `address` (`a.b.c.d/len`), '' when none. */
export async function nsWith(prefix: string, address: string): Promise<string> {
  for (const ns of await listNamespaces(prefix)) {
    const addrs = await sh(['ip', '-n', ns, '-4', '-o', 'addr', 'show']).catch(() => '');
    if (addrs.includes(` ${address}`)) return ns;
  }
  return '';
}

/** The tail of every agent's log (`agent-<tag>.log` in `dir`), for failure messages. */
export async function agentLogs(dir: string, hosts: readonly LabHost[]): Promise<string> {
  const out: string[] = [];
  for (const h of hosts) {
    const text = await readFile(join(dir, `agent-${h.tag}.log`), 'utf8').catch(() => '');
    out.push(`--- agent ${h.tag}\n${text.slice(-2000)}`);
  }
  return out.join('\n');
}
