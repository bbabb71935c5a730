/**
 * The daemon reports itself (real binary, output checked; issue 19 items 7, 9-12): JSON logs
 * off a terminal and human ones on it, the start line with program version and settings file,
 * unknown settings named, the success line carrying the version in its text, a periodic
 * report line, the log file reopened on SIGHUP, a status file and `eucanetd status`,
 * Prometheus metrics with /healthz and /readyz, a document changed under the same version
 * applied (not skipped), settings defaults, fatal errors printed once; the systemd units pass
 * `systemd-analyze verify`.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGniXml } from '../src/gni/index.js';
import { openFileStore } from '../src/store/index.js';
import { BIN, cli, cliBuilt, cliOnTerminal } from './helpers/cli.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import type { Doc } from './helpers/gni-doc.js';

const SMALL = repoPath('fixtures/gni/small.xml');
const VERSION = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string })
  .version;

async function until<T>(what: string, f: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ruleCount(store: string): Promise<number> {
  const s = await openFileStore(store, { readOnly: true });
  try {
    return (await s.list('rule')).length;
  } finally {
    await s.close();
  }
}

/** small.xml copied into `dir` (the daemon writes files beside its GNI: never in fixtures/). */
function copyOfSmall(dir: string): string {
  const path = join(dir, 'global_network_info.xml');
  copyFileSync(SMALL, path);
  return path;
}

