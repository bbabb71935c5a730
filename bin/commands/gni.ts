/**
 * Subcommands of the gni area:
 *   eucanetd gni validate FILE [--json]          issues, then exit 0 (valid), 2 (usable, but some
 *                                                entities are invalid and held) or 1 (rejected)
 *   eucanetd gni convert FILE --to json|xml [-o OUT]   the canonical form (exit 1 if rejected)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  countIssues,
  formatIssue,
  readGni,
  writeGniJson,
  writeGniXml,
  type ReadResult,
} from '../../src/gni/index.js';

/** Reads FILE and parses it; prints a clear message and returns undefined if unreadable. */
function readFile(file: string): ReadResult | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    process.stderr.write(`eucanetd gni: cannot read ${file}: ${detail}\n`);
    return undefined;
  }
  return readGni(bytes);
}

/** `validate`: prints issues (human lines or JSON) and sets the exit code. */
function validate(file: string, opts: { json?: boolean }): void {
  const result = readFile(file);
  if (result === undefined) {
    process.exitCode = 1;
    return;
  }
  const ok = result.view !== undefined;
  const counts = countIssues(result.issues);
  if (opts.json === true) {
    const invalid = result.view === undefined ? [] : [...result.view.invalid].sort();
    const out = {
      ok,
      format: result.format,
      bytes: result.bytes,
      counts,
      invalid,
      issues: result.issues,
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    for (const issue of result.issues) process.stdout.write(`${formatIssue(issue)}\n`);
    const held = result.view === undefined ? [] : [...result.view.invalid].sort();
    const verdict = !ok
      ? 'REJECTED'
      : held.length === 0
        ? 'valid'
        : `usable, but ${held.length} invalid entit${held.length === 1 ? 'y is' : 'ies are'} held (left as they are): ${held.join(', ')}`;
    process.stdout.write(
      `${file}: ${verdict}: ${counts.errors} error(s), ${counts.warnings} warning(s) [${result.format}, ${result.bytes} bytes]\n`,
    );
  }
  process.exitCode = !ok ? 1 : result.view!.invalid.size > 0 ? 2 : 0;
}

/** `convert`: writes the canonical JSON or XML form to stdout or OUT. */
function convert(file: string, opts: { to: string; output?: string }): void {
  if (opts.to !== 'json' && opts.to !== 'xml') {
    process.stderr.write(`eucanetd gni convert: --to must be json or xml, not ${opts.to}\n`);
    process.exitCode = 1;
    return;
  }
  const result = readFile(file);
  if (result === undefined) {
    process.exitCode = 1;
    return;
  }
  if (result.view === undefined) {
    for (const issue of result.issues) {
      if (issue.severity === 'error') process.stderr.write(`${formatIssue(issue)}\n`);
    }
    process.stderr.write(`eucanetd gni convert: ${file} is rejected; nothing written\n`);
    process.exitCode = 1;
    return;
  }
  const text = opts.to === 'json' ? writeGniJson(result.view) : writeGniXml(result.view);
  if (opts.output === undefined) process.stdout.write(text);
  else {
    try {
      writeFileSync(opts.output, text);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      process.stderr.write(`eucanetd gni convert: cannot write ${opts.output}: ${detail}\n`);
      process.exitCode = 1;
      return;
    }
  }
  process.exitCode = 0;
}

/** Registers the gni subcommands on the program. */
export function registerGniCommands(program: Command): void {
  const gni = program.command('gni').description('read, validate and convert GNI documents');
  gni
    .command('validate')
    .description(
      'validate a GNI document (XML or JSON); exit 0 valid, 2 usable with held entities, 1 rejected',
    )
    .argument('<file>', 'GNI document')
    .option('--json', 'print { ok, issues, counts } as JSON')
    .action((file: string, opts: { json?: boolean }) => validate(file, opts));
  gni
    .command('convert')
    .description('write the canonical JSON or XML form of a GNI document')
    .argument('<file>', 'GNI document')
    .requiredOption('--to <format>', 'json or xml')
    .option('-o, --output <file>', 'write here instead of stdout')
    .action((file: string, opts: { to: string; output?: string }) => convert(file, opts));
}
