/**
 * Reconcile benchmark on a generated document, run against the real daemon (`bin/eucanetd
 * run` in a child process, file store in a temp directory). Default: size L on the realistic
 * gateways (two gateways peering with the same upstream BGP router). Prints:
 *   - cold build into an empty store (the daemon's first cycle);
 *   - one added instance, one removed instance, one security-group rule changed, each end to
 *     end (rename of the new file → committed, i.e. the version file written right after the
 *     commit), `--rounds` of each (default 11: the first is reported apart, the median is over
 *     the rest), with the phases of each cycle from the daemon's own log line;
 *   - the daemon's resident memory over `--cycles` more changes (default 100), then once more
 *     after `--idle-s` seconds without a change (default 15; the daemon compacts its heap when
 *     idle), with the heap compactions of its log;
 *   - flush and rebuild (`eucanetd run -F --once`);
 *   - the floor of a change end to end, measured in a separate process of this script
 *     (`--floor DIR`, so this process's heap does not inflate it): the rename itself (the
 *     CLC's syscall, inside every end-to-end figure: on ext4 it frees the old document's blocks),
 *     the file watch noticing it (no debounce follows a rename), reading the document the
 *     daemon's way (two reused buffers), comparing it with the last one (a new version differs
 *     near the start), one fsynced commit of a small transaction and the version file (what a
 *     cycle cannot skip). The document's data is flushed in the background from the rename on,
 *     as the daemon does; the commit's fsync waits for what is left of that flush (on ext4 a
 *     commit after a rename writes the renamed file's data).
 *   - per change cycle, the size of its journal record (`journal_record`).
 * `--gni-dir DIR` puts the document (and the floor's) in a fresh directory under DIR instead of
 * next to the store: `--gni-dir /dev/shm` is the production layout, the cloud controller's
 * document on a tmpfs (`/var/run/eucalyptus`) and the store on disk. With the document on the
 * store's disk, each commit's fsync also waits for the device to write the document just renamed
 * (ext4 starts writing a file renamed over another at once; a flush waits for it): tens of ms at
 * 39 MiB. `--flush 0` skips the flush and rebuild. The daemon runs with the environment of
 * its systemd unit (packaging/systemd/eucanetd.service: `MALLOC_ARENA_MAX`, `NODE_OPTIONS`);
 * `--unit-env 0` runs it without.
 * Usage: npm run build && npx tsx scripts/bench-reconcile.ts [--size S|M|L|XL|25k] [--seed N]
 *          [--gateways shared-peer|mixed] [--rounds N] [--cycles N] [--debounce-ms N] [--idle-s N]
 *          [--gni-dir DIR] [--flush 0|1] [--unit-env 0|1]
 */
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watch } from 'chokidar';
import type { GlobalView } from '../src/gni/index.js';
import { writeGniXml } from '../src/gni/index.js';
import { DocumentBuffers, flushDocument } from '../src/reconciler/read-document.js';
import { openFileStore } from '../src/store/index.js';
import {
  cycleOf,
  Daemon,
  logLines,
  median,
  runCli,
  unitEnvironment,
  type CycleLine,
} from './lib/daemon-driver.js';
import { generateView, SIZES, type Size } from './lib/gni-generator.js';
import {
  addInstanceLike,
  changeSgRulePort,
  groupsWithPortRules,
  patchVersion,
  removeInstance,
  withVersion,
} from './lib/view-edits.js';
import { arg, load } from './lib/bench-cli.js';

const sizeArg = arg('size', 'L');
const instances = sizeArg === '25k' ? 25_000 : SIZES[sizeArg as Size];
const seed = Number(arg('seed', '1'));
const gateways = arg('gateways', 'shared-peer') as 'shared-peer' | 'mixed';
const rounds = Number(arg('rounds', '11'));
const cycles = Number(arg('cycles', '100'));
const debounceMs = Number(arg('debounce-ms', '20'));
/** Seconds to wait without a change after the RSS cycles before reading the RSS once more. */
const idleS = Number(arg('idle-s', '15'));
/** Where the document lives ('' = next to the store, on the temp directory's disk). */
const gniDir = arg('gni-dir', '');
const withFlush = arg('flush', '1') !== '0';
/** The daemon's environment: its systemd unit's (`--unit-env 1`, default) or none added. */
const daemonEnv = arg('unit-env', '1') !== '0' ? unitEnvironment() : {};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PHASES = ['read_ms', 'parse', 'scanned_kb', 'parse_ms', 'discover_ms', 'map_ms'];
const PHASES2 = ['diff_ms', 'apply_ms', 'total_ms', 'created', 'updated', 'deleted'];
function phases(c: CycleLine | undefined): string {
  if (c === undefined) return '(no log line)';
  return [...PHASES, ...PHASES2].map((p) => `${p}=${String(c[p])}`).join(' ');
}

