/**
 * Drives a real controller daemon (`bin/eucanetd run`, from dist/: `npm run build` first) in a
 * child process for the benchmarks: starts it on a GNI file and a file store, writes new
 * documents the way a cloud controller does (temp file, then rename), waits for the version
 * file to show the new version (written right after the commit), and reads the daemon's own
 * cycle log lines and its resident memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/eucanetd', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/bin/cli.js', import.meta.url));
const UNIT = fileURLToPath(new URL('../../packaging/systemd/eucanetd.service', import.meta.url));

/**
 * The environment the controller's systemd unit gives the daemon (its `Environment=` lines but
 * `EUCALYPTUS`, which names the settings file): the benchmarks run the daemon the way it is
 * installed (e.g. `MALLOC_ARENA_MAX`, `NODE_OPTIONS`).
 */
export function unitEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(UNIT, 'utf8').matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) {
    if (m[1] !== 'EUCALYPTUS') env[m[1]!] = m[2]!;
  }
  return env;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One cycle line of the daemon's log (`main loop complete, applied GNI`). */
export type CycleLine = Record<string, unknown>;

/** Where the daemon works. */
export interface DaemonFiles {
  readonly gni: string;
  readonly store: string;
  readonly log: string;
  readonly versionFile: string;
}

/** Node options for the daemon from `BENCH_DAEMON_NODE_ARGS` (space-separated, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the daemon a benchmark drives). */
function nodeArgs(): string[] {
  return (process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

/** The daemon's stdout: the file `BENCH_DAEMON_STDOUT` names (e.g. with
 * `BENCH_DAEMON_NODE_ARGS=--trace-gc`), else none. */
function stdoutOf(): 'ignore' | number {
  const file = process.env['BENCH_DAEMON_STDOUT'];
  return file ? openSync(file, 'w') : 'ignore';
}

/** Runs `eucanetd` with `args` to completion (`env` added to this process's); rejects on a
 * non-zero exit. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<void> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`eucanetd ${args[0]} exited ${code}: ${err}`)),
    );
  });
}

function requireBuild(): void {
  if (!existsSync(DIST)) throw new Error('dist/ is missing: run `npm run build` first');
}

/** A running daemon. */
export class Daemon {
  private readonly child: ChildProcess;
  private exited: Promise<number | null>;
  private stderr = '';

  constructor(
    readonly files: DaemonFiles,
    debounceMs: number,
    env: Record<string, string> = {},
  ) {
    requireBuild();
    this.child = spawn(
      process.execPath,
      [
        ...nodeArgs(),
        BIN,
        'run',
        '--gni',
        files.gni,
        '--store',
        files.store,
        '--interval',
        '3600',
        '--resync-interval',
        '3600',
        '--log-file',
        files.log,
        '--log-level',
        'info',
        '--version-file',
        files.versionFile,
        '--debounce-ms',
        String(debounceMs),
      ],
      { stdio: ['ignore', stdoutOf(), 'pipe'], env: { ...process.env, ...env } },
    );
    // its log goes to the log file too; keep the end of stderr for an error message
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d).slice(-4096)));
    this.exited = new Promise((r) => this.child.on('exit', (code) => r(code)));
  }

  /** The applied version (the version file), or undefined. */
  version(): string | undefined {
    try {
      return readFileSync(this.files.versionFile, 'utf8');
    } catch {
      return undefined; // not written yet
    }
  }

  /** Waits until the version file says `version` (polled every `pollMs`); ms waited. */
  async waitFor(version: string, timeoutMs = 600_000, pollMs = 2): Promise<number> {
    const t = performance.now();
    while (this.version() !== version) {
      if (performance.now() - t > timeoutMs) throw new Error(`daemon never applied ${version}`);
      if (this.child.exitCode !== null)
        throw new Error(`daemon exited ${this.child.exitCode}: ${this.stderr}`);
      await sleep(pollMs);
    }
    return performance.now() - t;
  }

  /**
   * Writes `xml` as the next document the way a cloud controller does (temp file, settle,
   * rename) and returns the ms from the rename until the daemon committed `version`.
   */
  async change(xml: Buffer, version: string): Promise<number> {
    const temp = `${this.files.gni}.temp`;
    writeFileSync(temp, xml);
    await sleep(100); // the writer's own file events pass before the measured rename
    const t = performance.now();
    renameSync(temp, this.files.gni);
    await this.waitFor(version);
    return performance.now() - t;
  }

  /** Resident memory of the daemon process in MiB (Linux /proc). */
  rssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb === undefined) throw new Error('no VmRSS for the daemon');
    return Number(kb) / 1024;
  }

  /** Stops the daemon (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    const code = await this.exited;
    if (code !== 0) throw new Error(`daemon exited ${code}`);
  }
}

/** The log lines whose `message` is `message`, parsed, in order. */
export function logLines(file: string, message: string): CycleLine[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(message))
    .map((l) => JSON.parse(l) as CycleLine);
}

/** The cycle line of `version` (the last one), or undefined. */
export function cycleOf(file: string, version: string): CycleLine | undefined {
  const lines = logLines(file, 'main loop complete, applied GNI');
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!['version'] === version) return lines[i];
  return undefined;
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
