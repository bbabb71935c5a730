/** Subcommands of the agent area (filled in by its owner). */
import type { Command } from 'commander';

/** Registers the agent subcommands on the program. */
export function registerAgentCommands(program: Command): void {
  void program;
}
