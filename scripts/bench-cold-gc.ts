/**
 * Garbage collection during the daemon's cold build, by phase: runs `eucanetd run --once` (the
 * built daemon, `npm run build` first) on a generated document into an empty file store with
 * `node --trace-gc-nvp`, then attributes every collection to the cycle phase it ran in (from the
 * cycle's log line: read, parse, discover, map, diff, apply) and prints per phase the scavenges
 * (count, pause, bytes that survived in the young generation and bytes promoted to the old one)
 * and the full mark-compacts (count, pause), with the process's CPU time and peak RSS. The
 * bytes are the GC's work and do not depend on the machine's load; the pauses do.
 * The daemon runs with its systemd unit's environment (`MALLOC_ARENA_MAX`, `NODE_OPTIONS`);
 * `--semi N` runs it with `--max-semi-space-size=N` instead of the unit's, `--node-args "..."`
 * adds V8 flags (e.g. `--single-threaded-gc`), `--runs N` repeats.
 * Usage: npm run build && npx tsx scripts/bench-cold-gc.ts [--size S|M|L|XL|25k] [--seed 1] [--semi N]
 *          [--node-args "..."] [--runs 1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeGniXml } from '../src/gni/index.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import { logLines, unitEnvironment } from './lib/daemon-driver.js';
import { arg, load } from './lib/bench-cli.js';

const BIN = fileURLToPath(new URL('../bin/eucanetd', import.meta.url));
const size = arg('size', 'L');
const semi = arg('semi', '');
const extra = arg('node-args', '')
  .split(' ')
  .filter((a) => a !== '');
const runs = Number(arg('runs', '1'));
const PHASES = ['read', 'parse', 'discover', 'map', 'diff', 'apply'] as const;

/** One phase's collections. */
interface Gc {
  scavenges: number;
  scavengeMs: number;
  survived: number;
  promoted: number;
  fullGcs: number;
  fullMs: number;
}

const num = (line: string, field: string): number =>
  Number(new RegExp(`[ ]${field}=([\\d.]+)`).exec(line)?.[1] ?? 0);

/** One cold build under `--trace-gc-nvp`; prints its figures. */
async function coldBuild(dir: string, gni: string, run: number): Promise<void> {
  const store = join(dir, `store-${run}`);
  const log = join(dir, `daemon-${run}.log`);
  const env: Record<string, string> = { ...unitEnvironment() };
  const nodeOptions = env['NODE_OPTIONS'] ?? '';
  if (semi !== '') env['NODE_OPTIONS'] = `--max-semi-space-size=${semi}`;
  // the GC trace's clock counts from the process's time origin: printed first, to anchor it
  const origin = `data:text/javascript,${encodeURIComponent(
    'process.stdout.write("ORIGIN " + performance.timeOrigin + "\\n")',
  )}`;
  const args = [...extra, '--trace-gc-nvp', `--import=${origin}`, BIN, 'run', '--once'];
  args.push('--gni', gni, '--store', store, '--log-file', log);
  const child = spawn('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`eucanetd run --once exited ${String(code)}: ${err}`);
  const time = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(err);
  const origin0 = Number(/ORIGIN ([\d.]+)/.exec(out)?.[1]);
  const cycle = logLines(log, 'main loop complete, applied GNI')[0];
  if (cycle === undefined || !Number.isFinite(origin0)) throw new Error('no cycle line or origin');
  const total = Number(cycle['total_ms']);
  let t = Date.parse(String(cycle['timestamp'])) - total;
  const spans = PHASES.map((p) => {
    const ms = Number(cycle[`${p}_ms`] ?? 0);
    const span = { name: p as string, from: t, to: t + ms, ms };
    t += ms;
    return span;
  });
  const byPhase = new Map<string, Gc>();
  for (const line of out.split('\n')) {
    const m = /\s(\d+) ms: pause=([\d.]+) .* gc=(\w+) /.exec(line);
    if (m === null) continue;
    const at = origin0 + Number(m[1]);
    const phase =
      spans.find((s) => at >= s.from && at < s.to)?.name ??
      (at < spans[0]!.from ? 'before' : 'after');
    const g = byPhase.get(phase) ?? {
      scavenges: 0,
      scavengeMs: 0,
      survived: 0,
      promoted: 0,
      fullGcs: 0,
      fullMs: 0,
    };
    if (m[3] === 's') {
      g.scavenges++;
      g.scavengeMs += Number(m[2]);
      g.survived += num(line, 'new_space_survived');
      g.promoted += num(line, 'promoted');
    } else {
      g.fullGcs++;
      g.fullMs += Number(m[2]);
    }
    byPhase.set(phase, g);
  }
  const MiB = (b: number): string => (b / 2 ** 20).toFixed(0);
  const env0 = semi !== '' ? `--max-semi-space-size=${semi}` : nodeOptions;
  console.log(
    `run ${run} [${[env0, ...extra].join(' ')}]: cold build ${total.toFixed(0)} ms; process wall ${time?.[1]} s, CPU ${(Number(time?.[2]) + Number(time?.[3])).toFixed(2)} s, peak RSS ${Math.round(Number(time?.[4]) / 1024)} MiB (load ${load()})`,
  );
  const sum: Gc = { scavenges: 0, scavengeMs: 0, survived: 0, promoted: 0, fullGcs: 0, fullMs: 0 };
  for (const p of ['before', ...PHASES, 'after']) {
    const g = byPhase.get(p);
    const ms = spans.find((s) => s.name === p)?.ms;
    if (g === undefined) continue;
    if (ms !== undefined) for (const k of Object.keys(sum) as (keyof Gc)[]) sum[k] += g[k];
    console.log(
      `  ${p.padEnd(8)} ${ms === undefined ? '     ' : ms.toFixed(0).padStart(5)} ms | scavenges ${g.scavenges}, ${g.scavengeMs.toFixed(0)} ms, survived ${MiB(g.survived)} MiB, promoted ${MiB(g.promoted)} MiB | mark-compacts ${g.fullGcs}, ${g.fullMs.toFixed(0)} ms`,
    );
  }
  console.log(
    `  in the cycle: scavenges ${sum.scavenges} (${sum.scavengeMs.toFixed(0)} ms; survived ${MiB(sum.survived)} MiB, promoted ${MiB(sum.promoted)} MiB), mark-compacts ${sum.fullGcs} (${sum.fullMs.toFixed(0)} ms): ${(((sum.scavengeMs + sum.fullMs) / total) * 100).toFixed(0)} % of the cold build`,
  );
  rmSync(store, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const instances = size === '25k' ? 25_000 : SIZES[size as Size];
  if (instances === undefined) throw new Error(`unknown size ${size}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-cold-gc-'));
  try {
    const view = generateView({
      instances,
      seed: Number(arg('seed', '1')),
      gateways: 'shared-peer',
    });
    const gni = join(dir, 'global_network_info.xml');
    const xml = writeGniXml(view);
    writeFileSync(gni, xml);
    console.log(
      `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; document ${size}: ${(xml.length / 2 ** 20).toFixed(1)} MiB (load ${load()})`,
    );
    for (let r = 1; r <= runs; r++) await coldBuild(dir, gni, r);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
