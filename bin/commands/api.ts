/**
 * `eucanetd api`: serves the topology store over the MidoNet-v5-style REST API.
 * Only argument parsing and wiring live here; the work is in src/api.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { wantsHumanLogs, createLogger, isTerminalError } from '../../src/common/index.js';
import { openStore } from '../../src/store/index.js';
import { logFormatOption, type LogFormat } from './log-format.js';

interface ApiOptions {
  store: string;
  listen: string;
  tokenFile?: string;
  auth: boolean;
  allowRemote?: boolean;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
  logFormat: LogFormat;
}

/** Registers the api subcommands on the program. */
export function registerApiCommands(program: Command): void {
  program
    .command('api')
    .description('serve the topology store over the MidoNet v5 style REST API (root /midonet-api)')
    .option('--store <dir>', 'topology store directory (or memory:)', '/var/lib/eucanetd')
    .option('--listen <addr>', 'HOST:PORT or unix:/path/to.sock', '127.0.0.1:8181')
    .option('--token-file <file>', 'JSON {"users":[{"name","password"}],"tokens":["…"]}')
    .option('--no-auth', 'accept every call without a token (local testing only)')
    .option('--allow-remote', 'allow listening on a non-loopback address')
    .addOption(
      new Option('--log-level <level>', 'log level')
        .choices(['error', 'warn', 'info', 'debug'])
        .default('info'),
    )
    .option('--log-file <file>', 'also append JSON log lines to this file')
    .addOption(logFormatOption())
    .action(async (opts: ApiOptions) => {
      const logger = createLogger({
        pretty: wantsHumanLogs(opts.logFormat),
        level: opts.logLevel,
        ...(opts.logFile ? { file: opts.logFile } : {}),
      });
      try {
        await serve(opts, logger);
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        process.stderr.write(`eucanetd api: ${message}\n`);
        process.exitCode = isTerminalError(e) ? 2 : 1;
      }
    });
}

async function serve(opts: ApiOptions, logger: ReturnType<typeof createLogger>): Promise<void> {
  // loaded here, not at the top: other commands (the daemon) never load the API server
  const { loadAuthFile, parseListen, startApiServer } = await import('../../src/api/index.js');
  if (opts.auth && opts.tokenFile === undefined) {
    throw new Error(
      'no --token-file: the API needs credentials (JSON {"users":[{"name","password"}],"tokens":[…]}); ' +
        'pass --no-auth to run without authentication for local testing',
    );
  }
  const auth = opts.auth ? loadAuthFile(opts.tokenFile!) : 'none';
  if (auth === 'none') logger.warn('api authentication disabled', { flag: '--no-auth' });
  const listen = parseListen(opts.listen);
  const store = await openStore(opts.store, { logger });
  let server;
  try {
    server = await startApiServer({
      store,
      auth,
      listen,
      logger,
      ...(opts.allowRemote ? { allowRemote: true } : {}),
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  process.stdout.write(`eucanetd api: listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info('api stopping', { signal });
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await server.close();
  await store.close();
  logger.info('api stopped', {});
}