let versionCounter = 0xb0000000;
const nextVersion = (): string => (versionCounter++).toString(16);

/** Runs `rounds` changes made by `edit` and prints their end-to-end figures. */
async function measure(
  daemon: Daemon,
  name: string,
  start: GlobalView,
  edit: (v: GlobalView, round: number) => GlobalView,
): Promise<{ view: GlobalView; median: number }> {
  let view = start;
  const times: number[] = [];
  const versions: string[] = [];
  const records: number[] = [];
  const journal = join(daemon.files.store, 'journal.log');
  for (let r = 0; r < rounds; r++) {
    const version = nextVersion();
    view = withVersion(edit(view, r), version);
    const xml = Buffer.from(writeGniXml(view));
    const before = statSync(journal).size;
    times.push(await daemon.change(xml, version));
    records.push(statSync(journal).size - before); // negative after a compaction
    versions.push(version);
  }
  await sleep(300); // the log file catches up
  const steady = times.slice(1);
  const m = median(steady);
  console.log(
    `${name}, rename → committed: first ${times[0]!.toFixed(0)} ms, then ${steady.map((t) => t.toFixed(0)).join(', ')} ms; median ${m.toFixed(1)} ms (load ${load()})`,
  );
  for (const [i, v] of versions.entries()) {
    const kb = records[i]! >= 0 ? `${(records[i]! / 1024).toFixed(1)} KiB` : '(compacted)';
    console.log(`  cycle ${v}: ${phases(cycleOf(daemon.files.log, v))} journal_record=${kb}`);
  }
  return { view, median: m };
}

/** Resident memory of the daemon over `cycles` alternating add/remove changes. */
async function soak(daemon: Daemon, view: GlobalView, template: GlobalView['instances'][number]) {
  const base = nextVersion();
  const added = addInstanceLike(withVersion(view, base), template, 'c0ffee01', 250);
  const docs = [
    Buffer.from(writeGniXml(added.view)),
    Buffer.from(writeGniXml(withVersion(view, base))),
  ];
  const rss: number[] = [];
  const times: number[] = [];
  const versions: string[] = [];
  const compactions = (): string[] =>
    logLines(daemon.files.log, 'heap compacted').map(
      (l) =>
        `${String(l['reason'])} ${String(l['duration_ms'])} ms (heap ${String(l['heap_before_mib'])} -> ${String(l['heap_after_mib'])} MiB)`,
    );
  const before = compactions().length;
  for (let c = 0; c < cycles; c++) {
    const version = nextVersion();
    times.push(await daemon.change(patchVersion(docs[c % 2]!, base, version), version));
    rss.push(daemon.rssMiB());
    versions.push(version);
  }
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const firstLast = (xs: number[]): string =>
    `${avg(xs.slice(0, 10)).toFixed(0)} -> ${avg(xs.slice(-10)).toFixed(0)}`;
  console.log(
    `daemon RSS over ${cycles} cycles (one instance added/removed): first ${rss[0]!.toFixed(0)} MiB, min ${Math.min(...rss).toFixed(0)}, max ${Math.max(...rss).toFixed(0)}, mean of first 10 -> of last 10 ${firstLast(rss)} MiB; cycle median ${median(times).toFixed(1)} ms (load ${load()})`,
  );
  // the daemon's own memory fields on its cycle lines (src/reconciler/heap.ts memoryFields)
  await sleep(300);
  const lines = versions.map((v) => cycleOf(daemon.files.log, v) ?? {});
  const field = (f: string): string => firstLast(lines.map((l) => Number(l[f] ?? NaN)));
  console.log(
    `  at each cycle's end, mean of first 10 -> of last 10 (MiB): rss ${field('rss_mib')}, heap committed ${field('heap_total_mib')}, heap used ${field('heap_used_mib')}, external ${field('external_mib')}, V8 malloced ${field('v8_malloced_mib')}`,
  );
  const during = compactions().length;
  if (process.env['BENCH_MEMORY_CSV']) {
    const cols = ['rss_mib', 'heap_total_mib', 'heap_used_mib', 'external_mib', 'v8_malloced_mib'];
    writeFileSync(
      process.env['BENCH_MEMORY_CSV'],
      [cols.join(','), ...lines.map((l) => cols.map((c) => String(l[c])).join(','))].join('\n'),
    );
  }
  if (idleS > 0) {
    // the daemon compacts its heap once idle (src/reconciler/heap.ts)
    await sleep(idleS * 1000);
    const all = compactions();
    const list = (xs: string[]): string => xs.join(', ') || 'none';
    console.log(
      `daemon RSS after ${idleS} s without a change: ${daemon.rssMiB().toFixed(0)} MiB; heap compactions before the RSS cycles: ${list(all.slice(0, before))}; during them: ${list(all.slice(before, during))}; since: ${list(all.slice(during))} (load ${load()})`,
    );
  }
}

