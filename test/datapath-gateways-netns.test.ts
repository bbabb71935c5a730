/**
 * Two gateway hosts with BGP, in namespaces this test creates and removes: an underlay bridge,
 * compute hosts 192.0.2.11/.12, gateway hosts 192.0.2.21/.22 whose external devices share the
 * segment 198.51.100.0/24 of an "internet" namespace, where the upstream router
 * (198.51.100.1, AS 65000) runs its own BIRD. The API server owns the store, the controller
 * writes fixtures/datapath/multi-gateway.xml through it, one agent per host. Checks: both
 * gateways peer, the upstream learns the range from both; EIP, NAT gateway and metadata work;
 * an EIP instance's flows leave through both gateways, answers crossing either (stateless
 * NAT); a gateway stopped: withdrawn, traffic moves (measured), long-lived connections on the
 * survivor never wait, the dead one's carry on; back: rejoins (measured), taking no busy flow;
 * the same with only its uplink down (BFD) or only its agent killed (BIRD dies with it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  carriers,
  conntrackFlush,
  conntrackPorts,
  crossedFlows,
  flowPaths,
  longestGap,
  longFlows,
  manyFlows,
  nextHops,
  readLongFlows,
  tcpEcho,
} from './helpers/flows.js';
import {
  agentLogs,
  buildGatewayNet,
  MD_BACKEND,
  nsWith,
  upstreamConfig,
} from './helpers/gateway-lab.js';
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
const PRIVATE_A = '10.20.1.10';
const EXT = { g1: '198.51.100.2', g2: '198.51.100.3' } as const;
const GWS = ['g1', 'g2'] as const;
/** Flows of the spreading check, long-lived connections of the failover and their port. */
const [FLOWS, LONG_FLOWS, LONG_PORT] = [32, 16, 9090] as const;
const MD_URL = 'http://169.254.169.254/latest/meta-data/instance-id';

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
  const vpcNsCache = new Map<string, string>();
  /** The VPC router's namespace on gateway `g` (it holds the subnet's router address). */
  const vpcNs = async (g: string): Promise<string> => {
    if (!vpcNsCache.has(g))
      vpcNsCache.set(g, await nsWith(`${lab!.prefix}${g}-r-`, '10.20.1.1/24'));
    return vpcNsCache.get(g)!;
  };
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
  const logs = async (): Promise<string> =>
    (await agentLogs(lab!.dir, HOSTS)) +
    `\n--- upstream\n${await birdc('show protocols')}\n${await upstreamRoutes()}`;

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
    await buildGatewayNet(lab, HOSTS, netNs(), UPSTREAM);
    await writeFile(join(lab.dir, 'upstream.conf'), upstreamConfig(HOSTS, UPSTREAM));
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
    procs.push(tcpEcho(netNs(), LONG_PORT));
    for (const i of INSTANCES)
      await addInstance(lab, i.name, dev(i.name), mac(i.name), hostNs(i.host));

    const gni = join(lab.dir, 'gni.xml');
    await writeFile(gni, await readFile(FIXTURE, 'utf8'));
    const tokenFile = join(lab.dir, 'tokens.json');
    await writeFile(tokenFile, JSON.stringify({ users: [], tokens: [TOKEN] }));
    const apiSock = join(lab.dir, 'api.sock');
    const mdSock = join(lab.dir, 'md.sock');
    const cli = join(ROOT, 'bin/eucanetd');
    start('backend', [process.execPath, '-e', MD_BACKEND, mdSock]);
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
        const hops = nextHops(await upstreamRoutes());
        return (
          hops.get('203.0.113.0/24')?.length === 2 &&
          hops.get(EIP_A)?.length === 2 &&
          hops.get(NAT_PUBLIC)?.length === 1 &&
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
    // ECMP over both gateways for the range and the elastic IP (every gateway translates it),
    // the NAT gateway's address from the one gateway serving its router
    const hops = nextHops(await upstreamRoutes());
    expect(hops.get('203.0.113.0/24')).to.deep.equal([EXT.g1, EXT.g2]);
    expect(hops.get(EIP_A)).to.deep.equal([EXT.g1, EXT.g2]);
    expect(hops.get(NAT_PUBLIC)).to.have.length(1);
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

  it("spreads an elastic IP instance's flows over both gateways, replies crossing either", async function () {
    for (const g of GWS) await conntrackFlush(await vpcNs(g));
    const flows = await manyFlows(inst('a').ns, `http://${UPSTREAM}:8080/`, FLOWS);
    expect(flows.map((f) => f.body)).to.deep.equal(flows.map(() => EIP_A));
    // the gateway each flow's first packet crossed (instance → internet), and the gateway
    // each flow's answer came back through (internet → elastic IP: the upstream's own hash)
    const nss = new Map<string, string>();
    for (const g of GWS) nss.set(g, await vpcNs(g));
    const addrs = { privateAddr: PRIVATE_A, publicAddr: EIP_A, upstream: UPSTREAM, dport: 8080 };
    const paths = await flowPaths(nss, addrs, new Set(flows.map((f) => f.port)));
    const counts = { g1: paths.out.get('g1')!.length, g2: paths.out.get('g2')!.length };
    expect(counts.g1 + counts.g2, JSON.stringify(counts)).to.equal(FLOWS);
    expect(counts.g1, JSON.stringify(counts)).to.be.above(0);
    expect(counts.g2, JSON.stringify(counts)).to.be.above(0);
    // some answers came back through the other gateway than their flow left by: stateless NAT
    const crossed = crossedFlows(paths);
    expect(crossed.length, JSON.stringify([...paths.back])).to.be.above(0);
    const bench = process.env['EDPT_BENCH_OUT'];
    if (bench)
      await writeFile(
        bench,
        JSON.stringify({ flows: FLOWS, out: counts, crossed: crossed.length }) + '\n',
        { flag: 'a' },
      );
  });

  /** Stops the gateway serving the elastic IP's VPC router (`host`: agent and speaker killed,
   * uplink and underlay down, nothing crosses it any more; `uplink`: only its external device
   * down, the agent lives; `agent`: only the agent killed (a crash), its speaker must die with
   * it), measures the failover, brings it back and measures the rejoin. */
  const failover = async (
    how: 'host' | 'uplink' | 'agent',
  ): Promise<{ took: Record<string, number>; downInfo: string }> => {
    // the gateway serving the NAT gateway's router (the elastic IP crosses both)
    const servedBy = nextHops(await upstreamRoutes()).get(NAT_PUBLIC)?.[0] === EXT.g1 ? 'g1' : 'g2';
    const survivor = servedBy === 'g1' ? 'g2' : 'g1';
    const ext = EXT[servedBy];
    const otherExt = EXT[survivor];
    // long-lived connections from the elastic IP instance, and the gateway each one crosses
    const status = join(lab!.dir, `long-${how}.json`);
    const long =
      how === 'host' ? longFlows(inst('a').ns, UPSTREAM, LONG_PORT, LONG_FLOWS, status) : undefined;
    if (long) procs.push(long);
    const carrier = new Map<number, string>();
    if (long) {
      expect(
        await waitFor(
          async () =>
            (await readLongFlows(status)).filter((f) => f.times.length > 3).length === LONG_FLOWS,
          30_000,
          200,
        ),
      ).to.equal(true);
      const nss = new Map<string, string>();
      for (const g of GWS) nss.set(g, await vpcNs(g));
      for (const [p, g] of await carriers(nss, PRIVATE_A, LONG_PORT)) carrier.set(p, g);
      expect(carrier.size, JSON.stringify([...carrier])).to.equal(LONG_FLOWS);
    }
    const net = { ns: netNs(), hostDev: 'ext', mac: '' };
    const devs = how === 'host' ? ['eth1', 'eth0'] : how === 'uplink' ? ['eth1'] : [];
    const birdPid = Number(
      (await readFile(join(lab!.dir, `state-${servedBy}`, 'bird.pid'), 'utf8')).trim(),
    );
    const stoppedAt = Date.now();
    if (how === 'agent') await stop(agents.get(servedBy)!, 'SIGKILL');
    if (how === 'host') {
      await stop(agents.get(servedBy)!, 'SIGKILL');
      process.kill(birdPid, 'SIGKILL');
    }
    for (const d of devs) await sh(['ip', '-n', hostNs(servedBy), 'link', 'set', d, 'down']);
    const took = {
      withdrawnMs: -1,
      eipMs: -1,
      natMs: -1,
      mdMs: -1,
      nat32Ms: -1,
      groupMs: -1,
      rejoinMs: -1,
    };
    const since = (t0: number): number => Date.now() - t0;
    const h1Vpc = await nsWith(`${lab!.prefix}h1-r-`, '10.20.1.1/24');
    let downInfo = '';
    let longGaps = {};
    // the upstream's routes are watched on their own (cheap, every 20 ms): the traffic probes
    // below take up to 0.5 s each, seconds on a loaded machine
    const routesWatch = waitFor(
      async () => {
        const routes = await upstreamRoutes();
        if (took.withdrawnMs < 0 && !routes.includes(ext)) {
          took.withdrawnMs = since(stoppedAt);
          downInfo = await birdc(`show protocols all ${servedBy}`);
        }
        // the survivor advertises the NAT gateway address once it sees the other gateway dead
        if (took.nat32Ms < 0 && nextHops(routes).get(NAT_PUBLIC)?.[0] === otherExt)
          took.nat32Ms = since(stoppedAt);
        // the compute host dropped the dead gateway's two nexthops from the elastic IP's group
        const group = await sh(['ip', '-n', h1Vpc, 'nexthop', 'show', 'id', '1000']).catch(
          () => '',
        );
        if (took.groupMs < 0 && /group \d+\/\d+ /.test(group)) took.groupMs = since(stoppedAt);
        return took.withdrawnMs >= 0 && took.nat32Ms >= 0 && took.groupMs >= 0;
      },
      120_000,
      20,
    );
    const recovered = await waitFor(
      async () => {
        if (took.eipMs < 0 && (await tcpConnects(net, EIP_A, 80, 500)))
          took.eipMs = since(stoppedAt);
        if (
          took.natMs < 0 &&
          (await httpGet(inst('d').ns, `http://${UPSTREAM}:8080/`, 500)) === NAT_PUBLIC
        )
          took.natMs = since(stoppedAt);
        if (took.mdMs < 0 && (await httpGet(inst('b').ns, MD_URL, 500)) === 'i-0000010b')
          took.mdMs = since(stoppedAt);
        return took.eipMs >= 0 && took.natMs >= 0 && took.mdMs >= 0;
      },
      120_000,
      50,
    );
    expect({ recovered: recovered && (await routesWatch), took }, await logs()).to.include({
      recovered: true,
    });
    if (how === 'agent') {
      // the kernel killed the crashed agent's speaker (a zombie until its reaper waits)
      const stat = await readFile(`/proc/${birdPid}/stat`, 'utf8').catch(() => '');
      expect(stat === '' || /^\d+ \(.*\) Z /.test(stat), stat).to.equal(true);
    }
    // the survivor now advertises every public address, and carries the elastic IP both ways
    const routes = await upstreamRoutes();
    expect(routes).not.to.include(ext);
    expect(nextHops(routes).get(EIP_A)).to.deep.equal([otherExt]);
    expect(nextHops(routes).get(NAT_PUBLIC)).to.deep.equal([otherExt]);
    expect(await httpGet(inst('a').ns, `http://${UPSTREAM}:8080/`)).to.equal(EIP_A);
    const recoveredAt = Date.now();
    if (long) {
      // every long-lived connection works on (stateless NAT: the dead gateway's ones too, once
      // they moved), and the survivor's ones never waited for the failover
      const allEchoing = async (): Promise<boolean> =>
        (await readLongFlows(status)).every((f) => !f.closed && f.times.at(-1)! > recoveredAt);
      expect(await waitFor(allEchoing, 30_000, 200), JSON.stringify(longGaps)).to.equal(true);
      const flows = await readLongFlows(status);
      const gaps = (g: string): number[] =>
        flows
          .filter((f) => carrier.get(f.port) === g)
          .map((f) => longestGap(f, stoppedAt, recoveredAt));
      const kept = gaps(survivor);
      const moved = gaps(servedBy);
      const keptGapMs = Math.max(...kept);
      longGaps = { keptGapMs, kept: kept.join(' '), moved: moved.join(' ') };
      expect(kept.length * moved.length, JSON.stringify(longGaps)).to.be.above(0);
      // they never waited for the compute host to drop the dead gateway (heartbeat TTL 3 s)
      expect(keptGapMs, JSON.stringify({ longGaps, took })).to.be.below(took.groupMs);
    }
    // back: the gateway rejoins and serves its routers again
    for (const d of [...devs].reverse())
      await sh(['ip', '-n', hostNs(servedBy), 'link', 'set', d, 'up']);
    const back = Date.now();
    if (how !== 'uplink') startAgent(servedBy);
    const rejoined = await waitFor(
      async () => {
        const hops = nextHops(await upstreamRoutes());
        return hops.get(NAT_PUBLIC)?.[0] === ext && hops.get(EIP_A)?.includes(ext) === true;
      },
      120_000,
      50,
    );
    took.rejoinMs = since(back);
    expect(rejoined, await logs()).to.equal(true);
    if (long) {
      // the returning gateway takes no busy flow back (resilient group, idle timer 10 s): its
      // VPC router sees none of the long-lived connections' outgoing packets
      await conntrackFlush(await vpcNs(servedBy));
      await new Promise((r) => setTimeout(r, 2000));
      const taken = await conntrackPorts(
        await vpcNs(servedBy),
        ['--orig-src', PRIVATE_A, '--dport', String(LONG_PORT)],
        'sport',
      );
      expect(taken).to.deep.equal([]);
      const now = Date.now() - 500;
      expect(
        (await readLongFlows(status)).every((f) => !f.closed && f.times.at(-1)! > now),
      ).to.equal(true);
      await stop(long);
    }
    const out = process.env['EDPT_BENCH_OUT'];
    if (out)
      await writeFile(out, JSON.stringify({ how, ...took, ...longGaps }) + '\n', { flag: 'a' });
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
