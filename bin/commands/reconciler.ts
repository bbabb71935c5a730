/**
 * Controller subcommands: `run` (the daemon), `apply`, `flush` (`plan` and `diff`: plan.ts).
 * Only argument parsing and wiring live here; the work is in src/reconciler.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { createLogger, wantsHumanLogs } from '../../src/common/index.js';
import {
  flushManaged,
  flushOrdered,
  planFlush,
  reconcileView,
} from '../../src/reconciler/index.js';
import { confirm } from './confirm.js';
import { logFormatOption } from './log-format.js';
import {
  fail,
  LEVELS,
  progress,
  readView,
  requireExistingStore,
  withTopology,
} from './controller-common.js';
import { byKindText, runCommand } from './run.js';
import type { RunOptions } from './run.js';
import { loadSettings } from './settings.js';
import { DEFAULT_GNI } from './status.js';
import { storeOptions } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';

interface CommonOptions extends TopologySourceOptions {
  gni: string;
  config?: string;
  json?: boolean;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
}

async function applyCommand(opts: CommonOptions): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'warn', pretty: wantsHumanLogs() });
  try {
    const settings = loadSettings(opts, log);
    const view = await readView(opts.gni, log);
    const started = performance.now();
    const onProgress = progress('apply');
    const r = await withTopology(opts, false, log, (store) =>
      reconcileView(store, view, settings.mapping, {
        withChanges: opts.json === true,
        ...(onProgress ? { onProgress } : {}),
      }),
    );
    const c = r.plan.counts;
    const totalMs = Math.round(performance.now() - started);
    if (opts.json) {
      process.stdout.write(
        JSON.stringify(
          {
            version: view.version ?? null,
            counts: c,
            durations: r.durations,
            total_ms: totalMs,
            transactions: r.apply?.transactions ?? 0,
            ops: r.plan.ops,
            issues: r.mapping.issues,
          },
          null,
          2,
        ) + '\n',
      );
    } else {
      process.stdout.write(
        `applied GNI ${view.version ?? '(no version)'}: ${c.create} created, ${c.update} updated, ${c.delete} deleted, ${c.unchanged} unchanged` +
          (c.held ? `, ${c.held} held` : '') +
          ` in ${totalMs} ms (${r.apply?.transactions ?? 0} transactions)\n`,
      );
      for (const i of r.mapping.issues.slice(0, 20))
        process.stdout.write(`${i.severity} ${i.path} ${i.code}: ${i.message}\n`);
      if (r.mapping.issues.length > 20)
        process.stdout.write(`... ${r.mapping.issues.length - 20} more issues (use --json)\n`);
    }
  } catch (e) {
    // under --json a document on stdout, errors included (as `plan --json`)
    fail(e, opts.json ? {} : undefined);
  }
}

interface FlushOptions extends TopologySourceOptions {
  keepCore?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

async function flushCommand(opts: FlushOptions): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'warn', pretty: wantsHumanLogs() });
  try {
    if (opts.dryRun) await requireExistingStore(opts);
    await withTopology(opts, opts.dryRun === true, log, async (store) => {
      const planned = await planFlush(store, {
        keepCore: opts.keepCore === true,
        ordered: flushOrdered(store),
      });
      const kept = opts.keepCore
        ? `${planned.kept} core objects and hosts`
        : `${planned.kept} hosts`;
      const where = opts.api ?? opts.store;
      if (opts.dryRun) {
        process.stdout.write(
          `dry run: flush would delete ${planned.ops.length} objects from ${where} (${byKindText(planned.byKind)}), keep ${kept}\nnothing was changed\n`,
        );
        return;
      }
      const ok = await confirm(
        `flush deletes ${planned.ops.length} managed objects from ${where} (${byKindText(planned.byKind)}), keeping ${kept}.`,
        { yes: opts.yes, command: 'flush' },
      );
      if (!ok) {
        process.stderr.write('eucanetd: flush not confirmed; nothing changed\n');
        process.exitCode = 1;
        return;
      }
      const started = performance.now();
      const onProgress = progress('flush');
      const r = await flushManaged(store, {
        keepCore: opts.keepCore === true,
        // planned again after a confirmation on a terminal (the store may have changed meanwhile)
        ...(opts.yes === true ? { plan: planned } : {}),
        ...(onProgress ? { onProgress } : {}),
      });
      process.stdout.write(
        `flushed ${r.deleted} objects (kept ${kept}) in ${Math.round(performance.now() - started)} ms\n`,
      );
    });
  } catch (e) {
    fail(e);
  }
}

/** Registers run, apply and flush. */
export function registerReconcilerCommands(program: Command): void {
  const common = (c: Command, gniDefault?: string): Command => {
    storeOptions(c)
      .option('--config <file>', 'eucalyptus.conf-style settings file (POLLING_FREQUENCY, MIDO_*)')
      .addOption(new Option('--log-level <level>', 'log level').choices(LEVELS));
    if (gniDefault) c.option('--gni <file>', 'GNI document (XML or JSON)', gniDefault);
    else c.requiredOption('--gni <file>', 'GNI document (XML or JSON)');
    return c;
  };
  common(
    program
      .command('run')
      .description('the controller daemon: poll and watch the GNI, reconcile the topology'),
    DEFAULT_GNI,
  )
    .option('--interval <seconds>', 'poll interval (default: POLLING_FREQUENCY or 5)')
    .option('--resync-interval <seconds>', 'full store re-read and drift repair period', '60')
    .option(
      '--version-file <file>',
      'where the applied version is written (default: next to the GNI)',
    )
    .option('--pidfile <file>', 'write the process id here')
    .option(
      '--status-file <file>',
      'status for `eucanetd status` (default: next to the version file)',
    )
    .option('--log-file <file>', 'also append JSON log lines to this file (reopened on SIGHUP)')
    .addOption(logFormatOption())
    .option(
      '--report-interval <seconds>',
      'log the counters (eucanetd report) this often; 0: never',
      '300',
    )
    .option('--metrics <host:port>', 'serve Prometheus /metrics, /healthz and /readyz here')
    .option('--debounce-ms <ms>', 'wait this long after a file event before reading (default 50)')
    .option('--once', 'run one cycle and exit')
    .option('-F, --flush', 'delete every managed object, core included, then rebuild from the GNI')
    .option('--yes', 'confirm -F without asking (required when not on a terminal)')
    .option('--dry-run', 'with -F: print what the flush would delete and the rebuild create')
    .action((opts: RunOptions) => runCommand(opts));
  common(program.command('apply').description('run one reconcile cycle and print a summary'))
    .option('--json', 'machine-readable output')
    .action((opts: CommonOptions) => applyCommand(opts));
  storeOptions(
    program
      .command('flush')
      .description('delete every managed object (hosts are kept); asks on a terminal, else --yes'),
  )
    .option('--keep-core', 'keep eucart, eucabr, the gateways and the metadata core')
    .option('--yes', 'do not ask (required when not on a terminal)')
    .option('--dry-run', 'print what would be deleted; change nothing')
    .addOption(new Option('--log-level <level>', 'log level').choices(LEVELS))
    .action((opts: FlushOptions) => flushCommand(opts));
}
