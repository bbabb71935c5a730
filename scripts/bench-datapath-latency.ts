/**
 * Change-to-packet latency of the datapath agent at its default resync interval (10 s): a
 * host namespace with two instances of fixtures/datapath/one-host.xml (a 10.10.1.10 serving
 * TCP 80, b 10.10.1.11 probing it every 20 ms), the agent in-process on a memory store, and
 * N changes (default 20) committed at random moments (0-3 s apart, so some land while a
 * periodic or event pass runs): each removes or restores the security-group rule that allows
 * port 80. A change's latency runs from the start of the controller's reconcile (mapping and
 * commit included) to the start of the first probe that sees the new verdict (for a removal:
 * the first of three failing probes in a row). Target: every change under 2 s.
 *
 * Run as root: `npx tsx scripts/bench-datapath-latency.ts [changes=20]`. Namespaces are
 * named `edpl<pid>-*` and removed at the end.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { silentLogger } from '../src/common/index.js';
import { runAgent } from '../src/datapath/index.js';
import { readGni } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/cycle.js';
import { createMemoryStore } from '../src/store/index.js';
import { removeNamespaces } from '../test/helpers/netns.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CHANGES = Number(process.argv[2] ?? 20);
const PREFIX = process.env['EDPL_PREFIX'] ?? `edpl${process.pid}-`;
const HOST_NS = `${PREFIX}h`;
const NODE = '192.0.2.11';
const A = { ns: `${PREFIX}ia`, dev: 'vn_i-0000000a', mac: 'd0:0d:00:00:00:0a', ip: '10.10.1.10' };
const B = { ns: `${PREFIX}ib`, dev: 'vn_i-0000000b', mac: 'd0:0d:00:00:00:0b', ip: '10.10.1.11' };
const RULE80 =
  /\s*<rule>\s*<protocol>6<\/protocol>\s*<fromPort>80<\/fromPort>\s*<toPort>80<\/toPort>\s*<cidr>10\.10\.0\.0\/16<\/cidr>\s*<\/rule>/;

const SERVER = `require('node:net').createServer(s=>{s.on('error',()=>{});s.end('ok')}).listen(80,'0.0.0.0')`;
// every 20 ms a new connection (a new flow: the filters decide), 300 ms timeout; prints
// "<start ms> <1|0>"
const PROBER = `const net=require('node:net');setInterval(()=>{const t=Date.now();let d=false;const s=net.connect({host:process.argv[1],port:80});const end=(ok)=>{if(d)return;d=true;s.destroy();console.log(t+' '+(ok?1:0))};s.setTimeout(300,()=>end(false));s.on('data',()=>end(true));s.on('error',()=>end(false))},20)`;

function sh(argv: string[]): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
}

function viewOf(text: string, version: number) {
  const read = readGni(text.replace(/dp000001/g, `dp${String(version).padStart(6, '0')}`));
  if (!read.view) throw new Error(`fixture rejected: ${JSON.stringify(read.issues.slice(0, 2))}`);
  return read.view;
}

/** The probe results after `from`, as they arrive. */
class Probes {
  private readonly rows: { t: number; ok: boolean }[] = [];
  private waiter: (() => void) | undefined;
  constructor(child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [t, ok] = line.split(' ');
      this.rows.push({ t: Number(t), ok: ok === '1' });
      this.waiter?.();
    });
  }
  /** Start time of the first probe started at or after `from` that shows `allowed` (for a
   * block: three failing probes in a row); undefined after `timeoutMs`. */
  async verdict(from: number, allowed: boolean, timeoutMs: number): Promise<number | undefined> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const rows = this.rows.filter((r) => r.t >= from).sort((a, b) => a.t - b.t);
      for (let i = 0; i < rows.length; i++) {
        if (allowed && rows[i]!.ok) return rows[i]!.t;
        if (
          !allowed &&
          rows.slice(i, i + 3).length === 3 &&
          rows.slice(i, i + 3).every((r) => !r.ok)
        )
          return rows[i]!.t;
      }
      if (Date.now() > until) return undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 50);
      });
    }
  }
}

