/**
 * What the bench scripts share on their command line and in their output: an option's value
 * and the machine's load average (printed with every figure: the machines are shared).
 */
import { loadavg } from 'node:os';

/** The value after `--name` on the command line, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

/** The number after `--name` on the command line, or `dflt`; anything else than a number is an
 * error that names the option. */
export function numArg(name: string, dflt: number): number {
  const text = arg(name, String(dflt));
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n))
    throw new Error(`--${name}: not a number: ${text}`);
  return n;
}

/** The 1, 5 and 15 minute load averages, `digits` decimals each. */
export function load(digits = 2): string {
  return loadavg()
    .map((x) => x.toFixed(digits))
    .join(' ');
}
