/**
 * End to end across hosts, in namespaces this test creates and removes: an underlay bridge in
 * its own namespace, two compute hosts and a gateway host on it, an "internet" namespace behind
 * the gateway's external device. The API server owns the store, the controller writes through
 * it, one agent per host reads through it (fixtures/datapath/multi-host.xml). Instances send
 * real packets; the metadata backend is a small HTTP server on a unix socket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  addInstance,
  createLab,
  destroyLab,
  dhcp,
  echoServer,
  httpGet,
  labUnavailable,
  listNamespaces,
  ping,
  removeStaleLabs,
  sh,
  tcpConnects,
  tcpServer,
  waitFor,
  type Instance,
  type Lab,
} from './helpers/netns.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'fixtures/datapath/multi-host.xml');
const TOKEN = 'multihost-e2e-static-token-0001';
const HOSTS = [
  { tag: 'h1', ip: '192.0.2.11' },
  { tag: 'h2', ip: '192.0.2.12' },
  { tag: 'gw', ip: '192.0.2.21' },
] as const;
type HostTag = (typeof HOSTS)[number]['tag'];
const INSTANCES = [
  { name: 'a', host: 'h1', ip: '10.20.1.10', gw: '10.20.1.1' },
  { name: 'b', host: 'h2', ip: '10.20.1.11', gw: '10.20.1.1' },
  { name: 'c', host: 'h1', ip: '10.20.2.10', gw: '10.20.2.1' },
  { name: 'd', host: 'h2', ip: '10.20.2.11', gw: '10.20.2.1' },
  // alone on the gateway (router) host in its subnet: the compute hosts' router copies send
  // into that subnet over VXLAN
  { name: 'e', host: 'gw', ip: '10.20.3.10', gw: '10.20.3.1' },
] as const;
const EIP_A = '203.0.113.31';
const NAT_PUBLIC = '203.0.113.30';
const UPSTREAM = '198.51.100.1';
const MD_URL = 'http://169.254.169.254/latest/meta-data/instance-id';

const NAT_MAC = 'd0:0d:00:00:0c:05';
// an instance forging frames: broadcast ARP requests (who-has TPA tell SPA) whose Ethernet and
// ARP sender is each forged MAC in turn, every 20 ms for the given seconds
// argv: device SPA TPA MAC... SECONDS
const FORGE = [
  'import socket,sys,time',
  'a=sys.argv[1:]',
  "ip=lambda t:bytes(int(x) for x in t.split('.'))",
  "macs=[bytes.fromhex(m.replace(':','')) for m in a[3:-1]]",
  'end=time.time()+float(a[-1])',
  's=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)',
  's.bind((a[0],0))',
  'while time.time()<end:',
  '  for m in macs:',
  '    arp=bytes([0,1,8,0,6,4,0,1])+m+ip(a[1])+bytes(6)+ip(a[2])',
  '    s.send((bytes([255]*6)+m+bytes([8,6])+arp).ljust(60,bytes(1)))',
  "  print('sending',flush=True)",
  '  time.sleep(0.02)',
].join('\n');

const BACKEND = `const http=require('node:http');const fs=require('node:fs');const p=process.argv[1];try{fs.unlinkSync(p)}catch{};http.createServer((q,s)=>{s.end(String(q.headers['euca-instance-id']))}).listen(p)`;

describe('datapath across hosts (2 compute hosts, a gateway host, internet, metadata)', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  const procs: ChildProcess[] = [];
  const agents = new Map<HostTag, ChildProcess>();
  const hostNs = (tag: HostTag): string => `${lab!.prefix}${tag}`;
  const netNs = (): string => `${lab!.prefix}net`;
  const inst = (name: string): Instance => lab!.instances.get(name)!;
  const dev = (name: string): string => `vn_i-0000010${name}`;
  const mac = (name: string): string => `d0:0d:00:00:01:0${name}`;
  let gni = '';

  const start = (name: string, argv: readonly string[]): ChildProcess => {
    const log = openSync(join(lab!.dir, `${name}.log`), 'a');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    procs.push(child);
    return child;
  };
  const stopAll = async (): Promise<void> => {
    for (const child of procs.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    procs.length = 0;
  };
  const fdb = async (tag: HostTag): Promise<string> =>
    sh(['ip', 'netns', 'exec', hostNs(tag), 'bridge', 'fdb', 'show']).catch(() => '');
  const logs = async (): Promise<string> => {
    const out: string[] = [];
    for (const h of HOSTS)
      out.push(
        `--- agent ${h.tag}\n${(await readFile(join(lab!.dir, `agent-${h.tag}.log`), 'utf8').catch(() => '')).slice(-3000)}`,
      );
    return out.join('\n');
  };

  before(async function () {
    const why =
      (await labUnavailable()) ??
      (existsSync(join(ROOT, 'dist/src/datapath/md-proxy.js'))
        ? undefined
        : 'run `npm run build` first');
    if (why) {
      this.skip();
      return;
    }
    await removeStaleLabs('mh'); // leftovers of a killed run (never those of a live one)
    lab = await createLab('mh'); // lab.hostNs is the underlay namespace
    const u = lab.hostNs;
    await sh(['ip', '-n', u, 'link', 'add', 'ul', 'type', 'bridge']);
    await sh(['ip', '-n', u, 'link', 'set', 'ul', 'up']);
    for (const h of HOSTS) {
      const ns = hostNs(h.tag);
      await sh(['ip', 'netns', 'add', ns]);
      await sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // an underlay with room for the VXLAN header
      await sh(
        [
          'ip',
          'link',
          'add',
          'eth0',
          'netns',
          ns,
          'mtu',
          '1600',
          'type',
          'veth',
          'peer',
          'name',
        ].concat([`u-${h.tag}`, 'netns', u, 'mtu', '1600']),
      );
      await sh(['ip', '-n', u, 'link', 'set', `u-${h.tag}`, 'master', 'ul', 'up']);
      await sh(['ip', '-n', ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
    }
    // the internet: the upstream router 198.51.100.1 behind the gateway's external device
    await sh(['ip', 'netns', 'add', netNs()]);
    await sh(['ip', '-n', netNs(), 'link', 'set', 'lo', 'up']);
    await sh(
      [
        'ip',
        'link',
        'add',
        'eth0',
        'netns',
        netNs(),
        'type',
        'veth',
        'peer',
        'name',
        'eth1',
      ].concat(['netns', hostNs('gw')]),
    );
    await sh(['ip', '-n', netNs(), 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'eth0']);
    await sh(['ip', '-n', netNs(), 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', netNs(), 'route', 'add', '203.0.113.0/24', 'via', '198.51.100.2']);
    await sh(['ip', '-n', hostNs('gw'), 'link', 'set', 'eth1', 'up']);
    procs.push(await echoServer(netNs(), 8080));
    for (const i of INSTANCES)
      await addInstance(lab, i.name, dev(i.name), mac(i.name), hostNs(i.host));

    gni = join(lab.dir, 'gni.xml');
    await writeFile(gni, await readFile(FIXTURE, 'utf8'));
    const tokenFile = join(lab.dir, 'tokens.json');
    await writeFile(tokenFile, JSON.stringify({ users: [], tokens: [TOKEN] }));
    const apiSock = join(lab.dir, 'api.sock');
    const mdSock = join(lab.dir, 'md.sock');
    const cli = join(ROOT, 'bin/eucanetd');
    start('backend', [process.execPath, '-e', BACKEND, mdSock]);
    start(
      'api',
      [process.execPath, cli, 'api', '--store', join(lab.dir, 'store')].concat([
        '--listen',
        `unix:${apiSock}`,
        '--token-file',
        tokenFile,
        '--log-level',
        'warn',
      ]),
    );
    if (!(await waitFor(async () => existsSync(apiSock), 15_000)))
      throw new Error('API server did not start');
    const api = ['--api', `unix:${apiSock}`, '--token-file', tokenFile];
    start(
      'controller',
      [process.execPath, cli, 'run', ...api, '--gni', gni, '--interval', '1'].concat([
        '--log-level',
        'warn',
      ]),
    );
    for (const h of HOSTS) {
      // nsenter: only the network namespace changes (see docs/datapath.md)
      agents.set(
        h.tag,
        start(`agent-${h.tag}`, [
          'nsenter',
          `--net=/run/netns/${hostNs(h.tag)}`,
          process.execPath,
          cli,
          'agent',
          '--host',
          h.ip,
          ...api,
          '--netns-prefix',
          `${lab.prefix}${h.tag}-`,
          '--state-dir',
          join(lab.dir, `state-${h.tag}`),
          '--metadata-backend',
          `unix:${mdSock}`,
        ]),
      );
    }
    // ready: every host forwards the other hosts' instance MACs over VXLAN (the agents run
    // at their default resync interval: changes are realized by the watch, not the period)
    const ready = await waitFor(
      async () => {
        const f = { h1: await fdb('h1'), h2: await fdb('h2'), gw: await fdb('gw') };
        return (
          HOSTS.every((h) =>
            INSTANCES.every((i) => i.host === h.tag || f[h.tag].includes(`${mac(i.name)} dev vx-`)),
          ) && existsSync(join(lab!.dir, 'state-gw', 'md-proxy.pid'))
        );
      },
      45_000,
      300,
    );
    if (!ready) throw new Error(`agents did not program the hosts:\n${await logs()}`);
    procs.push(await tcpServer(inst('a'), [80]));
  });

  after(async function () {
    await stopAll();
    if (lab && process.env['EDPT_KEEP'] !== '1') await destroyLab(lab); // EDPT_KEEP=1: inspect by hand
  });

  it('gives every instance its lease from its own host', async function () {
    const leases = await Promise.all(INSTANCES.map((i) => dhcp(lab!, inst(i.name))));
    INSTANCES.forEach((i, k) => {
      // the underlay (MTU 1600) leaves 1550 after VXLAN: the instance links' 1500 is offered
      expect(leases[k], `lease of ${i.name}`).to.include({
        ip: i.ip,
        mask: '24',
        router: i.gw,
        mtu: '1500',
      });
    });
  });

  it('forwards within a subnet and across subnets between the compute hosts', async function () {
    const r = await Promise.all([
      ping(inst('a'), '10.20.1.11'), // a (h1) → b (h2), same subnet
      ping(inst('b'), '10.20.1.10'),
      ping(inst('a'), '10.20.2.11'), // a (h1) → d (h2), other subnet
      ping(inst('d'), '10.20.1.10'),
      ping(inst('c'), '10.20.1.11'), // c (h1) → b (h2)
    ]);
    expect(r).to.deep.equal([true, true, true, true, true]);
    // every MAC is known: the hosts hold static entries for the remote ones, no flood entry
    const f1 = await fdb('h1');
    expect(f1).to.match(new RegExp(`${mac('b')} dev vx-\\S+ dst 192\\.0\\.2\\.12`));
    expect(f1).not.to.match(/00:00:00:00:00:00 dev vx-/);
  });

  it('reaches an instance alone on the gateway host from both compute hosts, both ways', async function () {
    const r = await Promise.all([
      ping(inst('a'), '10.20.3.10'), // a (h1, subnet 1) → e (gw, subnet 3)
      ping(inst('d'), '10.20.3.10'), // d (h2, subnet 2) → e
      ping(inst('e'), '10.20.1.11'), // e → b (h2)
      ping(inst('e'), '10.20.2.10'), // e → c (h1)
    ]);
    expect(r, await logs()).to.deep.equal([true, true, true, true]);
  });

  it('reaches an instance from the internet by its elastic IP, and shows that IP outbound', async function () {
    const net = { ns: netNs(), hostDev: 'eth0', mac: '' };
    expect(await ping(net, EIP_A)).to.equal(true);
    expect(await tcpConnects(net, EIP_A, 80, 2000)).to.equal(true);
    expect(await httpGet(inst('a').ns, `http://${UPSTREAM}:8080/`)).to.equal(EIP_A);
  });

  it('sends a subnet routed to the NAT gateway out with its public address', async function () {
    // d (h2) and c (h1) have no elastic IP; subnet-000000c2 routes 0/0 to nat-0000000c
    expect(await httpGet(inst('d').ns, `http://${UPSTREAM}:8080/`)).to.equal(NAT_PUBLIC);
    expect(await httpGet(inst('c').ns, `http://${UPSTREAM}:8080/`)).to.equal(NAT_PUBLIC);
    expect(await httpGet(inst('e').ns, `http://${UPSTREAM}:8080/`)).to.equal(NAT_PUBLIC);
    // and nobody reaches them from outside through that address
    const net = { ns: netNs(), hostDev: 'eth0', mac: '' };
    expect(await tcpConnects(net, NAT_PUBLIC, 80, 1000)).to.equal(false);
  });

  it('drops a private source at the uplink instead of sending it to the internet', async function () {
    // b (h2) has no public address and its subnet routes 0/0 to the internet gateway: the
    // internet counts every packet that arrives from the VPC's private range
    await sh(
      ['ip', 'netns', 'exec', netNs(), 'nft', '-f', '-'],
      'table ip leak {\n chain in {\n  type filter hook prerouting priority 0;\n  ip saddr 10.20.0.0/16 counter\n }\n}\n',
    );
    const out = await Promise.all([
      ping(inst('b'), UPSTREAM),
      httpGet(inst('b').ns, `http://${UPSTREAM}:8080/`, 1000),
    ]);
    const listing = await sh([
      'ip',
      'netns',
      'exec',
      netNs(),
      'nft',
      'list',
      'table',
      'ip',
      'leak',
    ]);
    expect(out).to.deep.equal([false, undefined]);
    expect(listing).to.match(/ip saddr 10\.20\.0\.0\/16 counter packets 0 bytes 0/);
    // a public source still goes out (a's elastic IP)
    expect(await httpGet(inst('a').ns, `http://${UPSTREAM}:8080/`)).to.equal(EIP_A);
  });

  it('answers 169.254.169.254 with the requesting instance id', async function () {
    const ids = await Promise.all(INSTANCES.map((i) => httpGet(inst(i.name).ns, MD_URL)));
    expect(ids).to.deep.equal(INSTANCES.map((i) => `i-0000010${i.name}`));
  });

  it("keeps the victims' traffic while an instance forges their source MACs", async function () {
    // a (h1, subnet 1) claims b's MAC (an instance on h2) and the NAT gateway's MAC; learning
    // is off on instance ports, so h1's bridge moves neither entry to a's port
    const forged = [mac('b'), NAT_MAC];
    const forger = spawn(
      'ip',
      [
        'netns',
        'exec',
        inst('a').ns,
        'python3',
        '-c',
        FORGE,
        'eth0',
        '10.20.1.11',
        '10.20.1.1',
      ].concat([...forged, '6']),
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const exited = new Promise((r) => forger.once('exit', r));
    const sending = new Promise<boolean>((resolve) => {
      forger.stdout!.once('data', () => resolve(true));
      forger.once('exit', () => resolve(false));
    });
    try {
      expect(await sending, 'the forger sends').to.equal(true);
      forger.stdout!.resume();
      await new Promise((r) => setTimeout(r, 300)); // a few hundred forged frames
      const during = await Promise.all([
        ping(inst('c'), '10.20.1.11'), // c (h1) → b (h2) through h1's bridge of subnet 1
        httpGet(inst('c').ns, `http://${UPSTREAM}:8080/`), // c → the NAT gateway on subnet 1
        ping(inst('d'), '10.20.1.11'), // d (h2) → b: the victim itself answers
      ]);
      const f1 = await fdb('h1');
      expect(forger.exitCode, 'the forger was still sending').to.equal(null);
      expect(during, await logs()).to.deep.equal([true, NAT_PUBLIC, true]);
      for (const m of forged) expect(f1).not.to.include(`${m} dev ${dev('a')} `);
      expect(f1).to.match(new RegExp(`${mac('b')} dev vx-\\S+ master \\S+ static`));
    } finally {
      forger.kill();
      await exited;
    }
  });

  it('moves an instance to another host with its connectivity', async function () {
    // the node controller moves b's interface to h1; the GNI then names h1 for b
    await sh(['ip', '-n', hostNs('h2'), 'link', 'set', dev('b'), 'netns', hostNs('h1')]);
    const text = await readFile(gni, 'utf8');
    const moved = text
      .replace(
        '<value>i-0000010a</value><value>i-0000010c</value>',
        '<value>i-0000010a</value><value>i-0000010b</value><value>i-0000010c</value>',
      )
      .replace(
        '<instanceIds><value>i-0000010b</value><value>i-0000010d</value>',
        '<instanceIds><value>i-0000010d</value>',
      )
      .replaceAll('mh000001', 'mh000002');
    expect(moved).not.to.equal(text);
    const changed = Date.now();
    await writeFile(gni, moved);
    // when each host's datapath had the move (not asserted here: scripts/bench-datapath.ts
    // move collects these figures through EDPT_BENCH_OUT)
    const seen = { h1: 0, h2: 0 };
    await waitFor(
      async () => {
        const [l1, f2] = await Promise.all([
          seen.h1 ? '' : sh(['ip', '-n', hostNs('h1'), 'link', 'show', dev('b')]).catch(() => ''),
          seen.h2 ? '' : fdb('h2'),
        ]);
        if (!seen.h1 && l1.includes('master eb-')) seen.h1 = Date.now() - changed;
        if (!seen.h2 && new RegExp(`${mac('b')} dev vx-\\S+ dst 192\\.0\\.2\\.11`).test(f2))
          seen.h2 = Date.now() - changed;
        return seen.h1 > 0 && seen.h2 > 0;
      },
      20_000,
      20,
    );
    const out = process.env['EDPT_BENCH_OUT'];
    if (out) await writeFile(out, JSON.stringify({ moveMs: seen }) + '\n', { flag: 'a' });
    const ok = await waitFor(
      async () =>
        (await fdb('h2')).match(new RegExp(`${mac('b')} dev vx-\\S+ dst 192\\.0\\.2\\.11`)) !==
          null && (await ping(inst('d'), '10.20.1.11')),
      20_000,
      200,
    );
    expect(ok, await logs()).to.equal(true);
    // every path of b settles (the gateway's FDB and metadata route follow the same change;
    // on a loaded machine they may land a little after h2's): wait for each, then assert all
    let md: string | undefined;
    const settled = await waitFor(
      async () => {
        md = await httpGet(inst('b').ns, MD_URL);
        return md === 'i-0000010b';
      },
      20_000,
      200,
    );
    const [ab, ba] = await Promise.all([
      waitFor(() => ping(inst('a'), '10.20.1.11'), 10_000, 200),
      waitFor(() => ping(inst('b'), '10.20.2.11'), 10_000, 200),
    ]);
    expect({ ab, ba, md, settled }, await logs()).to.deep.equal({
      ab: true,
      ba: true,
      md: 'i-0000010b',
      settled: true,
    });
    const fg = await fdb('gw');
    expect(fg).to.match(new RegExp(`${mac('b')} dev vx-\\S+ dst 192\\.0\\.2\\.11`));
  });

  it('tears the whole lab down cleanly', async function () {
    const pidFiles = HOSTS.map((h) => join(lab!.dir, `state-${h.tag}`));
    const pids: number[] = [];
    for (const d of pidFiles) {
      const out = await sh(['sh', '-c', `cat ${d}/*.pid 2>/dev/null || true`]);
      pids.push(...out.split(/\s+/).filter(Boolean).map(Number));
    }
    expect(pids.length).to.be.greaterThan(2); // dnsmasq on h1 and h2, the metadata proxy
    await stopAll();
    await destroyLab(lab!);
    expect(await listNamespaces(lab!.prefix)).to.deep.equal([]);
    // gone, or a zombie waiting for its (reparented) parent to reap it
    const alive: number[] = [];
    for (const p of pids) {
      const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
      if (stat !== '' && !/^\d+ \(.*\) Z /.test(stat)) alive.push(p);
    }
    expect(alive).to.deep.equal([]);
    lab = undefined;
  });
});
