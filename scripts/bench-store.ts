/**
 * Store benchmark. Prints objects/s for the memory backend (large transactions), the file
 * backend (transactions of 1,000, fsync on), and the reopen time and resident memory of a
 * 500,000-object file store (measured in a fresh child process).
 * Usage: npx tsx scripts/bench-store.ts [--objects N] [--reopen-objects N] [--keep]
 *        (internal: --reopen DIR, run in the child)
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryStore,
  openFileStore,
  type Op,
  type TopologyStore,
} from '../src/store/index.js';
import { numArg } from './lib/bench-cli.js';

/**
 * Ops for one "interface" of a cloud: a bridge port, a security-group chain with three rules,
 * and an IP address group the rules match (6 objects); one bridge per 50 interfaces.
 */
function unitOps(u: number): Op[] {
  const ops: Op[] = [];
  const b = `b-${Math.floor(u / 50)}`;
  if (u % 50 === 0)
    ops.push({
      op: 'create',
      kind: 'bridge',
      object: { id: b, name: b, adminStateUp: true },
    } as Op);
  const c = `c-${u}`;
  const g = `g-${u}`;
  ops.push(
    {
      op: 'create',
      kind: 'port',
      object: {
        id: `p-${u}`,
        type: 'Bridge',
        bridgeId: b,
        adminStateUp: true,
        interfaceName: `vn_eni-${u}`,
        portGroupIds: [],
      },
    } as Op,
    {
      op: 'create',
      kind: 'ip-addr-group',
      object: { id: g, name: `sg-${u}`, addresses: ['10.0.0.1', '10.0.0.2'] },
    } as Op,
    { op: 'create', kind: 'chain', object: { id: c, name: `sg_ingress_${u}`, metadata: [] } } as Op,
  );
  for (let r = 0; r < 3; r++) {
    ops.push({
      op: 'create',
      kind: 'rule',
      object: {
        id: `r-${u}-${r}`,
        chainId: c,
        type: 'accept',
        nwProto: 6,
        tpDst: { start: 22 + r, end: 22 + r },
        ipAddrGroupSrc: g,
      },
    } as Op);
  }
  return ops;
}

