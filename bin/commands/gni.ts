/** Subcommands of the gni area (filled in by its owner). */
import type { Command } from 'commander';

/** Registers the gni subcommands on the program. */
export function registerGniCommands(program: Command): void {
  void program;
}
