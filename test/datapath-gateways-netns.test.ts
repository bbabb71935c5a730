/**
 * Two gateway hosts with BGP, in namespaces this test creates and removes: an underlay bridge,
 * compute hosts 192.0.2.11/.12, gateway hosts 192.0.2.21/.22 whose external devices share the
 * segment 198.51.100.0/24 of an "internet" namespace, where the upstream router
 * (198.51.100.1, AS 65000) runs its own BIRD. The API server owns the store, the controller
 * writes fixtures/datapath/multi-gateway.xml through it, one agent per host. Checks: both
 * gateways' sessions establish and the upstream learns the public range from both, elastic IP
 * and NAT gateway traffic and metadata work; one gateway stopped (agent and speaker killed):
 * the upstream withdraws its routes and traffic moves to the other (measured); started again:
 * it rejoins (measured); the same with only its uplink down (BFD drops the session), and with
 * only its agent killed (its speaker dies with it).
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
  removeStaleLabs,
  sh,
  tcpConnects,
  tcpServer,
  waitFor,
  type Instance,
  type Lab,
} from './helpers/netns.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'fixtures/datapath/multi-gateway.xml');
const TOKEN = 'multigw-e2e-static-token-0001';
const HOSTS = [
  { tag: 'h1', ip: '192.0.2.11' },
  { tag: 'h2', ip: '192.0.2.12' },
  { tag: 'g1', ip: '192.0.2.21', ext: '198.51.100.2' },
  { tag: 'g2', ip: '192.0.2.22', ext: '198.51.100.3' },
] as const;
type HostTag = (typeof HOSTS)[number]['tag'];
const INSTANCES = [
  { name: 'a', host: 'h1' },
  { name: 'b', host: 'h2' },
  { name: 'c', host: 'h1' },
  { name: 'd', host: 'h2' },
] as const;
const EIP_A = '203.0.113.31';
const NAT_PUBLIC = '203.0.113.30';
const UPSTREAM = '198.51.100.1';
const MD_URL = 'http://169.254.169.254/latest/meta-data/instance-id';
const BACKEND = `const http=require('node:http');const fs=require('node:fs');const p=process.argv[1];try{fs.unlinkSync(p)}catch{};http.createServer((q,s)=>{s.end(String(q.headers['euca-instance-id']))}).listen(p)`;

/** The upstream router's BIRD: sessions to both gateways, learned routes into its kernel
 * table (ECMP over both when they advertise the same prefix). */
function upstreamConfig(): string {
  return [
    `router id ${UPSTREAM};`,
    'protocol device { scan time 10; }',
    'protocol kernel { ipv4 { import none; export all; }; merge paths on; }',
    // BFD with the gateways' timers: an uplink down is noticed in well under a second
    'protocol bfd { interface "*" { min rx interval 200 ms; min tx interval 200 ms; multiplier 3; }; }',
    ...HOSTS.flatMap((h) =>
      'ext' in h
        ? [
            `protocol bgp ${h.tag} {`,
            `  local ${UPSTREAM} as 65000; neighbor ${h.ext} as 65001;`,
            '  hold time 9; keepalive time 3; connect delay time 1; error wait time 1, 10; bfd on;',
            '  ipv4 { import all; export none; };',
            '}',
          ]
        : [],
    ),
  ].join('\n');
}

