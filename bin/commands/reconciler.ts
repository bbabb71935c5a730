/** Subcommands of the reconciler area (filled in by its owner). */
import type { Command } from 'commander';

/** Registers the reconciler subcommands on the program. */
export function registerReconcilerCommands(program: Command): void {
  void program;
}
