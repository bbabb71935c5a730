/**
 * The composition root of the `eucanetd` CLI (commander). Each area registers its
 * subcommands from bin/commands/; this file only assembles them.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerGniCommands } from './commands/gni.js';
import { registerStoreCommands } from './commands/store.js';
import { registerReconcilerCommands } from './commands/reconciler.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerApiCommands } from './commands/api.js';
import { registerAgentCommands } from './commands/agent.js';

function packageVersion(): string {
  const url = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Builds the program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('eucanetd')
    .description('VPC network controller: GNI → virtual topology → Linux datapath')
    .version(packageVersion(), '-V, --version');
  registerGniCommands(program);
  registerStoreCommands(program);
  registerReconcilerCommands(program);
  registerPlanCommands(program);
  registerApiCommands(program);
  registerAgentCommands(program);
  return program;
}

/** Runs the CLI; sets process.exitCode from the command's result. */
export async function main(argv: readonly string[]): Promise<void> {
  // `eucanetd plan … | head`: a closed pipe ends the output quietly, not with a stack trace
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  await buildProgram().parseAsync([...argv]);
}
