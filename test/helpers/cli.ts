/**
 * Running the real `bin/eucanetd` as a subprocess (needs `npm run build`): its exit code,
 * stdout and stderr, with no terminal attached (stdin closed unless `input` is given).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KINDS, openFileStore } from '../../src/store/index.js';
import { repoPath } from './gni-doc.js';

/** The binary under test. */
export const BIN = repoPath('bin/eucanetd');

/** True when dist/ is built (the CLI tests skip otherwise; `npm test` builds first). */
export function cliBuilt(): boolean {
  return existsSync(repoPath('dist/bin/cli.js'));
}

/** What one run printed and its exit code. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `eucanetd ARGS…` to completion. */
export function cli(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    timeout: 60_000,
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `eucanetd ARGS…` on a pseudo-terminal (util-linux `script`), typing `input`; what the
 * terminal showed comes back as `stdout` (stdout and stderr mixed, CR LF as LF). Undefined
 * when `script` is not installed.
 */
export function cliOnTerminal(
  args: readonly string[],
  input: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): CliResult | undefined {
  const which = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (which.error) return undefined;
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], {
    encoding: 'utf8',
    input,
    env: { ...process.env, TERM: 'dumb', ...options.env },
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout.replace(/\r\n/g, '\n'), stderr: r.stderr };
}

/** How many objects the file store in `dir` holds (opened read-only, beside a writer). */
export async function countObjects(dir: string): Promise<number> {
  const s = await openFileStore(dir, { readOnly: true });
  try {
    let n = 0;
    for (const k of KINDS) n += (await s.list(k)).length;
    return n;
  } finally {
    await s.close();
  }
}
