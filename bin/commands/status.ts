/**
 * The daemon's status file and `eucanetd status`. The daemon rewrites the file (atomically)
 * at start, after every cycle and when it stops; `status` reads it, checks that the process
 * is alive, and prints the last cycle (exit 0 running and well, 1 running but the last cycle
 * failed or its document was rejected, 3 not running or no status file, as `systemctl status`).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CycleReport } from '../../src/reconciler/index.js';

/** Default GNI path of the daemon (and so of its version and status files). */
export const DEFAULT_GNI = '/var/run/eucalyptus/global_network_info.xml';

/** The status file next to the version file: `<dir of the GNI>/eucanetd-status.json`. */
export function defaultStatusFile(gni: string, versionFile?: string): string {
  return join(dirname(resolve(versionFile ?? gni)), 'eucanetd-status.json');
}

/** What the status file holds (format 1). */
export interface DaemonStatus {
  readonly statusVersion: 1;
  readonly state: 'starting' | 'running' | 'stopped';
  readonly pid: number;
  readonly programVersion: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly gni: string;
  readonly store: string;
  readonly config: string | null;
  readonly lastCycle: (CycleReport & { readonly at: string }) | null;
  /** The last applied cycle (the last cycle is often `unchanged`). */
  readonly lastApplied: (CycleReport & { readonly at: string }) | null;
  readonly cycles: Readonly<Record<string, number>>;
}

/** Keeps the status of a running daemon and writes it to its file. */
export class StatusWriter {
  private status: DaemonStatus;
  constructor(
    private readonly file: string,
    base: Pick<DaemonStatus, 'programVersion' | 'gni' | 'store' | 'config'>,
    private readonly onError: (e: unknown) => void,
  ) {
    const now = new Date().toISOString();
    this.status = {
      statusVersion: 1,
      state: 'starting',
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      lastCycle: null,
      lastApplied: null,
      cycles: {},
      ...base,
    };
    this.write();
  }

  /** Records a cycle and rewrites the file. */
  cycle(report: CycleReport): void {
    const at = new Date().toISOString();
    const cycles = { ...this.status.cycles };
    cycles[report.result] = (cycles[report.result] ?? 0) + 1;
    this.status = {
      ...this.status,
      state: 'running',
      updatedAt: at,
      lastCycle: { ...report, at },
      cycles,
      ...(report.result === 'applied' ? { lastApplied: { ...report, at } } : {}),
    };
    this.write();
  }

  /** Marks the daemon stopped. */
  stopped(): void {
    this.status = { ...this.status, state: 'stopped', updatedAt: new Date().toISOString() };
    this.write();
  }

  private write(): void {
    try {
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.status, null, 2) + '\n');
      renameSync(tmp, this.file);
    } catch (e) {
      this.onError(e);
    }
  }
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statusCommand(opts: { statusFile?: string; gni: string; json?: boolean }): void {
  const file = opts.statusFile ?? defaultStatusFile(opts.gni);
  let status: DaemonStatus;
  try {
    status = JSON.parse(readFileSync(file, 'utf8')) as DaemonStatus;
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no status file' : String(e);
    if (opts.json)
      process.stdout.write(JSON.stringify({ running: false, error: `${why}: ${file}` }) + '\n');
    else process.stderr.write(`eucanetd: not running? ${why}: ${file}\n`);
    process.exitCode = 3;
    return;
  }
  const running = status.state !== 'stopped' && alive(status.pid);
  const last = status.lastCycle;
  const bad = last !== null && (last.result === 'failed' || last.result === 'rejected');
  process.exitCode = !running ? 3 : bad ? 1 : 0;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ running, ...status }, null, 2) + '\n');
    return;
  }
  const now = Date.now();
  const out: string[] = [];
  out.push(
    `eucanetd ${status.programVersion}: ${running ? `running (pid ${status.pid}, started ${ago(status.startedAt, now)})` : `not running (was pid ${status.pid}, ${status.state}, last update ${ago(status.updatedAt, now)})`}`,
  );
  out.push(`  gni ${status.gni}  store ${status.store}  config ${status.config ?? '(defaults)'}`);
  const applied = status.lastApplied;
  if (last) {
    const what =
      last.result === 'applied'
        ? `applied GNI ${last.version ?? '(no version)'}`
        : last.result === 'unchanged'
          ? `unchanged (GNI ${last.version ?? '(no version)'} already applied)`
          : `${last.result}${last.error ? `: ${last.error}` : ''}`;
    out.push(`  last cycle: ${what}, ${ago(last.at, now)}`);
  } else out.push('  last cycle: none yet');
  if (applied) {
    const c = applied.counts;
    out.push(
      `  last applied: GNI ${applied.version ?? '(no version)'} ${ago(applied.at, now)} (${applied.at})` +
        (c
          ? `: ${c.create} created, ${c.update} updated, ${c.delete} deleted, ${c.unchanged} unchanged`
          : '') +
        (applied.totalMs !== undefined ? ` in ${Math.round(applied.totalMs)} ms` : ''),
    );
    out.push(`  held entities: ${applied.heldEntities ?? 0}, issues: ${applied.issues}`);
  }
  const cycles = Object.entries(status.cycles)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  out.push(`  cycles: ${cycles || 'none'}`);
  process.stdout.write(out.join('\n') + '\n');
}

/** Registers `status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "the daemon's state and last cycle, from its status file (exit 0 well, 1 last cycle failed, 3 not running)",
    )
    .option(
      '--gni <file>',
      'the GNI path the daemon was given (the status file is beside it)',
      DEFAULT_GNI,
    )
    .option(
      '--status-file <file>',
      'the status file (default: eucanetd-status.json beside the GNI)',
    )
    .option('--json', 'print the status file with `running`')
    .action(statusCommand);
}