/** What a change end to end cannot skip, measured here (see the header). */
async function floor(dir: string, xml: Buffer): Promise<void> {
  const fdir = join(dir, 'floor');
  mkdirSync(fdir);
  const docDir = gniDir === '' ? fdir : mkdtempSync(join(gniDir, 'bench-floor-'));
  const file = join(docDir, 'gni.xml');
  writeFileSync(file, xml);
  const watcher = watch(docDir, { depth: 0, ignoreInitial: true });
  await sleep(300);
  let seen: (() => void) | undefined;
  watcher.on('all', () => seen?.());
  const renameMs: number[] = [];
  const watchMs: number[] = [];
  const readMs: number[] = [];
  const cmpMs: number[] = [];
  const commitMs: number[] = [];
  const versionMs: number[] = [];
  const store = await openFileStore(join(fdir, 'store'));
  // a new document differs in its version attribute near the start, as the CLC's next one does
  // (the controller's compare stops there; an identical document is compared whole, then skipped)
  const other = Buffer.from(xml);
  const at = other.indexOf('version="') + 'version="'.length;
  other[at] = other[at] === 0x30 ? 0x31 : 0x30;
  const buffers = new DocumentBuffers();
  let last: Buffer | undefined;
  for (let r = 0; r < 11; r++) {
    writeFileSync(`${file}.temp`, r % 2 ? xml : other);
    await sleep(100);
    const noticed = new Promise<void>((res) => (seen = res));
    let t = performance.now();
    renameSync(`${file}.temp`, file);
    renameMs.push(performance.now() - t);
    t = performance.now();
    await noticed;
    watchMs.push(performance.now() - t);
    // as the daemon does: the new document's data goes to disk while it is read, compared and
    // committed (otherwise the commit's fsync writes it first, on ext4 after a rename)
    void flushDocument(file);
    t = performance.now();
    const bytes = await buffers.read(file);
    readMs.push(performance.now() - t);
    t = performance.now();
    if (last !== undefined) bytes.equals(last);
    cmpMs.push(performance.now() - t);
    buffers.release(last);
    last = bytes;
    t = performance.now();
    await store.transaction([
      {
        op: 'create',
        kind: 'ip-addr-group',
        object: { id: `floor-${r}`, name: `floor-${r}`, addresses: ['10.0.0.1'] } as never,
      },
    ]);
    commitMs.push(performance.now() - t);
    t = performance.now();
    await writeFile(join(fdir, 'version.tmp'), String(r));
    await rename(join(fdir, 'version.tmp'), join(fdir, 'version'));
    versionMs.push(performance.now() - t);
  }
  await watcher.close();
  await store.close();
  if (docDir !== fdir) rmSync(docDir, { recursive: true, force: true });
  // no debounce: the daemon starts the cycle at once when a file is renamed onto the path
  const parts = {
    rename: median(renameMs),
    watch: median(watchMs),
    read: median(readMs),
    compare: median(cmpMs),
    commit: median(commitMs),
    version: median(versionMs),
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  console.log(
    `floor of a change end to end (separate process): ${total.toFixed(1)} ms (medians of 11: ${Object.entries(
      parts,
    )
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')}) (load ${load()})`,
  );
}

/**
 * Runs `floor` in a fresh process of this script (`--floor DIR`), so the figures are not
 * inflated by this process's heap (the generated views and documents: GC pauses, page faults).
 */
async function floorInChild(dir: string, xml: Buffer): Promise<void> {
  const fdir = join(dir, 'floor-child');
  mkdirSync(fdir);
  writeFileSync(join(fdir, 'gni.xml'), xml);
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, '--floor', fdir, '--gni-dir', gniDir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((res) => child.on('exit', res));
  if (code !== 0) throw new Error(`floor process exited ${String(code)}`);
}

async function main(): Promise<void> {
  const floorDir = arg('floor', '');
  if (floorDir !== '') {
    // the child of floorInChild: only the floor, in a process holding nothing else
    await floor(floorDir, readFileSync(join(floorDir, 'gni.xml')));
    return;
  }
  if (instances === undefined) throw new Error(`unknown size ${sizeArg}`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-reconcile-'));
  const docDir = gniDir === '' ? dir : mkdtempSync(join(gniDir, 'bench-reconcile-gni-'));
  try {
    const view0 = generateView({ instances, seed, gateways });
    const files = {
      gni: join(docDir, 'global_network_info.xml'),
      store: join(dir, 'store'),
      log: join(dir, 'daemon.log'),
      versionFile: join(dir, 'global_network_info.version'),
    };
    const xml = Buffer.from(writeGniXml(view0));
    writeFileSync(files.gni, xml);
    const ifaces = view0.instances.reduce((n, i) => n + i.networkInterfaces.length, 0);
    console.log(
      `machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}; load ${load()}`,
    );
    console.log(`document in ${docDir}; store in ${files.store}`);
    const envText = Object.entries(daemonEnv).map(([k, v]) => `${k}=${v}`);
    console.log(`daemon environment: ${envText.join(' ') || '(none added: --unit-env 0)'}`);
    console.log(
      `document: size ${sizeArg} seed ${seed} gateways ${gateways}: ${view0.instances.length} instances, ${ifaces} interfaces, ${(xml.length / 2 ** 20).toFixed(1)} MiB XML; debounce ${debounceMs} ms (in-place writes; a rename starts the cycle at once)`,
    );

    const t = performance.now();
    const daemon = new Daemon(files, debounceMs, daemonEnv);
    await daemon.waitFor(view0.version!, 600_000, 10);
    const startMs = performance.now() - t;
    await sleep(300);
    const cold = cycleOf(files.log, view0.version!);
    console.log(
      `cold build (first cycle of the daemon): ${String(cold?.['total_ms'])} ms (${phases(cold)}); from process start ${startMs.toFixed(0)} ms; daemon RSS ${daemon.rssMiB().toFixed(0)} MiB (load ${load()})`,
    );

    // each change is made on the view the daemon applied last
    const templates = view0.instances.filter((i) => i.networkInterfaces.length === 1);
    const addedIds: string[] = [];
    const add = await measure(daemon, 'one added instance', view0, (v, r) => {
      const template = templates[(r * 97) % templates.length]!;
      const suffix = (0xa0000000 + r).toString(16);
      const out = addInstanceLike(v, template, suffix, 251 + (r % 4));
      addedIds.push(out.id);
      return out.view;
    });
    const removed = await measure(daemon, 'one removed instance', add.view, (v, r) =>
      removeInstance(v, addedIds[r]!),
    );
    const groups = groupsWithPortRules(view0, 3);
    const sg = await measure(daemon, 'one SG rule changed', removed.view, (v, r) =>
      changeSgRulePort(v, groups[(r * 31) % groups.length]!, 2000 + r),
    );
    console.log(
      `OVN comparison inputs (${sizeArg}): cold build ${String(cold?.['total_ms'])} ms; added ${add.median.toFixed(1)} ms; removed ${removed.median.toFixed(1)} ms; SG rule ${sg.median.toFixed(1)} ms (medians end to end); RSS ${daemon.rssMiB().toFixed(0)} MiB`,
    );
    if (cycles > 0) await soak(daemon, sg.view, templates[1]!);
    await daemon.stop();

    const soakLast = daemon.version();
    if (withFlush) await flushAndRebuild(files, soakLast);
    await floorInChild(dir, xml);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (docDir !== dir) rmSync(docDir, { recursive: true, force: true });
  }
}

/** `eucanetd run -F --once` on the daemon's files, and its log line. */
async function flushAndRebuild(
  files: { gni: string; store: string; log: string },
  soakLast: string | undefined,
): Promise<void> {
  await runCli(
    [
      'run',
      '--flush',
      '--yes',
      '--once',
      '--gni',
      files.gni,
      '--store',
      files.store,
      '--log-file',
      files.log,
    ],
    daemonEnv,
  );
  const flush = logLines(files.log, 'eucanetd flush and rebuild complete').at(-1);
  console.log(
    `flush and rebuild (run -F --once, document ${String(soakLast)}): ${String(flush?.['total_ms'])} ms, ${String(flush?.['deleted'])} deleted, ${String(flush?.['created'])} created; flush plan ${String(flush?.['flush_plan_ms'])} ms, flush ${String(flush?.['flush_ms'])}, rebuild map ${String(flush?.['map_ms'])}, plan ${String(flush?.['diff_ms'])}, apply ${String(flush?.['apply_ms'])} (load ${load()})`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
