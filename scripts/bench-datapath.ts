/**
 * Datapath benchmark: programs N bound ports on one host (a network namespace this script
 * creates and removes) and measures one security-group rule change end to end on the
 * datapath. Run as root: `npm run build && npx tsx scripts/bench-datapath.ts [ports=500]`.
 * Targets: 500 ports in ≤ 10 s; one SG rule change in ≤ 200 ms.
 *
 * `npx tsx scripts/bench-datapath.ts move [runs=5]`: the multi-host lab of
 * test/datapath-multihost.test.ts (API server, controller with --interval 1, three agents),
 * `runs` times; each run reports how long after the GNI file change the moved instance's port
 * was enslaved on its new host and the old host's VXLAN entry pointed to the new one.
 * Target: both within 1 s.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '../src/store/index.js';
import { runAgent, type PassResult } from '../src/datapath/index.js';
import { silentLogger } from '../src/common/index.js';
import { removeNamespaces } from '../test/helpers/netns.js';

const ROOT = new URL('..', import.meta.url).pathname;
const PORTS = Number(process.argv[2] ?? 500);
const PREFIX = process.env['EDPB_PREFIX'] ?? `edpb${process.pid}-`;
const HOST_NS = `${PREFIX}h`;
const NODE = '192.0.2.11';

function sh(argv: string[], input?: string): string {
  return execFileSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
}

/** A GNI with `ports` instances on one node: 10 VPCs × 5 subnets, 20 SGs with CIDR and group rules. */
function gni(ports: number, withRule: boolean): string {
  const vpcs = 10;
  const subnets = 5;
  const per = Math.ceil(ports / (vpcs * subnets));
  const hex = (n: number, w = 8): string => n.toString(16).padStart(w, '0');
  const out: string[] = [];
  const ids: string[] = [];
  const insts: string[] = [];
  let n = 0;
  const vpcXml: string[] = [];
  for (let v = 0; v < vpcs; v++) {
    const subs: string[] = [];
    for (let s = 0; s < subnets; s++) {
      subs.push(
        `<subnet name="subnet-${hex(v * 16 + s)}"><ownerId>1</ownerId><cidr>10.${v}.${s}.0/24</cidr><cluster>az1</cluster><networkAcl>acl-${hex(v)}</networkAcl><routeTable>rtb-${hex(v)}</routeTable></subnet>`,
      );
      for (let i = 0; i < per && n < ports; i++, n++) {
        const id = `i-${hex(n)}`;
        const mac = `d0:0d:${hex(n, 8).replace(/(..)(..)(..)(..)/, '$1:$2:$3:$4')}`;
        const ip = `10.${v}.${s}.${10 + i}`;
        const sg = `sg-${hex(n % 20)}`;
        ids.push(id);
        insts.push(
          `<instance name="${id}"><ownerId>1</ownerId><macAddress>${mac}</macAddress><privateIp>${ip}</privateIp><vpc>vpc-${hex(v)}</vpc><subnet>subnet-${hex(v * 16 + s)}</subnet><networkInterfaces><networkInterface name="eni-${hex(n)}"><ownerId>1</ownerId><deviceIndex>0</deviceIndex><attachmentId>eni-attach-${hex(n)}</attachmentId><macAddress>${mac}</macAddress><privateIp>${ip}</privateIp><sourceDestCheck>true</sourceDestCheck><vpc>vpc-${hex(v)}</vpc><subnet>subnet-${hex(v * 16 + s)}</subnet><securityGroups><value>${sg}</value></securityGroups></networkInterface></networkInterfaces><securityGroups><value>${sg}</value></securityGroups></instance>`,
        );
      }
    }
    const entry = (num: number, action: string): string =>
      `<entry number="${num}"><protocol>-1</protocol><action>${action}</action><cidr>0.0.0.0/0</cidr></entry>`;
    vpcXml.push(
      `<vpc name="vpc-${hex(v)}"><ownerId>1</ownerId><cidr>10.${v}.0.0/16</cidr><subnets>${subs.join('')}</subnets><networkAcls><networkAcl name="acl-${hex(v)}"><ownerId>1</ownerId><ingressEntries>${entry(100, 'allow')}${entry(32767, 'deny')}</ingressEntries><egressEntries>${entry(100, 'allow')}${entry(32767, 'deny')}</egressEntries></networkAcl></networkAcls><routeTables><routeTable name="rtb-${hex(v)}"><ownerId>1</ownerId><routes><route><destinationCidr>10.${v}.0.0/16</destinationCidr><gatewayId>local</gatewayId></route></routes></routeTable></routeTables><natGateways/><internetGateways/></vpc>`,
    );
  }
  const rule = (p: number, port: number, src: string): string =>
    `<rule><protocol>${p}</protocol><fromPort>${port}</fromPort><toPort>${port}</toPort>${src}</rule>`;
  const sgs: string[] = [];
  for (let g = 0; g < 20; g++) {
    const extra = g === 0 && withRule ? rule(6, 8443, '<cidr>10.0.0.0/8</cidr>') : '';
    sgs.push(
      `<securityGroup name="sg-${hex(g)}"><ownerId>1</ownerId><ingressRules>${rule(6, 22, '<cidr>10.0.0.0/8</cidr>')}${rule(6, 5432, `<groupId>sg-${hex((g + 1) % 20)}</groupId><groupOwnerId>1</groupOwnerId>`)}${extra}</ingressRules><egressRules><rule><protocol>-1</protocol><cidr>0.0.0.0/0</cidr></rule></egressRules></securityGroup>`,
    );
  }
  out.push(
    `<?xml version="1.0" encoding="UTF-8"?><network-data version="${withRule ? 'b1' : 'b2'}${ports}" applied-version="x" applied-time="2024-03-14T09:26:53Z"><configuration><property name="mode"><value>VPCMIDO</value></property><property name="publicIps"><value>198.51.100.10-198.51.100.40</value></property><property name="enabledCLCIp"><value>192.0.2.10</value></property><property name="instanceDNSDomain"><value>eucalyptus.internal</value></property><property name="instanceDNSServers"><value>192.0.2.53</value></property><property name="mido"><property name="gateways"><gateway><property name="ip"><value>192.0.2.21</value></property><property name="externalCidr"><value>198.51.100.0/24</value></property><property name="externalDevice"><value>eth1</value></property><property name="externalIp"><value>198.51.100.2</value></property><property name="externalRouterIp"><value>198.51.100.1</value></property></gateway></property><property name="eucanetdHost"><value>192.0.2.10</value></property></property><property name="clusters"><cluster name="az1"><subnet name="172.31.0.0"><property name="subnet"><value>172.31.0.0</value></property><property name="netmask"><value>255.255.0.0</value></property><property name="gateway"><value>172.31.0.1</value></property></subnet><property name="enabledCCIp"><value>192.0.2.12</value></property><property name="macPrefix"><value>d0:0d</value></property><property name="privateIps"><value>172.31.0.5</value></property><property name="nodes"><node name="${NODE}"><instanceIds>${ids.map((i) => `<value>${i}</value>`).join('')}</instanceIds></node></property></cluster></property></configuration><vpcs>${vpcXml.join('')}</vpcs><instances>${insts.join('')}</instances><dhcpOptionSets/><internetGateways/><securityGroups>${sgs.join('')}</securityGroups></network-data>`,
  );
  return out.join('');
}

