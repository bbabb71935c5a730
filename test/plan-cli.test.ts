/**
 * `eucanetd plan`, `eucanetd diff` and `eucanetd gni validate` as operators and QA run them
 * (the real binary, output checked): rule changes as replacements with their field diff,
 * creates with their fields, no no-op fields, held entities with reasons, the JSON format
 * with its version, errors as JSON under --json (plan and apply), a missing store refused (issue 19
 * items 2, 3, 6).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeGniXml } from '../src/gni/index.js';
import { countObjects as count, cli, cliBuilt } from './helpers/cli.js';
import { addInstanceLike, loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import type { Doc } from './helpers/gni-doc.js';

const SMALL = repoPath('fixtures/gni/small.xml');
const EDGE = repoPath('fixtures/gni/edge-cases.xml');

describe('plan, diff and gni validate (real binary)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  const writeDoc = (name: string, d: Doc): string => {
    const p = join(dir, name);
    writeFileSync(p, writeGniXml(viewOf(d)));
    return p;
  };
  /** small.xml with the first ingress rule of sg-1d2e3f40 on port 2222 instead of 22. */
  const port2222 = (): string => {
    const d = loadDoc(SMALL);
    const sg = d.securityGroups.find((g: Doc) => g.name === 'sg-1d2e3f40');
    expect(sg.ingressRules[0]).to.include({ fromPort: 22, toPort: 22 });
    sg.ingressRules[0].fromPort = 2222;
    sg.ingressRules[0].toPort = 2222;
    d.version = '0000beef';
    return writeDoc('port2222.xml', d);
  };

  before(function () {
    if (!cliBuilt()) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'plan-cli-'));
    store = join(dir, 'store');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows a changed rule as a replacement with its field diff; applied, the next plan is empty', () => {
    expect(cli(['apply', '--gni', SMALL, '--store', store]).status).to.equal(0);
    const next = port2222();
    const r = cli(['plan', '--gni', next, '--store', store]);
    expect(r.status, r.stderr).to.equal(2);
    const lines = r.stdout.split('\n');
    const i = lines.indexOf('sg-1d2e3f40 (security group):');
    expect(i, r.stdout).to.be.greaterThan(-1);
    expect(lines[i + 1]).to.equal(
      '  -/+ rule sg_ingress_sg-1d2e3f40#1: tcp dport 2222 src 203.0.113.0/24 -> accept',
    );
    expect(lines[i + 2]).to.equal('        was: tcp dport 22 src 203.0.113.0/24 -> accept');
    expect(lines[i + 3]).to.equal('        ~ tpDst: 22 -> 2222');
    expect(r.stdout).to.not.match(/^ *\+ create rule|^ *- delete rule/m);
    expect(lines.at(-2)).to.equal(
      'Plan: 1 to create, 1 to update, 1 to delete (1 of them a rule replaced in place); 188 unchanged, 0 held.',
    );

    expect(cli(['apply', '--gni', next, '--store', store]).status).to.equal(0);
    const again = cli(['plan', '--gni', next, '--store', store]);
    expect(again.status).to.equal(0);
    expect(again.stdout).to.equal(
      'GNI version 0000beef\nPlan: 0 to create, 0 to update, 0 to delete; 190 unchanged, 0 held.\n',
    );
  });

  it('lists the fields of creates, rules as match summaries with their position', () => {
    cli(['apply', '--gni', SMALL, '--store', store]);
    const d = loadDoc(SMALL);
    d.version = '0000cafe';
    const sg = d.securityGroups.find((g: Doc) => g.name === 'sg-1d2e3f40');
    sg.ingressRules.splice(1, 0, {
      protocol: 17,
      fromPort: 5000,
      toPort: 5001,
      cidr: '192.0.2.0/24',
    });
    const r = cli(['plan', '--gni', writeDoc('udp.xml', d), '--store', store]);
    expect(r.status).to.equal(2);
    expect(r.stdout).to.include(
      '  + rule sg_ingress_sg-1d2e3f40#2: udp dport 5000-5001 src 192.0.2.0/24 -> accept\n',
    );
    // the chain names its rule list change by count, and the rules that moved
    expect(r.stdout).to.include(
      '  ~ chain sg_ingress_sg-1d2e3f40\n        ~ rules: 4 -> 5 (1 added, 0 removed)\n',
    );

    // on an empty store, every create lists its fields (ids shown as names)
    const mk = cli(['plan', '--gni', SMALL, '--store', 'memory:']);
    expect(mk.status).to.equal(2);
    expect(mk.stdout).to.match(/^ {2}\+ router eucart\n {8}.*adminStateUp=true/m);
    expect(mk.stdout).to.match(/^ {2}\+ port eucabr:\S+\n {8}type=Bridge bridgeId=eucabr /m);
  });

  it('shows a DHCP update by the hosts it adds, without no-op fields', () => {
    cli(['apply', '--gni', SMALL, '--store', store]);
    const d = loadDoc(SMALL);
    d.version = '0000d00d';
    addInstanceLike(d, d.instances[0].name, '0f0f0f0f', 77);
    const r = cli(['plan', '--gni', writeDoc('more.xml', d), '--store', store]);
    expect(r.status).to.equal(2);
    const dhcp = r.stdout.split('\n').findIndex((l) => /^ {2}~ dhcp-subnet /.test(l));
    expect(dhcp, r.stdout).to.be.greaterThan(-1);
    expect(r.stdout.split('\n')[dhcp + 1]).to.match(
      /^ {8}\+ hosts: \{"macAddr":.*"ipAddr":"[\d.]+\.77"/,
    );
    expect(r.stdout).to.not.match(/ntpServers|opt121Routes/);
    expect(r.stdout).to.include('i-0f0f0f0f (instance):');
  });

  it('lists held entities with their reasons; gni validate names them and exits 2', () => {
    const r = cli(['plan', '--gni', EDGE, '--store', 'memory:']);
    expect(r.status).to.equal(2);
    expect(r.stdout).to.include(
      'Held (invalid input: their objects are neither changed nor deleted):\n  ! i-e1000002 (instance)\n',
    );
    expect(r.stdout).to.include(
      '        instances/instance[i-e1000002] not-placed: instance is not listed on any node\n',
    );
    expect(r.stdout).to.match(
      /Plan: \d+ to create, 0 to update, 0 to delete; 0 unchanged, 0 held \(5 entities\)\.\n$/,
    );
    expect(r.stdout).to.not.include('see --json');

    const v = cli(['gni', 'validate', EDGE]);
    expect(v.status).to.equal(2);
    expect(v.stdout).to.match(
      /usable, but 7 invalid entities are held \(left as they are\): .*instance:i-e1000002/,
    );
    expect(cli(['gni', 'validate', SMALL]).status).to.equal(0);
  });

  it('--json: a versioned document, also for errors; a missing store is refused', async () => {
    const j = cli(['plan', '--gni', EDGE, '--store', 'memory:', '--json']);
    expect(j.status).to.equal(2);
    const doc = JSON.parse(j.stdout);
    expect(doc.formatVersion).to.equal(1);
    expect(doc.gniVersion).to.equal('e0e0e0e0');
    expect(doc.summary.create).to.equal(doc.ops.length);
    expect(doc.held.map((h: { entity: string }) => h.entity)).to.include('sg-e6000002');
    const core = doc.groups.find((g: { entity: string }) => g.entity === 'core');
    const eucart = core.changes.find((c: { name: string }) => c.name === 'eucart');
    expect(eucart).to.deep.include({ action: 'create', kind: 'router' });

    // a broken document: JSON on stdout, exit 1, nothing written
    cli(['apply', '--gni', SMALL, '--store', store]);
    const before = await count(store);
    const bad = join(dir, 'bad.xml');
    writeFileSync(bad, '<network-data version="1"><configuration>');
    const e = cli(['plan', '--gni', bad, '--store', store, '--json']);
    expect(e.status).to.equal(1);
    const err = JSON.parse(e.stdout);
    expect(err.formatVersion).to.equal(1);
    expect(err.error.message).to.match(/^GNI .*bad\.xml rejected: /);
    expect(err.error.issues.length).to.be.greaterThan(0);
    expect(await count(store)).to.equal(before);
    // apply --json too: the error as a document on stdout (its issues name the element), exit 1
    const a = cli(['apply', '--gni', bad, '--store', store, '--json']);
    expect(a.status).to.equal(1);
    const aerr = JSON.parse(a.stdout);
    expect(aerr.error.message).to.match(/^GNI .*bad\.xml rejected: /);
    expect(aerr.error.issues).to.deep.equal(err.error.issues);
    expect(aerr.error.issues[0].path).to.be.a('string').and.not.equal('');
    expect(await count(store)).to.equal(before);

    const nope = cli(['plan', '--gni', SMALL, '--store', join(dir, 'nope', 'x')]);
    expect(nope.status).to.equal(1);
    expect(nope.stdout).to.equal('');
    expect(nope.stderr).to.match(/^eucanetd: no store at .*nope\/x \(nothing applied there yet/);
  });

  it('diff OLD NEW: exit 0 for none, 2 for changes, 1 for an error, no store needed', () => {
    const same = cli(['diff', SMALL, SMALL]);
    expect(same.status).to.equal(0);
    expect(same.stdout).to.match(/Plan: 0 to create, 0 to update, 0 to delete; 190 unchanged/);
    const next = port2222();
    const changed = cli(['diff', SMALL, next, '--json']);
    expect(changed.status).to.equal(2);
    const doc = JSON.parse(changed.stdout);
    expect(doc.summary).to.include({ create: 1, delete: 1, replace: 1 });
    const replace = doc.groups[0].changes[0];
    expect(replace).to.deep.include({
      action: 'replace',
      name: 'sg_ingress_sg-1d2e3f40#1',
      position: 1,
      diff: [{ field: 'tpDst', old: { start: 22, end: 22 }, new: { start: 2222, end: 2222 } }],
    });
    const missing = cli(['diff', SMALL, join(dir, 'absent.xml')]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/cannot read GNI file .*absent\.xml/);
    const missingJson = cli(['diff', SMALL, join(dir, 'absent.xml'), '--json']);
    expect(JSON.parse(missingJson.stdout).error.message).to.match(/cannot read GNI file/);
  });
});
