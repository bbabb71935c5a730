/**
 * The real daemon: `node bin/eucanetd run` on temporary paths (needs `npm run build`).
 * Writes GNI files by rename as the cloud controller does, sees them applied, survives a
 * rejected document without deleting anything, refuses a second controller on the same store,
 * and stops cleanly on SIGTERM.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGniXml } from '../src/gni/index.js';
import { KINDS, openFileStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import type { Doc } from './helpers/gni-doc.js';

const BIN = repoPath('bin/eucanetd');

async function until<T>(
  what: string,
  f: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function idsIn(dir: string): Promise<string[]> {
  const reader = await openFileStore(dir, { readOnly: true });
  try {
    const ids: string[] = [];
    for (const kind of KINDS) for (const o of await reader.list(kind)) ids.push(`${kind}/${o.id}`);
    return ids.sort();
  } finally {
    await reader.close();
  }
}

/** The next document: version 0000beef, one more ingress rule (UDP 5000-5001) in the first
 * security group. */
function nextWithUdpRule(doc: Doc): Doc {
  const next = structuredClone(doc);
  next.version = '0000beef';
  next.securityGroups[0]!.ingressRules.push({
    protocol: 17,
    fromPort: 5000,
    toPort: 5001,
    cidr: '192.0.2.0/24',
  });
  return next;
}