describe('datapath with two BGP gateway hosts (upstream BIRD, failover)', function () {
  this.timeout(400_000);
  let lab: Lab | undefined;
  const procs: ChildProcess[] = [];
  const agents = new Map<HostTag, ChildProcess>();
  const hostNs = (tag: HostTag): string => `${lab!.prefix}${tag}`;
  const netNs = (): string => `${lab!.prefix}net`;
  const inst = (name: string): Instance => lab!.instances.get(name)!;
  const dev = (name: string): string => `vn_i-0000010${name}`;
  const mac = (name: string): string => `d0:0d:00:00:01:0${name}`;
  let startAgent: (tag: HostTag) => void = () => undefined;
  const upstreamRoutes = async (): Promise<string> =>
    sh(['ip', '-n', netNs(), 'route', 'show', 'proto', 'bird']).catch(() => '');
  const fdb = async (tag: HostTag): Promise<string> =>
    sh(['ip', 'netns', 'exec', hostNs(tag), 'bridge', 'fdb', 'show']).catch(() => '');
  const birdc = async (cmd: string): Promise<string> =>
    sh(['birdc', '-s', join(lab!.dir, 'upstream.ctl'), ...cmd.split(' ')]).catch(() => '');

  const start = (name: string, argv: readonly string[]): ChildProcess => {
    const log = openSync(join(lab!.dir, `${name}.log`), 'a');
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', log, log] });
    closeSync(log);
    procs.push(child);
    return child;
  };
  const stop = async (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const logs = async (): Promise<string> => {
    const out: string[] = [];
    for (const h of HOSTS)
      out.push(
        `--- agent ${h.tag}\n${(await readFile(join(lab!.dir, `agent-${h.tag}.log`), 'utf8').catch(() => '')).slice(-2000)}`,
      );
    out.push(`--- upstream\n${await birdc('show protocols')}\n${await upstreamRoutes()}`);
    return out.join('\n');
  };

  before(async function () {
    const why =
      (await labUnavailable()) ??
      (existsSync(join(ROOT, 'dist/src/datapath/md-proxy.js'))
        ? undefined
        : 'run `npm run build` first');
    if (why || !existsSync('/usr/sbin/bird')) {
      this.skip();
      return;
    }
    await removeStaleLabs('mg');
    lab = await createLab('mg');
    const u = lab.hostNs;
    await sh(['ip', '-n', u, 'link', 'add', 'ul', 'type', 'bridge']);
    await sh(['ip', '-n', u, 'link', 'set', 'ul', 'up']);
    // the internet: the upstream router on a segment shared by both gateways' external devices
    await sh(['ip', 'netns', 'add', netNs()]);
    await sh(['ip', '-n', netNs(), 'link', 'set', 'lo', 'up']);
    await sh(['ip', '-n', netNs(), 'link', 'add', 'ext', 'type', 'bridge']);
    await sh(['ip', '-n', netNs(), 'addr', 'add', `${UPSTREAM}/24`, 'dev', 'ext']);
    await sh(['ip', '-n', netNs(), 'link', 'set', 'ext', 'up']);
    for (const h of HOSTS) {
      const ns = hostNs(h.tag);
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
      if (!('ext' in h)) continue;
      await sh(
        ['ip', 'link', 'add', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name'].concat([
          `x-${h.tag}`,
          'netns',
          netNs(),
        ]),
      );
      await sh(['ip', '-n', netNs(), 'link', 'set', `x-${h.tag}`, 'master', 'ext', 'up']);
      await sh(['ip', '-n', ns, 'link', 'set', 'eth1', 'up']);
    }
    await writeFile(join(lab.dir, 'upstream.conf'), upstreamConfig());
    start('upstream', [
      'ip',
      'netns',
      'exec',
      netNs(),
      'bird',
      '-f',
      '-c',
      join(lab.dir, 'upstream.conf'),
      '-s',
      join(lab.dir, 'upstream.ctl'),
      '-P',
      join(lab.dir, 'upstream.pid'),
    ]);
    procs.push(await echoServer(netNs(), 8080));
    for (const i of INSTANCES)
      await addInstance(lab, i.name, dev(i.name), mac(i.name), hostNs(i.host));

    const gni = join(lab.dir, 'gni.xml');
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
    start('controller', [process.execPath, cli, 'run', ...api, '--gni', gni, '--interval', '1']);
    startAgent = (tag) => {
      const h = HOSTS.find((x) => x.tag === tag)!;
      agents.set(
        tag,
        start(`agent-${tag}`, [
          'nsenter',
          `--net=/run/netns/${hostNs(tag)}`,
          process.execPath,
          cli,
          'agent',
          '--host',
          h.ip,
          ...api,
          '--netns-prefix',
          `${lab!.prefix}${tag}-`,
          '--state-dir',
          join(lab!.dir, `state-${tag}`),
          '--resync-interval',
          '2',
          '--metadata-backend',
          `unix:${mdSock}`,
        ]),
      );
    };
    for (const h of HOSTS) startAgent(h.tag);
    const ready = await waitFor(
      async () => {
        const routes = await upstreamRoutes();
        return (
          /203\.0\.113\.0\/24 [^\n]*\n\s*nexthop via 198\.51\.100\.2[^\n]*\n\s*nexthop via 198\.51\.100\.3/.test(
            routes,
          ) &&
          routes.includes(`${EIP_A} via`) &&
          routes.includes(`${NAT_PUBLIC} via`) &&
          (await fdb('h1')).includes(`${mac('b')} dev vx-`) &&
          (await fdb('h2')).includes(`${mac('a')} dev vx-`)
        );
      },
      150_000,
      300,
    );
    if (!ready) throw new Error(`gateways did not peer:\n${await logs()}`);
    procs.push(await tcpServer(inst('a'), [80]));
  });

  after(async function () {
    for (const child of procs.reverse()) await stop(child);
    procs.length = 0;
    if (lab && process.env['EDPT_KEEP'] !== '1') await destroyLab(lab);
  });

  it('establishes both sessions; the upstream learns the range from both gateways', async function () {
    const protocols = await birdc('show protocols');
    expect(protocols).to.match(/g1\s+BGP\s+---\s+up\s+\S+\s+Established/);
    expect(protocols).to.match(/g2\s+BGP\s+---\s+up\s+\S+\s+Established/);
    const routes = await upstreamRoutes();
    // ECMP over both gateways for the range, each public address from the gateway serving it
    expect(routes).to.match(/203\.0\.113\.0\/24 [^\n]*\n\s*nexthop via 198\.51\.100\.2/);
    expect(routes).to.match(/\n\s*nexthop via 198\.51\.100\.3/);
    expect(routes).to.match(
      new RegExp(`${EIP_A.replaceAll('.', '\\.')} via 198\\.51\\.100\\.[23]`),
    );
    expect(routes).to.match(
      new RegExp(`${NAT_PUBLIC.replaceAll('.', '\\.')} via 198\\.51\\.100\\.[23]`),
    );
  });

  it('carries elastic IP, NAT gateway and metadata traffic', async function () {
    const leases = await Promise.all(
      INSTANCES.map((i) =>
        waitFor(async () => (await dhcp(lab!, inst(i.name))) !== undefined, 30_000, 200),
      ),
    );
    expect(leases).to.deep.equal([true, true, true, true]);
    const net = { ns: netNs(), hostDev: 'ext', mac: '' };
    expect(await tcpConnects(net, EIP_A, 80, 2000), await logs()).to.equal(true);
    expect(await httpGet(inst('a').ns, `http://${UPSTREAM}:8080/`)).to.equal(EIP_A);
    expect(await httpGet(inst('d').ns, `http://${UPSTREAM}:8080/`)).to.equal(NAT_PUBLIC);
    expect(await httpGet(inst('b').ns, MD_URL)).to.equal('i-0000010b');
  });

  /** Stops the gateway serving the elastic IP's VPC router (`host`: agent and speaker killed,
   * uplink and underlay down, nothing crosses it any more; `uplink`: only its external device
   * down, the agent lives; `agent`: only the agent killed (a crash), its speaker must die with
   * it), measures the failover, brings it back and measures the rejoin. */
  const failover = async (
    how: 'host' | 'uplink' | 'agent',
  ): Promise<{ took: Record<string, number>; downInfo: string }> => {
    const servedBy = (await upstreamRoutes()).includes(`${EIP_A} via 198.51.100.2`) ? 'g1' : 'g2';
    const ext = servedBy === 'g1' ? '198.51.100.2' : '198.51.100.3';
    const otherExt = servedBy === 'g1' ? '198.51.100.3' : '198.51.100.2';
    const net = { ns: netNs(), hostDev: 'ext', mac: '' };
    const devs = how === 'host' ? ['eth1', 'eth0'] : how === 'uplink' ? ['eth1'] : [];
    const birdPid = Number(
      (await readFile(join(lab!.dir, `state-${servedBy}`, 'bird.pid'), 'utf8')).trim(),
    );
    const stoppedAt = Date.now();
    if (how === 'agent') await stop(agents.get(servedBy)!, 'SIGKILL');
    if (how === 'host') {
      const pid = Number(
        (await readFile(join(lab!.dir, `state-${servedBy}`, 'bird.pid'), 'utf8')).trim(),
      );
      await stop(agents.get(servedBy)!, 'SIGKILL');
      process.kill(pid, 'SIGKILL');
    }
    for (const d of devs) await sh(['ip', '-n', hostNs(servedBy), 'link', 'set', d, 'down']);
    const took = {
      withdrawnMs: -1,
      eipMs: -1,
      natMs: -1,
      mdMs: -1,
      eip32Ms: -1,
      rejoinMs: -1,
    };
    const since = (t0: number): number => Date.now() - t0;
    let downInfo = '';
    const recovered = await waitFor(
      async () => {
        if (took.withdrawnMs < 0 && !(await upstreamRoutes()).includes(ext)) {
          took.withdrawnMs = since(stoppedAt);
          downInfo = await birdc(`show protocols all ${servedBy}`);
        }
        if (took.eipMs < 0 && (await tcpConnects(net, EIP_A, 80, 500)))
          took.eipMs = since(stoppedAt);
        if (
          took.natMs < 0 &&
          (await httpGet(inst('d').ns, `http://${UPSTREAM}:8080/`, 500)) === NAT_PUBLIC
        )
          took.natMs = since(stoppedAt);
        if (took.mdMs < 0 && (await httpGet(inst('b').ns, MD_URL, 500)) === 'i-0000010b')
          took.mdMs = since(stoppedAt);
        // the survivor advertises the elastic IP once it sees the other gateway dead
        if (took.eip32Ms < 0 && (await upstreamRoutes()).includes(`${EIP_A} via ${otherExt}`))
          took.eip32Ms = since(stoppedAt);
        return Object.entries(took).every(([k, v]) => k === 'rejoinMs' || v >= 0);
      },
      120_000,
      50,
    );
    expect({ recovered, took }, await logs()).to.include({ recovered: true });
    if (how === 'agent') {
      // the kernel killed the crashed agent's speaker (a zombie until its reaper waits)
      const stat = await readFile(`/proc/${birdPid}/stat`, 'utf8').catch(() => '');
      expect(stat === '' || /^\d+ \(.*\) Z /.test(stat), stat).to.equal(true);
    }
    // the survivor now advertises every public address, and carries the elastic IP both ways
    const routes = await upstreamRoutes();
    expect(routes).not.to.include(ext);
    expect(routes).to.include(`${EIP_A} via ${otherExt}`);
    expect(routes).to.include(`${NAT_PUBLIC} via ${otherExt}`);
    expect(await httpGet(inst('a').ns, `http://${UPSTREAM}:8080/`)).to.equal(EIP_A);
    // back: the gateway rejoins and serves its routers again
    for (const d of [...devs].reverse())
      await sh(['ip', '-n', hostNs(servedBy), 'link', 'set', d, 'up']);
    const back = Date.now();
    if (how !== 'uplink') startAgent(servedBy);
    const rejoined = await waitFor(
      async () => (await upstreamRoutes()).includes(`${EIP_A} via ${ext}`),
      120_000,
      50,
    );
    took.rejoinMs = since(back);
    expect(rejoined, await logs()).to.equal(true);
    const out = process.env['EDPT_BENCH_OUT'];
    if (out) await writeFile(out, JSON.stringify({ how, ...took }) + '\n', { flag: 'a' });
    expect(await waitFor(() => tcpConnects(net, EIP_A, 80, 1000), 60_000, 200)).to.equal(true);
    expect(
      await waitFor(
        async () => (await httpGet(inst('d').ns, `http://${UPSTREAM}:8080/`)) === NAT_PUBLIC,
        60_000,
        200,
      ),
    ).to.equal(true);
    return { took, downInfo };
  };

  it('withdraws a stopped gateway, moves its traffic to the other, and takes it back', async function () {
    await failover('host');
  });

  it('does the same for a gateway whose uplink goes down while its agent lives (BFD)', async function () {
    const { took, downInfo } = await failover('uplink');
    // BFD, not the 9 s hold time, took the upstream's session down
    expect(downInfo, JSON.stringify(took)).to.match(/BFD session down/);
  });

  it('does the same for a gateway whose agent crashes (its speaker dies with it)', async function () {
    await failover('agent');
  });

  it('tears the lab down, speakers included', async function () {
    const pids: number[] = [];
    for (const tag of ['g1', 'g2'])
      pids.push(
        Number(
          (
            await readFile(join(lab!.dir, `state-${tag}`, 'bird.pid'), 'utf8').catch(() => '')
          ).trim(),
        ),
      );
    expect(pids.filter((p) => p > 0)).to.have.length(2);
    for (const child of procs.reverse()) await stop(child);
    procs.length = 0;
    await destroyLab(lab!);
    expect(await listNamespaces(lab!.prefix)).to.deep.equal([]);
    const alive: number[] = [];
    for (const p of pids) {
      const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
      if (stat !== '' && !/^\d+ \(.*\) Z /.test(stat)) alive.push(p);
    }
    expect(alive).to.deep.equal([]);
    lab = undefined;
  });
});
