/**
 * `eucanetd version` and the program version the daemon logs at start.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** The package version (package.json next to bin/ and dist/). */
export function programVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'eucanetd-ts') return pkg.version ?? '0.0.0';
    } catch {
      // not at this level: try the next one
    }
  }
  return '0.0.0';
}

/** Registers `version`. */
export function registerVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print the program version')
    .option('--json', 'print {"version","node"} as JSON')
    .action((opts: { json?: boolean }) => {
      const v = programVersion();
      process.stdout.write(
        opts.json
          ? JSON.stringify({ program: 'eucanetd-ts', version: v, node: process.version }) + '\n'
          : `eucanetd-ts ${v} (node ${process.version})\n`,
      );
    });
}