function apply(file: string, store: string): void {
  sh([
    process.execPath,
    join(ROOT, 'bin/eucanetd'),
    'apply',
    '--gni',
    file,
    '--store',
    store,
    '--log-level',
    'error',
  ]);
}

async function inNamespace(dir: string): Promise<void> {
  const file = join(dir, 'gni.xml');
  const store = join(dir, 'store');
  writeFileSync(file, gni(PORTS, true));
  apply(file, store);
  const lines: string[] = [];
  for (let n = 0; n < PORTS; n++)
    lines.push(`link add vn_i-${n.toString(16).padStart(8, '0')} type veth peer name vp${n}`);
  sh(['ip', '-batch', '-'], lines.join('\n') + '\n');
  const reader = await openFileStore(store, { readOnly: true });
  const passes: PassResult[] = [];
  let onPass: (r: PassResult) => void = () => undefined;
  const controller = new AbortController();
  const t0 = performance.now();
  const firstPass = new Promise<number>(
    (resolve) => (onPass = () => resolve(performance.now() - t0)),
  );
  const agent = runAgent({
    store: reader,
    host: NODE,
    netnsPrefix: PREFIX,
    stateDir: join(dir, 'state'),
    logger: silentLogger(),
    signal: controller.signal,
    resyncMs: 600_000,
    register: false,
    onPass: (r) => {
      passes.push(r);
      onPass(r);
    },
  });
  const programMs = await firstPass;
  const programmed = passes[0]!;
  const changes: { latency: number; pass: number; actions: number; scope: string }[] = [];
  const phases: PassResult['phases'][] = [];
  for (let k = 0; k < 6; k++) {
    writeFileSync(file, gni(PORTS, k % 2 === 1));
    const before = passes.length;
    const next = new Promise<void>(
      (resolve) => (onPass = () => (passes.length > before ? resolve() : undefined)),
    );
    apply(file, store);
    const committed = performance.now();
    await next;
    const r = passes[passes.length - 1]!;
    changes.push({
      latency: performance.now() - committed,
      pass: r.durationMs,
      actions: r.actions.length,
      scope: r.scope,
    });
    phases.push(r.phases);
  }
  controller.abort();
  await agent;
  await reader.close();
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rules = sh(['nft', 'list', 'table', 'bridge', 'eucanetd'])
    .split('\n')
    .filter((l) => l.includes('comment "h')).length;
  process.stdout.write(
    JSON.stringify(
      {
        ports: PORTS,
        program_ms: Math.round(programMs),
        program_actions: programmed.actions.length,
        nft_rules: rules,
        sg_rule_change_commit_to_programmed_ms: {
          median: Math.round(med(changes.map((c) => c.latency))),
          all: changes.map((c) => Math.round(c.latency)),
        },
        sg_rule_change_pass_ms: {
          median: med(changes.map((c) => c.pass)),
          all: changes.map((c) => c.pass),
        },
        sg_rule_change_actions: changes.map((c) => c.actions),
        sg_rule_change_scopes: changes.map((c) => c.scope),
        sg_rule_change_phases_ms: phases,
        program_phases_ms: programmed.phases,
      },
      null,
      2,
    ) + '\n',
  );
}

