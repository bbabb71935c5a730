/** Subcommands of the store area (filled in by its owner). */
import type { Command } from 'commander';

/** Registers the store subcommands on the program. */
export function registerStoreCommands(program: Command): void {
  void program;
}