type Line = Record<string, unknown> & { message: string };
const linesOf = (text: string): Line[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

describe('daemon reporting (real binary)', function () {
  this.timeout(180_000);
  let dir: string;
  let child: ChildProcess | undefined;
  before(function () {
    if (!cliBuilt()) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'daemon-report-'));
  });
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs, reports, serves metrics and status, reopens its log, applies same-version edits', async () => {
    const gni = join(dir, 'global_network_info.xml');
    const store = join(dir, 'store');
    const log = join(dir, 'eucanetd.log');
    const conf = join(dir, 'eucalyptus.conf');
    writeFileSync(conf, 'CC_PORT="8774"\nMIDO_MAX_RTD="5"\nPOLLING_FREQUENCY="30"\n');
    const write = (d: Doc): void => {
      writeFileSync(`${gni}.tmp`, writeGniXml(viewOf(d)));
      renameSync(`${gni}.tmp`, gni);
    };
    const doc = loadDoc(SMALL);
    write(doc);
    let stderr = '';
    child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        '--gni',
        gni,
        '--store',
        store,
        '--config',
        conf,
        '--log-file',
        log,
        '--metrics',
        '127.0.0.1:0',
        '--report-interval',
        '1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const started = await until('start line', () =>
      linesOf(stderr).find((l) => l.message === 'eucanetd started'),
    );
    expect(started).to.include({ program_version: VERSION, config: conf, interval_s: 30 });
    const unknown = linesOf(stderr).filter((l) => l.message === 'unknown setting');
    expect(unknown.map((l) => l['detail'])).to.deep.equal([
      'unknown setting MIDO_MAX_RTD (did you mean MIDO_MAX_RTID?); ignored',
    ]);
    await until('applied line', () =>
      linesOf(stderr).find((l) => l.message === `main loop complete, applied GNI ${doc.version}`),
    );
    // a report line every second, without any signal
    await until('two report lines', () =>
      linesOf(stderr).filter((l) => l.message === 'eucanetd report').length >= 2 ? true : false,
    );

    const url = String(started['metrics']);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).to.include('eucanetd_cycles_total{result="applied"} 1\n');
    expect(metrics).to.include(`eucanetd_objects{kind="rule"} ${await ruleCount(store)}\n`);
    expect(metrics).to.include(`eucanetd_last_applied_info{version="${doc.version}"} 1\n`);
    expect(metrics).to.include('eucanetd_held_entities 0\n');
    expect(metrics).to.include('eucanetd_phase_duration_seconds_count{phase="apply"} 1\n');
    expect(metrics).to.match(/^eucanetd_cycle_duration_seconds_count 1$/m);
    expect(metrics).to.match(/^eucanetd_last_applied_timestamp_seconds \d+/m);
    expect((await fetch(`${url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.text()]).to.deep.equal([200, 'ok\n']);
    expect((await fetch(`${url}/nope`)).status).to.equal(404);

    const status = cli(['status', '--gni', gni]);
    expect(status.status, status.stderr).to.equal(0);
    expect(status.stdout).to.match(
      new RegExp(`^eucanetd ${VERSION}: running \\(pid ${child.pid}, `),
    );
    expect(status.stdout).to.match(/last applied: GNI 5c1e9a3f .*: 190 created, 0 updated/);

    // same version, new content: applied with a warning, not skipped
    const rules = await ruleCount(store);
    const edited = structuredClone(doc);
    edited.securityGroups[0].ingressRules.push({
      protocol: 17,
      fromPort: 5000,
      toPort: 5001,
      cidr: '192.0.2.0/24',
    });
    write(edited);
    await until('same-version warning', () =>
      linesOf(stderr).find(
        (l) => l.message === 'GNI content changed but its version did not, applying it',
      ),
    );
    await until('second apply', () =>
      linesOf(stderr).filter((l) => l.message === `main loop complete, applied GNI ${doc.version}`)
        .length >= 2
        ? true
        : false,
    );
    expect(await ruleCount(store)).to.equal(rules + 1);

    // logrotate: the file is moved away, SIGHUP reopens it at the same path
    renameSync(log, `${log}.1`);
    child.kill('SIGHUP');
    await until(
      'reopened log file',
      () => existsSync(log) && readFileSync(log, 'utf8').includes('applied GNI'),
    );
    expect(readFileSync(`${log}.1`, 'utf8')).to.include('eucanetd started');

    child.kill('SIGTERM');
    expect(await new Promise((r) => child!.once('exit', r))).to.equal(0);
    const after = cli(['status', '--gni', gni]);
    expect(after.status).to.equal(3);
    expect(after.stdout).to.match(/: not running \(was pid \d+, stopped, /);
  });

  it('human log lines on a terminal, JSON otherwise', async function () {
    const store = join(dir, 'store');
    const SMALL = copyOfSmall(dir); // the daemon writes its version and status files beside it
    const tty = cliOnTerminal(['run', '--once', '--gni', SMALL, '--store', store], '', {
      env: { NO_COLOR: '1' },
    });
    if (tty === undefined) this.skip();
    expect(tty.status).to.equal(0);
    expect(tty.stdout).to.match(
      /^\d\d:\d\d:\d\d\.\d{3} info main loop complete, applied GNI 5c1e9a3f version=5c1e9a3f created=190 /m,
    );
    expect(tty.stdout).to.not.match(/^\{/m);
    const piped = cli(['run', '--once', '--gni', SMALL, '--store', store]);
    expect(piped.status).to.equal(0);
    const lines = linesOf(piped.stderr);
    expect(lines.map((l) => l.message)).to.include('main loop complete, applied GNI 5c1e9a3f');
    expect(
      piped.stderr
        .trim()
        .split('\n')
        .every((l) => l.startsWith('{')),
    ).to.equal(true);
  });

  it('settings: the default file when there is one, defaults otherwise; a missing --config is fatal once', () => {
    const store = join(dir, 'store');
    const root = join(dir, 'euca');
    const SMALL = copyOfSmall(dir);
    const none = cli(['run', '--once', '--gni', SMALL, '--store', store], {
      env: { EUCALYPTUS: root },
    });
    expect(none.status, none.stderr).to.equal(0);
    expect(linesOf(none.stderr).find((l) => l.message === 'eucanetd started')).to.include({
      config: '(defaults)',
      interval_s: 5,
    });
    mkdirSync(join(root, 'etc', 'eucalyptus'), { recursive: true });
    const file = join(root, 'etc', 'eucalyptus', 'eucalyptus.conf');
    writeFileSync(file, 'POLLING_FREQUENCY="7"\n');
    const found = cli(['run', '--once', '--gni', SMALL, '--store', store], {
      env: { EUCALYPTUS: root },
    });
    expect(linesOf(found.stderr).find((l) => l.message === 'eucanetd started')).to.include({
      config: file,
      interval_s: 7,
    });
    const missing = join(dir, 'nope.conf');
    const fatal = cli(['run', '--once', '--gni', SMALL, '--store', store, '--config', missing]);
    expect(fatal.status).to.equal(2); // the units do not restart on 2
    expect(fatal.stderr.split(`cannot read settings file ${missing}`)).to.have.length(2);
    expect(linesOf(fatal.stderr).map((l) => l.message)).to.deep.equal(['eucanetd failed']);
  });

  it('the systemd units pass systemd-analyze verify', function () {
    if (spawnSync('systemd-analyze', ['--version']).error) this.skip();
    const units = readdirSync(repoPath('packaging/systemd')).filter((f) => f.endsWith('.service'));
    expect(units.sort()).to.deep.equal([
      'eucanetd-agent.service',
      'eucanetd-api.service',
      'eucanetd.service',
    ]);
    for (const unit of units) {
      // the units name the installed binary; verify needs an executable there
      const text = readFileSync(repoPath(`packaging/systemd/${unit}`), 'utf8');
      expect(text).to.include('Wants=network-online.target');
      writeFileSync(join(dir, unit), text.replaceAll('/usr/local/sbin/eucanetd', BIN));
    }
    const controller = readFileSync(join(dir, 'eucanetd.service'), 'utf8');
    for (const key of [
      'StateDirectory=eucanetd',
      'RestartPreventExitStatus=2',
      'ProtectSystem=strict',
    ])
      expect(controller).to.include(key);
    const r = spawnSync('systemd-analyze', ['verify', ...units.map((u) => join(dir, u))], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
  });
});
