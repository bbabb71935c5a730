/**
 * Controller subcommands: `run` (the daemon), `apply`, `flush` (`plan` and `diff`: plan.ts).
 * Only argument parsing and wiring live here; the work is in src/reconciler.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Option } from 'commander';
import { createLogger } from '../../src/common/index.js';
import { Controller, flushManaged, reconcileView } from '../../src/reconciler/index.js';
import type { TopologyStore } from '../../src/store/index.js';
import { fail, LEVELS, progress, readView, withTopology } from './controller-common.js';
import { loadSettings } from './settings.js';
import { openTopology, storeOptions } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';

const DEFAULT_GNI = '/var/run/eucalyptus/global_network_info.xml';

interface CommonOptions extends TopologySourceOptions {
  gni: string;
  config?: string;
  json?: boolean;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
}

async function applyCommand(opts: CommonOptions): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'warn' });
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
    fail(e);
  }
}

async function flushCommand(
  opts: TopologySourceOptions & {
    keepCore?: boolean;
    logLevel?: 'error' | 'warn' | 'info' | 'debug';
  },
): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'info' });
  try {
    const started = performance.now();
    const onProgress = progress('flush');
    const r = await withTopology(opts, false, log, (store) =>
      flushManaged(store, {
        keepCore: opts.keepCore === true,
        ...(onProgress ? { onProgress } : {}),
      }),
    );
    process.stdout.write(
      `flushed ${r.deleted} objects${opts.keepCore ? ` (kept ${r.kept} core objects and hosts)` : ` (kept ${r.kept} hosts)`} in ${Math.round(performance.now() - started)} ms\n`,
    );
  } catch (e) {
    fail(e);
  }
}

interface RunOptions extends CommonOptions {
  interval?: string;
  resyncInterval?: string;
  versionFile?: string;
  pidfile?: string;
  once?: boolean;
  flush?: boolean;
  debounceMs?: string;
}

async function runCommand(opts: RunOptions): Promise<void> {
  const log = createLogger({
    level: opts.logLevel ?? 'info',
    ...(opts.logFile ? { file: opts.logFile } : {}),
  });
  let store: TopologyStore | undefined;
  try {
    const settings = loadSettings(opts, log);
    store = await openTopology(opts, { readOnly: false, logger: log });
    if (opts.pidfile) writeFileSync(opts.pidfile, `${process.pid}\n`);
    log.info('eucanetd started', {
      pid: process.pid,
      gni: opts.gni,
      store: opts.api ?? opts.store,
      interval_s: settings.pollingSeconds,
    });
    if (opts.flush) {
      // Validate the GNI before deleting anything: never flush what cannot be rebuilt.
      const view = await readView(opts.gni, log);
      const t = performance.now();
      const flushed = await flushManaged(store, {
        ...(progress('flush') ? { onProgress: progress('flush')! } : {}),
      });
      const rebuilt = await reconcileView(store, view, settings.mapping, {
        allocations: flushed.allocations,
        ...(progress('rebuild') ? { onProgress: progress('rebuild')! } : {}),
      });
      log.info('eucanetd flush and rebuild complete', {
        deleted: flushed.deleted,
        created: rebuilt.plan.counts.create,
        version: view.version,
        total_ms: Math.round(performance.now() - t),
      });
    }
    const controller = new Controller({
      store,
      gniPath: opts.gni,
      settings,
      logger: log,
      ...(opts.versionFile ? { versionFile: opts.versionFile } : {}),
      ...(opts.resyncInterval ? { resyncMs: Number(opts.resyncInterval) * 1000 } : {}),
      ...(opts.debounceMs !== undefined ? { debounceMs: debounceOf(opts.debounceMs) } : {}),
    });
    if (opts.once) {
      const report = await controller.runCycle();
      if (report.result === 'failed' || report.result === 'rejected' || report.result === 'missing')
        process.exitCode = 1;
      return;
    }
    const onStop = (sig: string) => () => {
      log.info('eucanetd caught signal, going down', { signal: sig });
      controller.stop();
    };
    process.on('SIGTERM', onStop('SIGTERM'));
    process.on('SIGINT', onStop('SIGINT'));
    process.on('SIGHUP', () => {
      log.info('eucanetd caught SIGHUP, reloading settings and re-applying');
      try {
        controller.reload(loadSettings(opts, log));
      } catch (e) {
        log.error('settings reload failed, keeping the old ones', { error: String(e) });
        controller.reload();
      }
    });
    process.on('SIGUSR1', () => controller.logCounters());
    process.on('SIGUSR2', () => {
      log.info('eucanetd caught SIGUSR2, full resync');
      controller.resync();
    });
    await controller.run();
    log.info('eucanetd down');
  } catch (e) {
    log.error('eucanetd failed', { error: e instanceof Error ? e.message : String(e) });
    fail(e);
  } finally {
    await store?.close();
    if (opts.pidfile) {
      try {
        unlinkSync(opts.pidfile);
      } catch {
        // already gone: nothing to clean up
      }
    }
  }
}

function debounceOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 60_000)
    throw new Error(`--debounce-ms must be a whole number of ms from 0 to 60000, got "${text}"`);
  return n;
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
      .command('run', { isDefault: true })
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
    .option('--log-file <file>', 'also append JSON log lines to this file')
    .option('--debounce-ms <ms>', 'wait this long after a file event before reading (default 50)')
    .option('--once', 'run one cycle and exit')
    .option('-F, --flush', 'delete every managed object, core included, then rebuild from the GNI')
    .action((opts: RunOptions) => runCommand(opts));
  common(program.command('apply').description('run one reconcile cycle and print a summary'))
    .option('--json', 'machine-readable output')
    .action((opts: CommonOptions) => applyCommand(opts));
  storeOptions(program.command('flush').description('delete every managed object (hosts are kept)'))
    .option('--keep-core', 'keep eucart, eucabr, the gateways and the metadata core')
    .addOption(new Option('--log-level <level>', 'log level').choices(LEVELS))
    .action((opts: TopologySourceOptions & { keepCore?: boolean }) => flushCommand(opts));
}