describe('daemon (real binary)', function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  let stderr = '';

  before(function () {
    if (!existsSync(repoPath('dist/bin/cli.js'))) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eucanetd-daemon-'));
    stderr = '';
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies files written by rename, survives a rejected one, stops on SIGTERM', async () => {
    const gni = join(dir, 'global_network_info.xml');
    const versionFile = join(dir, 'global_network_info.version');
    const store = join(dir, 'store');
    const write = (d: Doc | string): void => {
      writeFileSync(`${gni}.temp`, typeof d === 'string' ? d : writeGniXml(viewOf(d)));
      renameSync(`${gni}.temp`, gni);
    };
    const doc = loadDoc(repoPath('fixtures/gni/small.xml'));
    write(doc);
    const pidfile = join(dir, 'eucanetd.pid');
    child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--gni',
        gni,
        '--store',
        store,
        '--interval',
        '30',
        '--log-level',
        'info',
        '--pidfile',
        pidfile,
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    await until(
      'first apply',
      () => existsSync(versionFile) && readFileSync(versionFile, 'utf8') === doc.version,
    );

    // a second controller on the same store is refused
    const second = spawnSync(
      process.execPath,
      [BIN, 'run', '--once', '--gni', gni, '--store', store],
      { encoding: 'utf8' },
    );
    expect(second.status).to.equal(1);
    expect(second.stderr).to.match(/in use/);

    // a new document, written by rename: picked up by the file watch long before the 30 s poll
    const next = nextWithUdpRule(doc);
    const t0 = Date.now();
    write(next);
    await until('second apply', () => readFileSync(versionFile, 'utf8') === '0000beef');
    expect(Date.now() - t0).to.be.lessThan(10_000);

    const reader = await openFileStore(store, { readOnly: true });
    const rulesBefore = (await reader.list('rule')).length;
    await reader.close();

    // a rejected document: logged, nothing deleted, version file unchanged
    write(
      '<network-data version="0000dead"><configuration><property name="mode"><value>EDGE</value></property>',
    );
    await until('rejection logged', () => stderr.includes('GNI rejected'));
    const reader2 = await openFileStore(store, { readOnly: true });
    expect((await reader2.list('rule')).length).to.equal(rulesBefore);
    await reader2.close();
    expect(readFileSync(versionFile, 'utf8')).to.equal('0000beef');

    expect(readFileSync(pidfile, 'utf8').trim()).to.equal(String(child.pid));
    // SIGUSR1 logs the counters; SIGHUP re-applies (a new cycle line, nothing to change)
    child.kill('SIGUSR1');
    await until('counters logged', () => stderr.includes('eucanetd report'));
    const cycles = (stderr.match(/main loop complete, applied GNI/g) ?? []).length;
    write(next);
    child.kill('SIGHUP');
    await until(
      're-apply after SIGHUP',
      () => (stderr.match(/main loop complete, applied GNI/g) ?? []).length > cycles,
    );

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code).to.equal(0);
    expect(stderr).to.include('main loop complete, applied GNI');
    expect(stderr).to.include('eucanetd down');
    // the heap is compacted after the first applied cycle only (the later ones are small)
    expect(stderr.match(/heap compacted/g) ?? []).to.have.length(1);
    expect(stderr).to.match(/heap compacted.*large cycle/);
    expect(existsSync(pidfile)).to.equal(false);

    // -F --once: flush everything and rebuild; the same objects (same ids) come back
    const before = await idsIn(store);
    const flush = spawnSync(
      process.execPath,
      [BIN, 'run', '-F', '--yes', '--once', '--gni', gni, '--store', store],
      {
        encoding: 'utf8',
      },
    );
    expect(flush.status, flush.stderr).to.equal(0);
    expect(flush.stderr).to.include('eucanetd flush and rebuild complete');
    expect(await idsIn(store)).to.deep.equal(before);
  });

  it('run -F takes its rebuild as the first cycle; a change after it is patched as a full recompute would', async () => {
    const gni = join(dir, 'global_network_info.xml');
    const versionFile = join(dir, 'global_network_info.version');
    const store = join(dir, 'store');
    const write = (d: Doc): void => {
      writeFileSync(`${gni}.temp`, writeGniXml(viewOf(d)));
      renameSync(`${gni}.temp`, gni);
    };
    const doc = loadDoc(repoPath('fixtures/gni/small.xml'));
    write(doc);
    const built = spawnSync(
      process.execPath,
      [BIN, 'run', '--once', '--gni', gni, '--store', store],
      {
        encoding: 'utf8',
      },
    );
    expect(built.status, built.stderr).to.equal(0);
    const before = await idsIn(store);
    rmSync(versionFile);

    child = spawn(
      process.execPath,
      // polled every second: the change below may come before the file watch is ready
      [BIN, 'run', '-F', '--yes', '--gni', gni, '--store', store, '--interval', '1'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    // the version file is written by the rebuild itself
    await until(
      'rebuild',
      () => existsSync(versionFile) && readFileSync(versionFile, 'utf8') === doc.version,
    );
    expect(stderr).to.include('eucanetd flush and rebuild complete');
    const next = nextWithUdpRule(doc);
    write(next);
    await until('change applied', () => readFileSync(versionFile, 'utf8') === '0000beef');
    // one cycle line: the change's (the first cycle found the rebuilt document unchanged)
    const cycles = stderr.match(/main loop complete, applied GNI [0-9a-f]+/g) ?? [];
    expect(cycles).to.deep.equal(['main loop complete, applied GNI 0000beef']);
    const line = stderr.split('\n').find((l) => l.includes('applied GNI 0000beef'))!;
    const cycle = JSON.parse(line) as Record<string, unknown>;
    expect([cycle['created'], cycle['updated'], cycle['deleted']]).to.deep.equal([1, 0, 0]);
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)))).to.equal(0);

    // a forced full cycle (a new process: discover, full map, full diff) finds nothing to do
    const full = spawnSync(
      process.execPath,
      [BIN, 'run', '--once', '--gni', gni, '--store', store, '--log-format', 'json'],
      { encoding: 'utf8' },
    );
    expect(full.status, full.stderr).to.equal(0);
    const fullLine = full.stderr.split('\n').find((l) => l.includes('applied GNI 0000beef'))!;
    const fullCycle = JSON.parse(fullLine) as Record<string, unknown>;
    expect([fullCycle['created'], fullCycle['updated'], fullCycle['deleted']]).to.deep.equal([
      0, 0, 0,
    ]);
    expect(fullCycle['resync']).to.equal(true);
    const after = await idsIn(store);
    expect(after.length).to.equal(before.length + 1);
    expect(after.filter((id) => !before.includes(id))[0]).to.match(/^rule\//);
  });
});
