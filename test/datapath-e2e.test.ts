/**
 * End to end, in namespaces this test creates and removes: the controller daemon applies
 * fixtures/datapath/one-host.xml to a store, the agent (run in a host namespace) programs
 * that namespace, and five instance namespaces send real packets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { readFile, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  addInstance,
  createLab,
  destroyLab,
  dhcp,
  firstFailure,
  labUnavailable,
  removeStaleLabs,
  ping,
  removeNamespaces,
  sh,
  tcpConnects,
  tcpServer,
  waitFor,
  type Instance,
  type Lab,
} from './helpers/netns.js';

const ROOT = new URL('..', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'fixtures/datapath/one-host.xml');
const NODE = '192.0.2.11';
const INSTANCES = [
  { name: 'a', dev: 'vn_i-0000000a', mac: 'd0:0d:00:00:00:0a', ip: '10.10.1.10', gw: '10.10.1.1' },
  { name: 'b', dev: 'vn_i-0000000b', mac: 'd0:0d:00:00:00:0b', ip: '10.10.1.11', gw: '10.10.1.1' },
  { name: 'c', dev: 'vn_i-0000000c', mac: 'd0:0d:00:00:00:0c', ip: '10.10.2.10', gw: '10.10.2.1' },
  { name: 'd', dev: 'vn_i-0000000d', mac: 'd0:0d:00:00:00:0d', ip: '10.30.1.10', gw: '10.30.1.1' },
  { name: 'e', dev: 'vn_i-0000000e', mac: 'd0:0d:00:00:00:0e', ip: '10.30.1.11', gw: '10.30.1.1' },
] as const;

describe('datapath agent end to end (one host, 2 VPCs, 3 subnets, 5 instances)', function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  let daemon: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  const servers: ChildProcess[] = [];
  const inst = (name: string): Instance => lab!.instances.get(name)!;
  let gni = '';
  let storeDir = '';
  let stateDir = '';

  let agentRuns = 0;
  const agentLog = (): string => join(lab!.dir, `agent-${agentRuns}.log`);
  const startAgent = async (): Promise<ChildProcess> => {
    agentRuns++;
    const log = openSync(agentLog(), 'a');
    // nsenter switches only the network namespace: `ip netns exec` would also give the agent a
    // private mount namespace, and the helper namespaces it adds would not outlive it
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${lab!.hostNs}`,
        process.execPath,
        join(ROOT, 'bin/eucanetd'),
        'agent',
        '--host',
        NODE,
        '--store',
        storeDir,
        '--netns-prefix',
        lab!.prefix,
        '--state-dir',
        stateDir,
        '--resync-interval',
        '1',
      ],
      { stdio: ['ignore', log, log] },
    );
    closeSync(log);
    return child;
  };
  const stop = async (child: ChildProcess | undefined): Promise<void> => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  const bridgeRules = async (): Promise<string> =>
    sh(['ip', 'netns', 'exec', lab!.hostNs, 'nft', 'list', 'table', 'bridge', 'eucanetd']);

  before(async function () {
    const why =
      (await labUnavailable()) ??
      (existsSync(join(ROOT, 'dist/bin/cli.js')) ? undefined : 'run `npm run build` first');
    if (why) {
      this.skip();
      return;
    }
    await removeStaleLabs('e2e'); // leftovers of a killed run (never those of a live one)
    lab = await createLab('e2e');
    gni = join(lab.dir, 'gni.xml');
    storeDir = join(lab.dir, 'store');
    stateDir = join(lab.dir, 'state');
    await copyFile(FIXTURE, gni);
    const dlog = openSync(join(lab.dir, 'daemon.log'), 'a');
    daemon = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/eucanetd'),
        'run',
        '--gni',
        gni,
        '--store',
        storeDir,
        '--interval',
        '1',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', dlog, dlog] },
    );
    closeSync(dlog);
    for (const i of INSTANCES) await addInstance(lab, i.name, i.dev, i.mac);
    await waitFor(async () => existsSync(storeDir), 10_000);
    agent = await startAgent();
    const ready = await waitFor(
      async () => (await bridgeRules().catch(() => '')).includes('ic_i-0000000e_postchain'),
      20_000,
      200,
    );
    if (!ready)
      throw new Error(
        `agent did not program the host: ${await readFile(agentLog(), 'utf8').catch(() => '')}`,
      );
    servers.push(
      await tcpServer(inst('a'), [80, 81, 8080]),
      await tcpServer(inst('c'), [5432, 9000]),
    );
  });

  after(async function () {
    for (const s of servers) s.kill('SIGKILL');
    await stop(agent);
    await stop(daemon);
    if (lab && process.env['EDPT_KEEP'] !== '1') await destroyLab(lab); // EDPT_KEEP=1: inspect by hand
  });

  it('gives every instance its address, gateway and DNS server by DHCP', async function () {
    const leases = await Promise.all(INSTANCES.map((i) => dhcp(lab!, inst(i.name))));
    INSTANCES.forEach((i, k) => {
      expect(leases[k], `lease of ${i.name}`).to.deep.equal({
        ip: i.ip,
        mask: '24',
        router: i.gw,
        dns: '192.0.2.53',
      });
    });
  });

  it('forwards within a subnet and across the subnets of one VPC, never between VPCs', async function () {
    const [ab, ac, ca, de, ad, da] = await Promise.all([
      ping(inst('a'), '10.10.1.11'),
      ping(inst('a'), '10.10.2.10'),
      ping(inst('c'), '10.10.1.10'),
      ping(inst('d'), '10.30.1.11'),
      ping(inst('a'), '10.30.1.10'),
      ping(inst('d'), '10.10.1.10'),
    ]);
    expect({ ab, ac, ca, de }).to.deep.equal({ ab: true, ac: true, ca: true, de: true });
    expect({ ad, da }).to.deep.equal({ ad: false, da: false });
  });

  it('lets through exactly the TCP ports the security groups allow, with return traffic', async function () {
    const r = await Promise.all([
      tcpConnects(inst('b'), '10.10.1.10', 80), // web ingress CIDR rule
      tcpConnects(inst('b'), '10.10.1.10', 81), // no rule
      tcpConnects(inst('a'), '10.10.2.10', 5432), // db ingress group rule: a is in web
      tcpConnects(inst('b'), '10.10.2.10', 5432), // b is not in web
      tcpConnects(inst('b'), '10.10.1.10', 8080), // web allows 8080, b's egress does not
      tcpConnects(inst('c'), '10.10.1.10', 8080), // c's egress allows everything
    ]);
    // replies come back although no ingress rule allows them: return flows
    expect(r).to.deep.equal([true, false, true, false, false, true]);
  });

  it('blocks a network ACL deny entry that the security group would allow', async function () {
    expect(await tcpConnects(inst('a'), '10.10.2.10', 9000)).to.equal(false);
    expect(await tcpConnects(inst('a'), '10.10.2.10', 5432)).to.equal(true);
  });

  it('drops an instance that forges its source IP or MAC', async function () {
    const b = inst('b');
    await sh(['ip', '-n', b.ns, 'addr', 'add', '10.10.1.99/24', 'dev', 'eth0']);
    expect(await ping(b, '10.10.1.10', '10.10.1.99')).to.equal(false);
    expect(await ping(b, '10.10.1.10')).to.equal(true);
    await sh(['ip', '-n', b.ns, 'addr', 'del', '10.10.1.99/24', 'dev', 'eth0']);
    await sh(['ip', '-n', b.ns, 'link', 'set', 'eth0', 'address', 'd0:0d:00:00:00:99']);
    await sh(['ip', '-n', inst('a').ns, 'neigh', 'flush', 'dev', 'eth0']);
    expect(await ping(b, '10.10.1.10')).to.equal(false);
    await sh(['ip', '-n', b.ns, 'link', 'set', 'eth0', 'address', 'd0:0d:00:00:00:0b']);
    expect(await waitFor(() => ping(b, '10.10.1.10'), 5000)).to.equal(true);
  });

  // The change-to-packet latency target (< 2 s) is measured by scripts/bench-datapath-latency.ts
  // (docs/benchmarks.md), not here: a wall-clock limit in a test fails on a loaded machine. This
  // test checks that the removal reaches the packets end to end (file -> controller -> agent -> nft).
  it('blocks traffic once a security-group rule is removed from the GNI', async function () {
    expect(await tcpConnects(inst('b'), '10.10.1.10', 80)).to.equal(true);
    const probe = firstFailure(inst('b'), '10.10.1.10', 80);
    await new Promise((r) => setTimeout(r, 300)); // the prober is connecting successfully
    const doc = await readFile(gni, 'utf8');
    const rule80 =
      /\s*<rule>\s*<protocol>6<\/protocol>\s*<fromPort>80<\/fromPort>\s*<toPort>80<\/toPort>\s*<cidr>10\.10\.0\.0\/16<\/cidr>\s*<\/rule>/;
    expect(rule80.test(doc)).to.equal(true);
    const changed = Date.now();
    await writeFile(gni, doc.replace(rule80, '').replace(/dp000001/g, 'dp000002'));
    const failedAt = await Promise.race([
      probe.done,
      new Promise<number>((r) => setTimeout(() => r(Infinity), 10_000)),
    ]);
    probe.child.kill('SIGKILL');
    expect(
      failedAt - changed,
      'ms from the GNI write to the first refused connection',
    ).to.be.lessThan(10_000);
    expect(await tcpConnects(inst('b'), '10.10.1.10', 80)).to.equal(false);
    expect(await tcpConnects(inst('c'), '10.10.1.10', 8080)).to.equal(true);
  });

  it('restarts without duplicating a rule or disturbing DHCP and traffic', async function () {
    const before = await bridgeRules();
    const pids = (await sh(['sh', '-c', `cat ${stateDir}/dhcp-*.pid`]))
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    await stop(agent);
    agent = await startAgent();
    const passes = async (): Promise<number> =>
      (await readFile(agentLog(), 'utf8').catch(() => '')).split('"datapath pass"').length - 1;
    expect(await waitFor(async () => (await passes()) >= 2, 10_000, 200)).to.equal(true);
    const after = await bridgeRules();
    const strip = (t: string): string => t.replace(/# handle \d+/g, '');
    expect(strip(after)).to.equal(strip(before));
    const comments = [...after.matchAll(/comment "(h[0-9a-f]+)"/g)].map((m) => m[1]);
    expect(comments.length).to.be.greaterThan(50);
    const afterPids = (await sh(['sh', '-c', `cat ${stateDir}/dhcp-*.pid`]))
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    expect(afterPids).to.deep.equal(pids);
    expect(await ping(inst('a'), '10.10.2.10')).to.equal(true);
  });

  it('restores an nftables rule deleted by hand', async function () {
    const chain = 'sg_ingress_sg-0000a003';
    const listing = await sh([
      'ip',
      'netns',
      'exec',
      lab!.hostNs,
      'nft',
      '-a',
      'list',
      'chain',
      'bridge',
      'eucanetd',
      chain,
    ]);
    const line = listing.split('\n').find((l) => l.includes('@iag_sg_all_sg-0000a001'));
    const handle = /# handle (\d+)/.exec(line ?? '')?.[1];
    expect(handle, listing).to.be.a('string');
    await sh([
      'ip',
      'netns',
      'exec',
      lab!.hostNs,
      'nft',
      'delete',
      'rule',
      'bridge',
      'eucanetd',
      chain,
      'handle',
      handle!,
    ]);
    expect(await tcpConnects(inst('a'), '10.10.2.10', 5432)).to.equal(false);
    const restored = await waitFor(
      async () => (await bridgeRules()).includes('@iag_sg_all_sg-0000a001'),
      15000, // the 1 s periodic full pass repairs it; generous for loaded CI machines
      100,
    );
    expect(restored).to.equal(true);
    expect(await waitFor(() => tcpConnects(inst('a'), '10.10.2.10', 5432), 10000)).to.equal(true);
  });
});