async function inNamespace(dir: string): Promise<void> {
  const text = readFileSync(join(ROOT, 'fixtures/datapath/one-host.xml'), 'utf8');
  if (!RULE80.test(text)) throw new Error('one-host.xml has no TCP 80 rule to toggle');
  const store = createMemoryStore();
  let version = 1;
  await reconcileView(store, viewOf(text, version), DEFAULT_MAPPING_CONFIG);
  const passes: { end: number; ms: number }[] = [];
  const controller = new AbortController();
  let firstPass: () => void = () => undefined;
  const programmed = new Promise<void>((r) => (firstPass = r));
  const agent = runAgent({
    store,
    host: NODE,
    netnsPrefix: PREFIX,
    stateDir: join(dir, 'state'),
    logger: silentLogger(),
    signal: controller.signal,
    register: false, // default resync interval (10 s)
    onPass: (r) => {
      passes.push({ end: Date.now(), ms: r.durationMs });
      firstPass();
    },
  });
  const procs: ChildProcess[] = [];
  try {
    await programmed;
    procs.push(
      spawn('ip', ['netns', 'exec', A.ns, process.execPath, '-e', SERVER], { stdio: 'ignore' }),
    );
    const prober = spawn('ip', ['netns', 'exec', B.ns, process.execPath, '-e', PROBER, A.ip], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    procs.push(prober);
    const probes = new Probes(prober);
    if ((await probes.verdict(Date.now(), true, 15_000)) === undefined)
      throw new Error('b never reached a:80 after the first pass');
    const rows: { latencyMs: number | null; change: string; duringPass: boolean }[] = [];
    let allowed = true;
    for (let k = 0; k < CHANGES; k++) {
      await new Promise((r) => setTimeout(r, Math.random() * 3000));
      allowed = !allowed;
      version++;
      const t0 = Date.now();
      await reconcileView(
        store,
        viewOf(allowed ? text : text.replace(RULE80, ''), version),
        DEFAULT_MAPPING_CONFIG,
      );
      const committed = Date.now();
      const seen = await probes.verdict(t0, allowed, 10_000);
      // a pass was running when the change committed (its end is after, its start before)
      const duringPass = passes.some((p) => p.end >= committed && p.end - p.ms <= committed);
      rows.push({
        latencyMs: seen === undefined ? null : seen - t0,
        change: allowed ? 'rule restored' : 'rule removed',
        duringPass,
      });
    }
    const lat = rows.map((r) => r.latencyMs ?? Infinity).sort((a, b) => a - b);
    process.stdout.write(
      JSON.stringify(
        {
          machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
          changes: rows.length,
          resync_interval_s: 10,
          latency_ms: rows.map((r) => r.latencyMs),
          median_ms: lat[Math.floor(lat.length / 2)],
          max_ms: lat[lat.length - 1],
          under_2s: rows.filter((r) => r.latencyMs !== null && r.latencyMs < 2000).length,
          committed_during_a_pass: rows.filter((r) => r.duringPass).length,
          passes: passes.length,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    controller.abort();
    await agent;
    await store.close();
  }
}

async function main(): Promise<void> {
  const inside = process.env['EDPL_IN_NS'];
  if (inside) return inNamespace(inside);
  if (process.getuid?.() !== 0) throw new Error('run as root (it creates network namespaces)');
  const dir = mkdtempSync(join(tmpdir(), 'edpl-'));
  try {
    sh(['ip', 'netns', 'add', HOST_NS]);
    for (const i of [A, B]) {
      sh(['ip', 'netns', 'add', i.ns]);
      sh(
        ['ip', 'link', 'add', 'eth0', 'netns', i.ns, 'address', i.mac, 'type', 'veth'].concat([
          'peer',
          'name',
          i.dev,
          'netns',
          HOST_NS,
        ]),
      );
      sh(['ip', '-n', i.ns, 'link', 'set', 'lo', 'up']);
      sh(['ip', '-n', i.ns, 'addr', 'add', `${i.ip}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', i.ns, 'link', 'set', 'eth0', 'up']);
    }
    const child = spawn(
      'nsenter',
      [`--net=/run/netns/${HOST_NS}`, process.execPath, ...process.execArgv].concat([
        new URL(import.meta.url).pathname,
        String(CHANGES),
      ]),
      { stdio: 'inherit', env: { ...process.env, EDPL_IN_NS: dir, EDPL_PREFIX: PREFIX } },
    );
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) process.exitCode = 1;
  } finally {
    await removeNamespaces(PREFIX);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
