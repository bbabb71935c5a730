/**
 * Guards for commands that delete: on a terminal they ask, elsewhere they need `--yes`.
 */
import { createInterface } from 'node:readline/promises';

/**
 * Asks before a destructive step. `--yes` answers for the operator; on a terminal the
 * question is printed on stderr and only `yes` goes on; without a terminal (a script, a
 * unit) the step is refused with an error that names `--yes` and `--dry-run`.
 */
export async function confirm(
  question: string,
  opts: { yes?: boolean | undefined; command: string },
): Promise<boolean> {
  if (opts.yes === true) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY)
    throw new Error(
      `${opts.command} deletes managed objects: pass --yes to confirm when not on a terminal ` +
        `(or --dry-run to see what it would delete)`,
    );
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\nType "yes" to go on: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
