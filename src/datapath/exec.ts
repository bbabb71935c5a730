/**
 * Running commands: `execFile` (no shell) with a timeout, stdin for batches and nft scripts.
 * A dry-run executor prints the commands instead of running them.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EucanetdError } from '../common/index.js';
import type { Action } from './plan.js';

/** Runs one command and returns its stdout. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<string>;

/** A command failed; the message names it and carries its stderr. */
export class CommandError extends EucanetdError {
  override readonly name = 'CommandError';
  override readonly code = 'COMMAND';
}

/** Creates the real runner; `timeoutMs` defaults to 30 s. */
export function createRunner(timeoutMs = 30_000): CommandRunner {
  return (argv, input) =>
    new Promise((resolve, reject) => {
      const [file, ...args] = argv;
      const child = execFile(
        file!,
        args,
        { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          if (error) {
            const msg = `${argv.slice(0, 6).join(' ')} failed: ${String(stderr).trim().slice(0, 2000) || error.message}`;
            reject(new CommandError(msg, { cause: error }));
          } else resolve(stdout);
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
}

/** The shell text of an action (dry-run output and logs). */
export function describeAction(a: Action): string {
  switch (a.type) {
    case 'ip':
      return a.lines.map((l) => `ip${a.ns ? ` -n ${a.ns}` : ''} ${l}`).join('\n');
    case 'exec':
      return a.argv.join(' ');
    case 'nft':
      return `${a.ns ? `ip netns exec ${a.ns} ` : ''}nft -f - <<'EOF'\n${a.script}EOF`;
    case 'bridge':
      return a.lines.map((l) => `bridge${a.ns ? ` -n ${a.ns}` : ''} ${l}`).join('\n');
    case 'spawn':
      return `${a.argv.join(' ')} >>${a.logPath} 2>&1 &`;
    case 'write':
      return `cat > ${a.path} <<'EOF'\n${a.content}EOF`;
    case 'remove':
      return `rm -f ${a.path}`;
    case 'signal':
      return `kill -${a.signal.slice(3)} ${a.pid}`;
    case 'kill-netns-pids':
      return `kill $(ip netns pids ${a.ns})`;
  }
}

/** Executes one action with the runner. */
export async function runAction(a: Action, run: CommandRunner): Promise<void> {
  switch (a.type) {
    case 'ip':
      await run(['ip', ...(a.ns ? ['-n', a.ns] : []), '-batch', '-'], a.lines.join('\n') + '\n');
      return;
    case 'exec':
      await run(a.argv);
      return;
    case 'nft':
      await run([...(a.ns ? ['ip', 'netns', 'exec', a.ns] : []), 'nft', '-f', '-'], a.script);
      return;
    case 'bridge':
      await run(
        ['bridge', ...(a.ns ? ['-n', a.ns] : []), '-batch', '-'],
        a.lines.join('\n') + '\n',
      );
      return;
    case 'spawn': {
      await mkdir(dirname(a.logPath), { recursive: true });
      const fd = openSync(a.logPath, 'a');
      try {
        const [file, ...args] = a.argv;
        spawn(file!, args, { detached: true, stdio: ['ignore', fd, fd] }).unref();
      } finally {
        closeSync(fd);
      }
      return;
    }
    case 'write': {
      // atomically: a reader (dnsmasq on SIGHUP, the metadata proxy, bird on reload) sees the
      // old text or the new one, never a partial file
      await mkdir(dirname(a.path), { recursive: true });
      const tmp = `${a.path}.tmp-${process.pid}`;
      await writeFile(tmp, a.content);
      await rename(tmp, a.path);
      return;
    }
    case 'remove':
      await rm(a.path, { force: true });
      return;
    case 'signal':
      await signalAndWait(a.pid, a.signal);
      return;
    case 'kill-netns-pids': {
      const out = await run(['ip', 'netns', 'pids', a.ns]).catch(() => '');
      for (const pid of out.split(/\s+/).filter(Boolean).map(Number))
        await signalAndWait(pid, 'SIGTERM');
      return;
    }
  }
}

async function signalAndWait(pid: number, signal: 'SIGTERM' | 'SIGHUP'): Promise<void> {
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone: nothing to stop
  }
  if (signal !== 'SIGTERM') return;
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  process.kill(pid, 'SIGKILL');
}
