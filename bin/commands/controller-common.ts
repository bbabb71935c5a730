/**
 * What the controller subcommands (run, plan, diff, apply, flush) share: reading settings and
 * GNI documents, opening the topology, progress on a terminal, and failing with one message.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Issue, Logger } from '../../src/common/index.js';
import { readGni } from '../../src/gni/index.js';
import type { GlobalView } from '../../src/gni/index.js';
import type { TopologyStore } from '../../src/store/index.js';
import { openTopology } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';

/** Log levels accepted by `--log-level`. */
export const LEVELS = ['error', 'warn', 'info', 'debug'];

/** A GNI document that could not be read or was rejected; carries the read's issues. */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
  constructor(
    message: string,
    readonly issues: readonly Issue[] = [],
  ) {
    super(message);
  }
}

/** A document read and accepted, with the issues of the read. */
export interface ReadDocument {
  readonly view: GlobalView;
  /** The document's bytes as read. */
  readonly bytes: Buffer;
  readonly issues: readonly Issue[];
}

/** Reads and validates a GNI file; throws `DocumentError` (naming the first errors) if rejected. */
export async function readDocument(path: string, log?: Logger): Promise<ReadDocument> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DocumentError(`cannot read GNI file ${path}: ${(e as Error).message}`);
  }
  const read = readGni(bytes);
  if (!read.view) {
    const errors = read.issues.filter((i) => i.severity === 'error');
    for (const i of errors.slice(0, 20))
      log?.error('GNI rejected', { path: i.path, code: i.code, detail: i.message });
    throw new DocumentError(
      `GNI ${path} rejected: ${errors
        .map((i) => `${i.path} ${i.code}: ${i.message}`)
        .slice(0, 3)
        .join('; ')}`,
      read.issues,
    );
  }
  return { view: read.view, bytes, issues: read.issues };
}

/** Reads and validates a GNI file (the view only). */
export async function readView(path: string, log?: Logger): Promise<GlobalView> {
  return (await readDocument(path, log)).view;
}

/** A progress callback drawing `label: done/total ops (n%)` on a terminal, else undefined. */
export function progress(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(
      `\r${label}: ${done}/${total} ops (${Math.floor((done / Math.max(1, total)) * 100)}%)`,
    );
    if (done >= total) process.stderr.write('\n');
  };
}

/**
 * Reports an error and sets exit code 1: `eucanetd: <message>` on stderr, or, with `json`
 * (the command's --json), a JSON document on stdout so a pipe always gets one: the fields of
 * `json` (a format version, say), then `error: { message, issues }` (a rejected document's
 * issues, else none).
 */
export function fail(e: unknown, json?: Readonly<Record<string, unknown>>): void {
  const message = e instanceof Error ? e.message : String(e);
  if (json !== undefined) {
    const issues = e instanceof DocumentError ? e.issues : [];
    process.stdout.write(JSON.stringify({ ...json, error: { message, issues } }, null, 2) + '\n');
  } else process.stderr.write(`eucanetd: ${message}\n`);
  process.exitCode = 1;
}

/**
 * A read-only look at a store must not invent one: a file store directory that does not exist
 * is an error (planning against it would show everything as created).
 */
export async function requireExistingStore(opts: TopologySourceOptions): Promise<void> {
  if (opts.api) return;
  const spec = opts.store;
  if (spec.startsWith('memory') || spec.startsWith('etcd:')) return;
  const dir = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory())
    throw new Error(
      `no store at ${dir} (nothing applied there yet; \`eucanetd apply\` or \`run\` creates it)`,
    );
}

/** Opens the topology, runs `f`, closes it. */
export async function withTopology<T>(
  opts: TopologySourceOptions,
  readOnly: boolean,
  log: Logger,
  f: (s: TopologyStore) => Promise<T>,
): Promise<T> {
  const store = await openTopology(opts, { readOnly, logger: log });
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}