interface Timing {
  objects: number;
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of this process (user + system): less sensitive to a shared, loaded machine. */
  cpu: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Transactions of about `txSize` ops holding at least `objects` objects (built before timing). */
function batches(objects: number, txSize: number): Op[][] {
  const out: Op[][] = [];
  let batch: Op[] = [];
  let n = 0;
  for (let u = 0; n < objects; u++) {
    const ops = unitOps(u);
    batch.push(...ops);
    n += ops.length;
    if (batch.length >= txSize || n >= objects) {
      out.push(batch);
      batch = [];
    }
  }
  return out;
}

/** Commits the transactions of `batches(objects, txSize)` one after the other. */
async function load(store: TopologyStore, objects: number, txSize: number): Promise<Timing> {
  const txs = batches(objects, txSize);
  const started = process.hrtime.bigint();
  const cpu0 = cpuSeconds();
  for (const ops of txs) await store.transaction(ops);
  const written = txs.reduce((n, ops) => n + ops.length, 0);
  return {
    objects: written,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    cpu: cpuSeconds() - cpu0,
  };
}

function rate(r: Timing): string {
  const f = (n: number): string => Math.round(n).toLocaleString('en-US');
  return `${r.objects} objects in ${r.seconds.toFixed(2)} s wall (${r.cpu.toFixed(2)} s CPU) = ${f(r.objects / r.seconds)} objects/s wall, ${f(r.objects / r.cpu)} per CPU-second`;
}

async function reopenChild(dir: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const cpu0 = cpuSeconds();
  const store = await openFileStore(dir, { readOnly: true });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = cpuSeconds() - cpu0;
  const count = (
    await Promise.all(
      ['port', 'chain', 'rule', 'ip-addr-group', 'bridge'].map((k) => store.list(k as 'port')),
    )
  ).reduce((n, l) => n + l.length, 0);
  gc?.();
  const rss = process.memoryUsage().rss;
  process.stdout.write(
    JSON.stringify({ seconds, cpu, count, baseRss: base, rss, perObject: (rss - base) / count }) +
      '\n',
  );
  await store.close();
}

async function main(): Promise<void> {
  const reopenIdx = process.argv.indexOf('--reopen');
  if (reopenIdx >= 0) return reopenChild(process.argv[reopenIdx + 1]!);
  const objects = numArg('objects', 200_000);
  const reopenObjects = numArg('reopen-objects', 500_000);

  const mem = createMemoryStore();
  const memResult = await load(mem, objects, 10_000);
  console.log(`memory backend, transactions of ~10,000 ops: ${rate(memResult)}`);
  const t0 = process.hrtime.bigint();
  for (const k of ['bridge', 'port', 'chain', 'rule', 'ip-addr-group'] as const) await mem.list(k);
  console.log(
    `memory backend, first list of every kind: ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`,
  );
  const latencies: number[] = [];
  for (let k = 0; k < 20; k++) {
    const ops: Op[] = [];
    for (let u = 1_000_000 + k * 200; ops.length < 1000; u++) ops.push(...unitOps(u));
    const t = process.hrtime.bigint();
    await mem.transaction(ops);
    latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `memory backend, 1,000-op transaction on a ${memResult.objects}-object store: median ${latencies[10]!.toFixed(1)} ms, min ${latencies[0]!.toFixed(1)} ms`,
  );
  const t1 = process.hrtime.bigint();
  await mem.transaction(
    Array.from(
      { length: 1000 },
      (_, i) => ({ op: 'delete', kind: 'chain', id: `c-${i}`, ignoreMissing: true }) as Op,
    ),
  );
  console.log(
    `memory backend, 1,000 chain deletes (cascading 3,000 rules): ${(Number(process.hrtime.bigint() - t1) / 1e6).toFixed(1)} ms`,
  );
  await mem.close();

  const dir = await mkdtemp(join(tmpdir(), 'bench-store-'));
  try {
    const file = await openFileStore(dir);
    const fileResult = await load(file, Math.min(objects, 100_000), 1000);
    console.log(`file backend, transactions of ~1,000 ops, fsync on: ${rate(fileResult)}`);
    await file.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const keep = process.argv.includes('--keep');
  const big = await mkdtemp(join(tmpdir(), 'bench-store-big-'));
  try {
    const store = await openFileStore(big, { fsync: false, snapshotEvery: 1_000_000 });
    const r = await load(store, reopenObjects, 10_000);
    await store.close();
    // one more commit with snapshotEvery 1 compacts: the reopen then reads the snapshot
    const compactor = await openFileStore(big, { snapshotEvery: 1 });
    await compactor.transaction([
      { op: 'create', kind: 'host', object: { id: 'h-0', name: 'h-0', addresses: [] } } as Op,
    ]);
    await compactor.close();
    console.log(
      `file backend, built ${r.objects} objects (fsync off) in ${r.seconds.toFixed(1)} s`,
    );
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', import.meta.filename, '--reopen', big],
      { encoding: 'utf8' },
    );
    if (child.status !== 0) throw new Error(child.stderr);
    const m = JSON.parse(child.stdout) as {
      seconds: number;
      cpu: number;
      count: number;
      baseRss: number;
      rss: number;
      perObject: number;
    };
    console.log(
      `file backend, reopen ${m.count} objects: ${m.seconds.toFixed(2)} s wall (${m.cpu.toFixed(2)} s CPU); RSS ${(m.baseRss / 2 ** 20).toFixed(0)} MiB base → ${(m.rss / 2 ** 20).toFixed(0)} MiB (${Math.round(m.perObject)} bytes/object)`,
    );
  } finally {
    if (keep) console.log(`kept ${big}`);
    else await rm(big, { recursive: true, force: true });
  }
}

await main();
