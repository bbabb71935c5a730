import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openFileStore } from '../src/store/index.js';
import { bridge, bridgePort, router, routerPort } from './helpers/store-conformance.js';
import { writeStoreFiles } from './helpers/store-files.js';
import { runStoreCommand as run } from './helpers/store-cli-run.js';

describe('store CLI (store verify, topology list/show)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function populate(): Promise<void> {
    const s = await openFileStore(dir);
    await s.transaction([
      router('r1', { name: 'eucart' }),
      routerPort('p1', 'r1'),
      bridge('b1'),
      bridgePort('bp1', 'b1', { peerId: 'p1' }),
    ]);
    await s.close();
  }

  it('verify prints the object count and revision of a sound store, even while a writer holds it', async () => {
    await populate();
    const writer = await openFileStore(dir);
    try {
      const r = await run('store', 'verify', '--store', dir);
      expect(r).to.deep.equal({ stdout: 'ok: 4 objects, revision 1\n', stderr: '', code: 0 });
    } finally {
      await writer.close();
    }
  });

  it('verify exits 1 naming each broken object', async () => {
    const r1 = {
      id: 'r1',
      version: 1,
      name: 'r1',
      adminStateUp: true,
      portIds: ['p9'],
      routeIds: [],
      bgpPeerIds: [],
      bgpNetworkIds: [],
    };
    await writeStoreFiles(dir, 1, [['router', r1 as never]]);
    const r = await run('store', 'verify', '--store', dir);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include('router/r1').and.include('port/p9');
  });

  it('verify exits 1 with the error for a damaged journal, and for a missing directory', async () => {
    await populate();
    const path = join(dir, 'journal.log');
    const buf = await readFile(path);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0x10;
    await writeFile(path, buf);
    const r = await run('store', 'verify', '--store', dir);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/journal\.log record at byte offset 40 \(revision 1\) is damaged/);
    const missing = await run('store', 'verify', '--store', join(dir, 'nope'));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('no store at');
    // an empty directory holds no store: not "ok: 0 objects"
    const empty = await mkdtemp(join(tmpdir(), 'store-cli-empty-'));
    try {
      const r2 = await run('store', 'verify', '--store', empty);
      expect(r2).to.deep.equal({ stdout: '', stderr: `eucanetd: no store at ${empty}\n`, code: 1 });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('topology list prints a table or JSON; topology show finds by id or name', async () => {
    await populate();
    const table = await run('topology', 'list', 'port', '--store', dir, '-o', 'wide');
    expect(table.code).to.equal(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^ID\s+TYPE\s+ROUTERID/);
    // sorted by name as the plan prints it: b1's port before eucart's
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).to.deep.equal(['bp1', 'p1']);
    const json = await run('topology', 'list', 'router', '--store', dir, '--json');
    expect(
      (JSON.parse(json.stdout) as { id: string; portIds: string[] }[]).map((o) => [
        o.id,
        o.portIds,
      ]),
    ).to.deep.equal([['r1', ['p1']]]);
    const byName = await run('topology', 'show', 'router', 'eucart', '--store', dir, '--json');
    expect((JSON.parse(byName.stdout) as { id: string }).id).to.equal('r1');
    const byId = await run('topology', 'show', 'port', 'p1', '--store', dir);
    expect(byId.stdout).to.match(/^peerId\s+bp1$/m);
    const unknown = await run('topology', 'show', 'port', 'zz', '--store', dir);
    expect(unknown).to.include({ code: 1 });
    expect(unknown.stderr).to.include('port "zz" not found');
    const badKind = await run('topology', 'list', 'widget', '--store', dir);
    expect(badKind.stderr).to.include('unknown kind "widget"');
  });
});
