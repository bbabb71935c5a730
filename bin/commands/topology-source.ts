/**
 * Where a command reads and writes the topology: the embedded store (`--store DIR`, default
 * /var/lib/eucanetd; `memory:` for a throw-away store; `etcd://…` when that backend exists) or
 * a remote API (`--api URL` plus `--token-file`).
 */
import type { Command } from 'commander';
import type { Logger } from '../../src/common/index.js';
import { openStore } from '../../src/store/index.js';
import type { TopologyStore } from '../../src/store/index.js';

/** The options `storeOptions` adds. */
export interface TopologySourceOptions {
  store: string;
  api?: string;
  tokenFile?: string;
}

/** Adds `--store`, `--api` and `--token-file` to a command. */
export function storeOptions(c: Command): Command {
  return c
    .option(
      '--store <dir>',
      'topology store directory (or memory:, etcd://host:port/prefix)',
      '/var/lib/eucanetd',
    )
    .option('--api <url>', 'use a remote eucanetd API instead of a local store')
    .option('--token-file <file>', 'API credentials/token file (with --api)');
}

/** Opens the store or the API client the options name; `how.historySize`: commits an embedded
 * store keeps for `watch` (default the store's). */
export async function openTopology(
  opts: TopologySourceOptions,
  how: { readOnly: boolean; logger: Logger; historySize?: number },
): Promise<TopologyStore> {
  if (opts.api) {
    // loaded only with --api: a process on a store directory never loads the API code and
    // its HTTP client stack (axios)
    const { createApiClient } = await import('../../src/api/index.js');
    return createApiClient({
      url: opts.api,
      ...(opts.tokenFile ? { tokenFile: opts.tokenFile } : {}),
      logger: how.logger,
    });
  }
  try {
    return await openStore(opts.store, {
      readOnly: how.readOnly,
      logger: how.logger,
      ...(how.historySize !== undefined ? { historySize: how.historySize } : {}),
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw e;
    // e.g. `EACCES: permission denied, open '/var/lib/eucanetd/LOCK'`: say what it means
    throw new Error(
      `cannot open the store ${opts.store}${how.readOnly ? '' : ' for writing'}: ` +
        `${code === 'EROFS' ? 'read-only file system' : 'permission denied'} ` +
        `(run as the store's owner, or read it with --api) [${(e as Error).message}]`,
      { cause: e },
    );
  }
}
