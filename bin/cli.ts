/**
 * The composition root of the `eucanetd` CLI (commander). Each area registers its
 * subcommands from bin/commands/; this file only assembles them. A subcommand is required:
 * a bare `eucanetd` prints the help (exit 1), an unknown one is refused with the closest
 * names ("unknown command 'plann' … did you mean plan?").
 */
import { Command } from 'commander';
import { registerGniCommands } from './commands/gni.js';
import { registerStoreCommands } from './commands/store.js';
import { registerTopologyCommands } from './commands/topology.js';
import { registerReconcilerCommands } from './commands/reconciler.js';
import { registerPlanCommands } from './commands/plan.js';
import { registerApiCommands } from './commands/api.js';
import { registerAgentCommands } from './commands/agent.js';
import { registerStatusCommand } from './commands/status.js';
import { programVersion, registerVersionCommand } from './commands/version.js';
import { registerCompletionCommand } from './commands/completion.js';

/** Builds the program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('eucanetd')
    .description('VPC network controller: GNI → virtual topology → Linux datapath')
    .version(programVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run `eucanetd help` for the commands)');
  registerGniCommands(program);
  registerStoreCommands(program);
  registerTopologyCommands(program);
  registerReconcilerCommands(program);
  registerPlanCommands(program);
  registerStatusCommand(program);
  registerApiCommands(program);
  registerAgentCommands(program);
  registerVersionCommand(program);
  registerCompletionCommand(program);
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
