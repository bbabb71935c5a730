/**
 * `eucanetd agent`: the per-host datapath agent. Parses arguments, opens the store (a
 * read-only follower of a store directory, or the REST API) and runs `runAgent` until
 * SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { createLogger, wantsHumanLogs } from '../../src/common/index.js';
import { openEtcdStore, openStore, type TopologyStore } from '../../src/store/index.js';
import type { HeartbeatLiveness } from '../../src/datapath/index.js';
import { logFormatOption, type LogFormat } from './log-format.js';

interface AgentFlags {
  host: string;
  store?: string;
  api?: string;
  token?: string;
  tokenFile?: string;
  metadataBackend: string;
  netnsPrefix: string;
  stateDir?: string;
  once?: boolean;
  dryRun?: boolean;
  resyncInterval: string;
  instanceMtu?: string;
  heartbeatPort?: string;
  allowRootNetns?: boolean;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  logFile?: string;
  logFormat: LogFormat;
}

/** Registers the agent subcommands on the program. */
export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description('the datapath agent: program this host (network namespace) from the topology')
    .requiredOption('--host <name>', 'this host: the GNI node name')
    .option('--store <dir>', 'store directory (opened as a read-only follower)')
    .option('--api <url>', 'REST API of the controller')
    .option('--token <token>', 'API token')
    .option('--token-file <file>', 'API credentials/token file (with --api)')
    .option(
      '--metadata-backend <url>',
      'where the metadata proxy forwards instance requests (http://host:port or unix:/path)',
      'http://127.0.0.1:8773',
    )
    .option(
      '--netns-prefix <prefix>',
      'prefix of the helper namespaces (one per router)',
      'eucanetd-',
    )
    .option('--state-dir <dir>', 'DHCP config and pid files (default /run/eucanetd-agent/<prefix>)')
    .option('--once', 'one pass, then exit')
    .option('--dry-run', 'print the ip/nft commands instead of running them')
    .option('--resync-interval <seconds>', 'periodic full pass (drift repair)', '10')
    .option(
      '--instance-mtu <bytes>',
      'MTU offered to instances by DHCP (default: the underlay device MTU minus 50, at most 1500)',
    )
    .option(
      '--heartbeat-port <port>',
      // the default is the datapath's HEARTBEAT_PORT (not imported here: the datapath code is
      // loaded only by the agent, test/daemon-modules.test.ts checks the two agree)
      'UDP port of the gateway heartbeats on the underlay (0: none, every gateway taken as alive) (default: 4799)',
    )
    .option('--allow-root-netns', 'allow programming the initial network namespace')
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .option('--log-file <file>', 'also append JSON log lines to this file')
    .addOption(logFormatOption())
    .action(async (flags: AgentFlags) => {
      // loaded here, not at the top: other commands (the daemon) never load the datapath code
      // nor the API client's HTTP stack
      const { createApiClient } = await import('../../src/api/index.js');
      const {
        createHeartbeatLiveness,
        createStoreLiveness,
        createRunner,
        HEARTBEAT_PORT,
        runAgent,
      } = await import('../../src/datapath/index.js');
      const logger = createLogger({
        level: flags.logLevel,
        pretty: wantsHumanLogs(flags.logFormat),
        ...(flags.logFile ? { file: flags.logFile } : {}),
      });
      const instanceMtu = flags.instanceMtu === undefined ? undefined : Number(flags.instanceMtu);
      if (
        instanceMtu !== undefined &&
        (!Number.isInteger(instanceMtu) || instanceMtu < 576 || instanceMtu > 65535)
      ) {
        logger.error('--instance-mtu must be an integer from 576 to 65535', {
          value: flags.instanceMtu,
        });
        process.exitCode = 2;
        return;
      }
      if ((flags.store === undefined) === (flags.api === undefined)) {
        logger.error('agent needs exactly one of --store DIR or --api URL');
        process.exitCode = 2;
        return;
      }
      // etcd accepts writes from many clients (optimistic commits): the agent registers its
      // host there directly, without the controller lock; a file store is a read-only follower
      const isEtcd = flags.store?.startsWith('etcd:') ?? false;
      const store: TopologyStore = flags.store
        ? isEtcd
          ? await openEtcdStore(flags.store, { lock: false, logger })
          : await openStore(flags.store, { readOnly: true, waitForStore: true, logger }) // file follower (waits for the daemon to create the store)
        : createApiClient({
            url: flags.api!,
            ...(flags.token ? { token: flags.token } : {}),
            ...(flags.tokenFile ? { tokenFile: flags.tokenFile } : {}),
            logger,
          });
      const port = flags.heartbeatPort === undefined ? HEARTBEAT_PORT : Number(flags.heartbeatPort);
      let liveness: HeartbeatLiveness | undefined;
      if (port > 0 && !flags.once && !flags.dryRun) {
        liveness = await createHeartbeatLiveness({ port, runner: createRunner(), logger }).catch(
          (e: unknown) => {
            logger.warn('no gateway heartbeats: every gateway is taken as alive', {
              port,
              error: String(e),
            });
            return undefined;
          },
        );
      }
      // the store's heartbeats are the authority for a gateway whose agent is gone, the UDP
      // heartbeats detect a death within seconds
      const gatewayLiveness =
        flags.once || flags.dryRun
          ? undefined
          : createStoreLiveness(liveness ? { fast: liveness } : {});
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runAgent({
          store,
          host: flags.host,
          netnsPrefix: flags.netnsPrefix,
          logger,
          signal: controller.signal,
          resyncMs: Math.max(0.1, Number(flags.resyncInterval)) * 1000,
          ...(instanceMtu !== undefined ? { instanceMtu } : {}),
          register: flags.api !== undefined,
          metadataBackend: flags.metadataBackend,
          ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
          ...(flags.once ? { once: true } : {}),
          ...(flags.dryRun
            ? { dryRun: true, print: (t: string) => process.stdout.write(t + '\n') }
            : {}),
          ...(flags.allowRootNetns ? { allowRootNetns: true } : {}),
          ...(gatewayLiveness ? { gatewayLiveness } : {}),
        });
      } catch (e) {
        logger.error('agent failed', { error: String(e) });
        process.exitCode = 1;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        gatewayLiveness?.close();
        await liveness?.close();
        await store.close();
      }
    });
}
