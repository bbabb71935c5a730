/**
 * `eucanetd plan` (what a cycle would change in a store) and `eucanetd diff OLD NEW` (the
 * topology change between two GNI documents, no store needed). Both print the plan report:
 * grouped by GNI entity, rules as match summaries, held entities with reasons, a summary line;
 * `--json` prints the versioned format of docs/plan-format.md, errors included.
 * Exit 0 no changes, 2 changes, 1 error.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { createLogger, wantsHumanLogs } from '../../src/common/index.js';
import type { Issue, Logger } from '../../src/common/index.js';
import {
  buildPlanReport,
  formatPlanReport,
  isEmptyPlan,
  PLAN_FORMAT_VERSION,
  reconcileView,
} from '../../src/reconciler/index.js';
import type { PlanReport, ReconcileResult } from '../../src/reconciler/index.js';
import { createMemoryStore } from '../../src/store/index.js';
import {
  fail,
  LEVELS,
  readDocument,
  requireExistingStore,
  withTopology,
} from './controller-common.js';
import { loadSettings } from './settings.js';
import { storeOptions } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';

interface PlanOptions extends TopologySourceOptions {
  gni: string;
  config?: string;
  json?: boolean;
  color?: boolean;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/** True when human output may use colours: a terminal, NO_COLOR unset, --no-color not given. */
export function useColour(stream: NodeJS.WriteStream, flag?: boolean): boolean {
  return flag !== false && stream.isTTY === true && !process.env['NO_COLOR'];
}

function reportOf(r: ReconcileResult, gniIssues: readonly Issue[], version?: string): PlanReport {
  return buildPlanReport({
    plan: r.plan,
    desired: r.mapping.desired,
    actual: r.actual,
    held: r.mapping.held,
    mappingIssues: r.mapping.issues,
    gniIssues,
    gniVersion: version,
  });
}

function print(report: PlanReport, r: ReconcileResult, opts: { json?: boolean; color?: boolean }) {
  if (opts.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else
    process.stdout.write(
      formatPlanReport(report, { color: useColour(process.stdout, opts.color) }) + '\n',
    );
  process.exitCode = isEmptyPlan(r.plan) ? 0 : 2;
}

/** Reports an error: as JSON on stdout under --json (with the plan format's version), else one
 * line on stderr. Exit 1. */
function failPlan(e: unknown, json: boolean | undefined): void {
  fail(e, json ? { formatVersion: PLAN_FORMAT_VERSION } : undefined);
}

async function planCommand(opts: PlanOptions): Promise<void> {
  const log = createLogger({ level: opts.logLevel ?? 'warn', pretty: wantsHumanLogs() });
  try {
    const settings = loadSettings(opts, log);
    const doc = await readDocument(opts.gni);
    await requireExistingStore(opts);
    const r = await withTopology(opts, true, log, (store) =>
      reconcileView(store, doc.view, settings.mapping, { dryRun: true }),
    );
    print(reportOf(r, doc.issues, doc.view.version), r, opts);
  } catch (e) {
    failPlan(e, opts.json);
  }
}

async function diffCommand(
  oldFile: string,
  newFile: string,
  opts: { json?: boolean; color?: boolean; config?: string },
  log: Logger,
): Promise<void> {
  try {
    const settings = loadSettings(opts, log);
    const before = await readDocument(oldFile);
    const after = await readDocument(newFile);
    const store = createMemoryStore();
    try {
      await reconcileView(store, before.view, settings.mapping);
      const r = await reconcileView(store, after.view, settings.mapping, { dryRun: true });
      print(reportOf(r, after.issues, after.view.version), r, opts);
    } finally {
      await store.close();
    }
  } catch (e) {
    failPlan(e, opts.json);
  }
}

/** Registers `plan` and `diff`. */
export function registerPlanCommands(program: Command): void {
  storeOptions(
    program
      .command('plan')
      .description('show what a cycle would change in the store (exit 0 none, 2 changes, 1 error)'),
  )
    .requiredOption('--gni <file>', 'GNI document (XML or JSON)')
    .option('--config <file>', 'eucalyptus.conf-style settings file')
    .option(
      '--json',
      `machine-readable output (format ${PLAN_FORMAT_VERSION}, docs/plan-format.md)`,
    )
    .option('--no-color', 'no colours on a terminal')
    .addOption(new Option('--log-level <level>', 'log level').choices(LEVELS))
    .action((opts: PlanOptions) => planCommand(opts));
  program
    .command('diff')
    .description(
      'the topology change between two GNI documents, no store needed (exit 0 none, 2 changes, 1 error)',
    )
    .argument('<old>', 'the GNI document applied now')
    .argument('<new>', 'the GNI document to compare with it')
    .option('--config <file>', 'eucalyptus.conf-style settings file')
    .option(
      '--json',
      `machine-readable output (format ${PLAN_FORMAT_VERSION}, docs/plan-format.md)`,
    )
    .option('--no-color', 'no colours on a terminal')
    .action((oldFile: string, newFile: string, opts: { json?: boolean; color?: boolean }) =>
      diffCommand(
        oldFile,
        newFile,
        opts,
        createLogger({ level: 'warn', pretty: wantsHumanLogs() }),
      ),
    );
}
