/**
 * What the daemon loads (issue 20, steady memory): `eucanetd run` on a store directory never
 * loads the etcd client (etcd3, gRPC), prom-client (without --metrics), the API server and
 * client (axios) nor the datapath code. Checked by module loading: the daemon runs under
 * loader hooks that list every module it loads (test/helpers/module-trace.mjs).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HEARTBEAT_PORT } from '../src/datapath/index.js';
import { BIN, cli, cliBuilt, countObjects } from './helpers/cli.js';
import { repoPath } from './helpers/gni-doc.js';
import { unitEnvironment } from '../scripts/lib/daemon-driver.js';

/** Runs `eucanetd ARGS…` under the module trace; the modules it loaded. */
function loadedBy(
  args: readonly string[],
  trace: string,
): { status: number | null; mods: string[] } {
  const r = spawnSync(
    process.execPath,
    ['--import', repoPath('test/helpers/module-trace.mjs'), BIN, ...args],
    {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, NO_COLOR: '1', EUCANETD_MODULE_TRACE: trace },
      timeout: 60_000,
    },
  );
  expect(r.status, r.stderr).to.equal(0);
  return { status: r.status, mods: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

const pkg = (mods: readonly string[], name: string): boolean =>
  mods.some((m) => m.includes(`/node_modules/${name}/`));
const ours = (mods: readonly string[], dir: string): boolean =>
  mods.some((m) => m.includes(`/dist/src/${dir}/`));

describe('daemon modules (what `eucanetd run` on a file store loads)', function () {
  this.timeout(120_000);
  let dir: string;
  before(function () {
    if (!cliBuilt()) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'eucanetd-modules-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('run --once on a store directory loads neither etcd3/gRPC, prom-client, axios, the API nor the datapath', async () => {
    const gni = join(dir, 'global_network_info.xml');
    copyFileSync(repoPath('fixtures/gni/small.xml'), gni);
    const store = join(dir, 'store');
    const { mods } = loadedBy(['run', '--once', '--gni', gni, '--store', store], join(dir, 't1'));
    // the trace sees what the daemon does load (ES modules and CommonJS packages)
    expect(ours(mods, 'mapping') && ours(mods, 'store') && pkg(mods, 'winston')).to.equal(true);
    expect(await countObjects(store)).to.be.greaterThan(0);
    for (const name of ['etcd3', '@grpc/grpc-js', 'protobufjs', 'prom-client', 'axios', 'p-retry'])
      expect(pkg(mods, name), name).to.equal(false);
    for (const area of ['api', 'datapath']) expect(ours(mods, area), area).to.equal(false);

    // with --metrics it loads prom-client (the trace would see it)
    const withMetrics = loadedBy(
      ['run', '--once', '--gni', gni, '--store', store, '--metrics', '127.0.0.1:0'],
      join(dir, 't2'),
    );
    expect(pkg(withMetrics.mods, 'prom-client')).to.equal(true);
    expect(pkg(withMetrics.mods, 'etcd3')).to.equal(false);
  });

  it("the controller unit's environment (malloc arenas, young generation) starts the daemon", async () => {
    const env = unitEnvironment();
    expect(env).to.have.keys(['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'NODE_OPTIONS']);
    const gni = join(dir, 'global_network_info.xml');
    copyFileSync(repoPath('fixtures/gni/small.xml'), gni);
    const store = join(dir, 'store');
    // node refuses to start on a NODE_OPTIONS flag it does not allow there
    const r = cli(['run', '--once', '--gni', gni, '--store', store], { env });
    expect(r.status, r.stderr).to.equal(0);
    expect(await countObjects(store)).to.be.greaterThan(0);
  });

  it('the agent help still names the datapath heartbeat port as the default', () => {
    const r = cli(['agent', '--help']);
    expect(r.status).to.equal(0);
    expect(r.stdout.replace(/\s+/g, ' ')).to.include(`(default: ${HEARTBEAT_PORT})`);
  });
});