async function main(): Promise<void> {
  const inside = process.env['EDPB_IN_NS'];
  if (inside) return inNamespace(inside);
  if (process.getuid?.() !== 0) throw new Error('run as root (it creates network namespaces)');
  const dir = mkdtempSync(join(tmpdir(), 'edpb-'));
  sh(['ip', 'netns', 'add', HOST_NS]);
  try {
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${HOST_NS}`,
        process.execPath,
        ...process.execArgv,
        new URL(import.meta.url).pathname,
        String(PORTS),
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, EDPB_IN_NS: dir, EDPB_PREFIX: PREFIX },
      },
    );
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) process.exitCode = 1;
  } finally {
    await removeNamespaces(PREFIX);
    void readFileSync;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function moveBench(runs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edpb-move-'));
  const out = join(dir, 'moves.jsonl');
  try {
    for (let k = 0; k < runs; k++) {
      execFileSync(
        'npx',
        ['mocha', '--no-config', '--node-option', 'import=tsx', '--extension', 'ts'].concat([
          '--timeout',
          '120000',
          join(ROOT, 'test/datapath-multihost.test.ts'),
        ]),
        { stdio: 'ignore', env: { ...process.env, EDPT_BENCH_OUT: out } },
      );
    }
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { moveMs: { h1: number; h2: number } }).moveMs);
    const both = rows.map((r) => Math.max(r.h1, r.h2)).sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        runs: rows.length,
        newHostMs: rows.map((r) => r.h1),
        oldHostMs: rows.map((r) => r.h2),
        bothMedianMs: both[Math.floor(both.length / 2)],
        bothMaxMs: both[both.length - 1],
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'move') await moveBench(Number(process.argv[3] ?? 5));
else await main();
