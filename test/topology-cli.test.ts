/**
 * `eucanetd topology list|show` as an operator uses them (real binary, output checked; issue
 * 19 item 8): kinds in plural and any case, --owner and --name filters, sorted by the names
 * the plan prints, -o wide|json, show by those names (rules `<chain>#<n>`, ports
 * `<device>:…`), --api against a real API server, and clear errors instead of stack traces.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, cliBuilt } from './helpers/cli.js';
import { repoPath } from './helpers/gni-doc.js';

const SMALL = repoPath('fixtures/gni/small.xml');

describe('topology list/show (real binary)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  let api: ChildProcess | undefined;
  before(function () {
    if (!cliBuilt()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'topology-cli-'));
    store = join(dir, 'store');
    expect(cli(['apply', '--gni', SMALL, '--store', store]).status).to.equal(0);
  });
  after(() => {
    if (api && api.exitCode === null) api.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('takes plurals and any case, sorts by name, filters by owner and name prefix', () => {
    for (const kind of ['routers', 'Router', 'ROUTER']) {
      const r = cli(['topology', 'list', kind, '--store', store]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.equal(
        [
          'NAME               OWNER         DETAIL',
          'eucamdrt           md',
          'eucart             core',
          'vr_vpc-6a3e91c4_2  vpc-6a3e91c4',
          '',
        ].join('\n'),
      );
    }
    const rules = cli(['topology', 'list', 'rules', '--store', store, '--owner', 'sg-1d2e3f40']);
    expect(rules.stdout.split('\n').slice(0, 3)).to.deep.equal([
      'NAME                      OWNER        DETAIL',
      'sg_egress_sg-1d2e3f40#1   sg-1d2e3f40  ip dst 0.0.0.0/0 -> accept',
      'sg_ingress_sg-1d2e3f40#1  sg-1d2e3f40  tcp dport 22 src 203.0.113.0/24 -> accept',
    ]);
    const ports = cli(['topology', 'list', 'Ports', '--store', store, '--name', 'eucabr:']);
    expect(ports.stdout.split('\n').map((l) => l.split(/\s+/)[0])).to.deep.equal([
      'NAME',
      'eucabr:to-eucart',
      'eucabr:to-vr_vpc-6a3e91c4_2',
      '',
    ]);
    const all = cli(['topology', 'list', 'port', '--store', store]);
    for (const line of all.stdout.trimEnd().split('\n'))
      expect(line.length, line).to.be.at.most(160);
    const names = all.stdout
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]!);
    expect(names).to.deep.equal([...names].sort());

    const wide = cli(['topology', 'list', 'router', '--store', store, '-o', 'wide']);
    expect(wide.stdout).to.match(/^ID\s+NAME\s+ADMINSTATEUP/);
    const json = JSON.parse(
      cli(['topology', 'list', 'router', '--store', store, '-o', 'json']).stdout,
    );
    expect(json.map((o: { name: string }) => o.name)).to.deep.equal([
      'eucamdrt',
      'eucart',
      'vr_vpc-6a3e91c4_2',
    ]);
  });

  it('shows objects by the names the plan prints', () => {
    const rule = cli(['topology', 'show', 'rule', 'sg_ingress_sg-1d2e3f40#1', '--store', store]);
    expect(rule.status, rule.stderr).to.equal(0);
    expect(rule.stdout).to.match(/^tpDst\s+\{"start":22,"end":22\}$/m);
    const port = cli(['topology', 'show', 'port', 'eucabr:to-eucart', '--store', store, '--json']);
    expect(JSON.parse(port.stdout)).to.include({ type: 'Bridge' });
    const missing = cli(['topology', 'show', 'rule', 'sg_ingress_sg-1d2e3f40#9', '--store', store]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(
      /^eucanetd: rule "sg_ingress_sg-1d2e3f40#9" not found \(did you mean sg_ingress_sg-1d2e3f40#1/,
    );
  });

  it('refuses unknown kinds and missing stores with one line, no stack trace', () => {
    const kind = cli(['topology', 'list', 'routrs', '--store', store]);
    expect(kind.status).to.equal(1);
    expect(kind.stderr).to.match(
      /^eucanetd: unknown kind "routrs" \(did you mean route or router\?\); kinds: /,
    );
    const nope = cli(['topology', 'list', 'router', '--store', join(dir, 'nope')]);
    expect(nope.status).to.equal(1);
    expect(nope.stderr).to.match(/^eucanetd: no store at .*nope/);
    expect(nope.stderr).to.not.match(/\n\s+at /);
  });

  it('a store this user cannot write or read: one clear line, no stack trace', async function () {
    // needs another user than root: runuser to nobody, when the repository is readable by it
    const probe = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, 'version'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) this.skip();
    chmodSync(dir, 0o755);
    const asNobody = (args: string[]) =>
      spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, BIN, ...args], {
        encoding: 'utf8',
        input: '',
      });
    const apply = asNobody(['apply', '--gni', SMALL, '--store', store]);
    expect(apply.status).to.equal(1);
    expect(apply.stderr).to.match(
      /^eucanetd: cannot open the store .* for writing: permission denied \(run as the store's owner, or read it with --api\)/,
    );
    expect(apply.stderr).to.not.match(/\n\s+at /);
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    const list = asNobody(['topology', 'list', 'router', '--store', join(locked, 'store')]);
    expect(list.status).to.equal(1);
    expect(list.stderr.trim().split('\n')).to.have.length(1);
    expect(list.stderr).to.not.match(/\n\s+at /);
  });

  it('--api: the same listing from a running API server', async () => {
    api = spawn(
      process.execPath,
      [
        BIN,
        'api',
        '--store',
        store,
        '--listen',
        '127.0.0.1:0',
        '--no-auth',
        '--log-level',
        'error',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      api!.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      api!.once('exit', (c) => reject(new Error(`api exited ${c}`)));
    });
    const viaApi = cli(['topology', 'list', 'routers', '--api', url]);
    expect(viaApi.status, viaApi.stderr).to.equal(0);
    expect(viaApi.stdout).to.equal(cli(['topology', 'list', 'routers', '--store', store]).stdout);
    const show = cli([
      'topology',
      'show',
      'rule',
      'sg_ingress_sg-1d2e3f40#1',
      '--api',
      url,
      '--json',
    ]);
    expect(JSON.parse(show.stdout)).to.deep.include({ tpDst: { start: 22, end: 22 } });
    api.kill('SIGTERM');
  });
});
