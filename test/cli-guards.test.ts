/**
 * The CLI's guards, as an operator meets them (real binary, output checked): a subcommand is
 * required and a mistyped one gets "did you mean" (issue 19 item 4), `version` and
 * `completion`; `flush` and `run -F` ask on a terminal, need --yes elsewhere, and --dry-run
 * says what they would delete and rebuild without touching anything (item 5); the
 * long-running commands log human lines on a terminal and JSON elsewhere (`--log-format`).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countObjects as count, cli, cliBuilt, cliOnTerminal } from './helpers/cli.js';
import { repoPath } from './helpers/gni-doc.js';

const SMALL = repoPath('fixtures/gni/small.xml');

describe('CLI guards (real binary)', function () {
  this.timeout(120_000);
  let dir: string;
  let store: string;
  before(function () {
    if (!cliBuilt()) this.skip();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-guards-'));
    store = join(dir, 'store');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('requires a subcommand: bare eucanetd prints the help, a typo gets "did you mean"', () => {
    const bare = cli([], { cwd: dir });
    expect(bare.status).to.equal(1);
    expect(bare.stderr).to.match(/^Usage: eucanetd \[options\] \[command\]/);
    expect(bare.stderr).to.match(/^ {2}run \[options\]/m);
    expect(existsSync(join(dir, 'var'))).to.equal(false);

    const typo = cli(['plann', '--gni', SMALL]);
    expect(typo.status).to.equal(1);
    expect(typo.stderr).to.include("error: unknown command 'plann'\n(Did you mean plan?)");
    expect(typo.stderr).to.not.include('too many arguments');
    const sub = cli(['topology', 'lst', 'router']);
    expect(sub.status).to.equal(1);
    expect(sub.stderr).to.include("unknown command 'lst'\n(Did you mean list?)");
  });

  it('version and completion bash|zsh', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string };
    const v = cli(['version']);
    expect(v.status).to.equal(0);
    expect(v.stdout).to.equal(`eucanetd-ts ${pkg.version} (node ${process.version})\n`);
    expect(JSON.parse(cli(['version', '--json']).stdout)).to.include({ version: pkg.version });

    const script = cli(['completion', 'bash']);
    expect(script.status).to.equal(0);
    const file = join(dir, 'eucanetd.bash');
    writeFileSync(file, script.stdout);
    const complete = (words: string[]): string[] => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "${file}"; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _eucanetd; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      );
      return r.stdout.trim().split(' ');
    };
    expect(complete(['eucanetd', 'pl'])).to.deep.equal(['plan']);
    expect(complete(['eucanetd', 'topology', 'list', '--store', '/x', 'rou'])).to.deep.equal([
      'route',
      'router',
    ]);
    expect(complete(['eucanetd', 'flush', '--d'])).to.deep.equal(['--dry-run']);
    const zsh = cli(['completion', 'zsh']);
    expect(zsh.stdout).to.match(/^#compdef eucanetd\n/);
    expect(zsh.stdout).to.include('bashcompinit');
    const fish = cli(['completion', 'fish']);
    expect(fish.status).to.equal(1);
    expect(fish.stderr).to.include('unknown shell "fish" (bash or zsh)');
  });

  it('flush: refused without --yes off a terminal, --dry-run changes nothing, --yes deletes', async () => {
    expect(cli(['apply', '--gni', SMALL, '--store', store]).status).to.equal(0);
    const before = await count(store);

    const refused = cli(['flush', '--store', store]);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.equal(
      'eucanetd: flush deletes managed objects: pass --yes to confirm when not on a terminal (or --dry-run to see what it would delete)\n',
    );
    expect(await count(store)).to.equal(before);

    const dry = cli(['flush', '--store', store, '--dry-run']);
    expect(dry.status).to.equal(0);
    expect(dry.stdout).to.match(
      /^dry run: flush would delete 186 objects from .* \(.*rule 97.*\), keep 4 hosts\nnothing was changed\n$/,
    );
    expect(await count(store)).to.equal(before);

    const yes = cli(['flush', '--store', store, '--yes']);
    expect(yes.status).to.equal(0);
    expect(yes.stdout).to.match(/^flushed 186 objects \(kept 4 hosts\) in \d+ ms\n$/);
    expect(await count(store)).to.equal(4);
  });

  it('agent and api log human lines on a terminal, JSON elsewhere; --log-format chooses', function () {
    const MSG = 'agent needs exactly one of --store DIR or --api URL';
    const piped = cli(['agent', '--host', 'h1']);
    expect(piped.status).to.equal(2);
    expect(JSON.parse(piped.stderr.trim())).to.include({ level: 'error', message: MSG });
    const human = cli(['agent', '--host', 'h1', '--log-format', 'human']);
    expect(human.status).to.equal(2);
    expect(human.stderr).to.match(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} error ${MSG}\\n$`));
    const json = cliOnTerminal(['agent', '--host', 'h1', '--log-format', 'json'], '');
    if (json === undefined) this.skip();
    expect(json.stdout).to.include(`"message":"${MSG}"`);
    const tty = cliOnTerminal(['agent', '--host', 'h1'], '', { env: { NO_COLOR: '1' } })!;
    expect(tty.status).to.equal(2);
    expect(tty.stdout).to.match(new RegExp(`\\d\\d:\\d\\d:\\d\\d\\.\\d{3} error ${MSG}`));
    expect(cli(['api', '--log-format', 'bogus']).stderr).to.include(
      "argument 'bogus' is invalid. Allowed choices are auto, json, human.",
    );
  });

  it('flush on a terminal asks: only "yes" goes on', async function () {
    cli(['apply', '--gni', SMALL, '--store', store]);
    const before = await count(store);
    const no = cliOnTerminal(['flush', '--store', store], 'no\n');
    if (no === undefined) this.skip();
    expect(no.stdout).to.include('flush deletes 186 managed objects from');
    expect(no.stdout).to.include('Type "yes" to go on:');
    expect(no.stdout).to.include('flush not confirmed; nothing changed');
    expect(no.status).to.equal(1);
    expect(await count(store)).to.equal(before);
    const yes = cliOnTerminal(['flush', '--store', store], 'yes\n')!;
    expect(yes.status).to.equal(0);
    expect(yes.stdout).to.match(/flushed 186 objects \(kept 4 hosts\)/);
    expect(await count(store)).to.equal(4);
  });

  it('run -F: --dry-run prints what it would delete and rebuild; without --yes it is refused', async () => {
    const SMALL = join(dir, 'global_network_info.xml'); // run writes files beside its GNI
    copyFileSync(repoPath('fixtures/gni/small.xml'), SMALL);
    cli(['apply', '--gni', SMALL, '--store', store]);
    const before = await count(store);
    const dry = cli(['run', '-F', '--dry-run', '--once', '--gni', SMALL, '--store', store]);
    expect(dry.status, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(
      /^dry run: flush would delete 186 objects \(.*\), keep 4 hosts\ndry run: rebuild from GNI 5c1e9a3f would create 186 objects \(.*rule 97.*\)\nnothing was changed\n$/,
    );
    expect(await count(store)).to.equal(before);

    const refused = cli(['run', '-F', '--once', '--gni', SMALL, '--store', store]);
    expect(refused.status).to.equal(1);
    expect(refused.stderr).to.include('run -F deletes managed objects: pass --yes to confirm');
    expect(refused.stderr.match(/pass --yes/g)).to.have.length(1); // the fatal error once
    expect(await count(store)).to.equal(before);

    const alone = cli(['run', '--dry-run', '--once', '--gni', SMALL, '--store', store]);
    expect(alone.status).to.equal(1);
    expect(alone.stderr).to.include('--dry-run goes with -F (--flush)');
  });
});
