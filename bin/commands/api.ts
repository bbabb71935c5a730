/** Subcommands of the api area (filled in by its owner). */
import type { Command } from 'commander';

/** Registers the api subcommands on the program. */
export function registerApiCommands(program: Command): void {
  void program;
}
