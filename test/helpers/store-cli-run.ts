/** Runs the store CLI commands in-process (stdout, stderr and exit code captured). */
import { Command } from 'commander';
import { registerStoreCommands } from '../../bin/commands/store.js';
import { registerTopologyCommands } from '../../bin/commands/topology.js';

/** Runs the store commands in-process and returns what they printed and the exit code. */
export async function runStoreCommand(
  ...args: string[]
): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command('eucanetd').exitOverride();
  registerStoreCommands(program);
  registerTopologyCommands(program);
  let stdout = '';
  let stderr = '';
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  const saved = process.exitCode;
  process.exitCode = 0;
  process.stdout.write = ((s: string) => ((stdout += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'eucanetd', ...args]);
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = saved;
  return { stdout, stderr, code };
}
