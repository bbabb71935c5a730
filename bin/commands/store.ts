/**
 * Store subcommands: `eucanetd store verify` opens the store read-only (no lock), so it works
 * while the daemon runs; `eucanetd store recover` takes the writer lock and changes files only
 * with `--to-revision N --yes`, after printing what it drops. (`topology list|show`: topology.ts.)
 */
import type { Command } from 'commander';
import { createLogger } from '../../src/common/index.js';
import {
  planRecovery,
  recoverStore,
  type RecoveryPlan,
  isStoreError,
  KINDS,
  NAMED_KINDS,
  openFileStore,
  openStore,
  StoreCorruptError,
  StoreError,
  verifyStore,
  type AnyObject,
  type Kind,
  type TopologyStore,
} from '../../src/store/index.js';

/** Default store directory of the daemon. */
export const DEFAULT_STORE_DIR = '/var/lib/eucanetd';

function out(line: string): void {
  process.stdout.write(line + '\n');
}

function fail(message: string): void {
  process.stderr.write(`eucanetd: ${message}\n`);
  process.exitCode = 1;
}

async function openReadOnly(spec: string): Promise<TopologyStore> {
  if (spec.startsWith('etcd:') || spec.startsWith('memory'))
    return openStore(spec, { readOnly: true });
  const dir = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  const { stat } = await import('node:fs/promises');
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new StoreError(`no store at ${dir}`);
  return openFileStore(dir, { readOnly: true });
}

/** The fields shown in the `topology list` table after id and name, per kind. */
const SUMMARY: { readonly [K in Kind]: readonly string[] } = {
  router: ['adminStateUp', 'portIds'],
  bridge: ['vni', 'portIds'],
  port: ['type', 'routerId', 'bridgeId', 'portAddress', 'peerId', 'hostId', 'interfaceName'],
  chain: ['ruleIds'],
  rule: ['chainId', 'type', 'nwProto', 'nwSrcAddress', 'nwSrcLength', 'tpDst', 'jumpChainId'],
  'ip-addr-group': ['addresses'],
  route: ['routerId', 'type', 'dstNetworkAddr', 'dstNetworkLength', 'nextHopPort', 'weight'],
  'dhcp-subnet': ['bridgeId', 'subnetPrefix', 'subnetLength', 'defaultGateway', 'hosts'],
  host: ['addresses', 'portIds'],
  'tunnel-zone': ['type', 'hosts'],
  'port-group': ['stateful', 'portIds'],
  'bgp-peer': ['routerId', 'asNumber', 'address'],
  'bgp-network': ['routerId', 'subnetAddress', 'subnetLength'],
  'arp-entry': ['bridgeId', 'ip', 'mac'],
  'mac-entry': ['bridgeId', 'macAddr', 'portId'],
};

function cell(v: unknown): string {
  if (v === undefined) return '-';
  if (Array.isArray(v))
    return v.length <= 2 && v.every((e) => typeof e !== 'object')
      ? v.join(',') || '-'
      : `[${v.length}]`;
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return String(v);
}

/** Formats objects as an aligned text table. */
export function formatTable(kind: Kind, objects: readonly AnyObject[]): string {
  const cols = ['id', ...(NAMED_KINDS.has(kind) ? ['name'] : []), ...SUMMARY[kind]];
  const rows = objects.map((o) =>
    cols.map((c) => cell((o as unknown as Record<string, unknown>)[c])),
  );
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]): string =>
    r
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...rows.map(line)].join('\n');
}

async function withStore(dir: string, fn: (store: TopologyStore) => Promise<void>): Promise<void> {
  let store: TopologyStore | undefined;
  try {
    store = await openReadOnly(dir);
    await fn(store);
  } catch (e) {
    if (!isStoreError(e)) throw e;
    fail(e.message);
  } finally {
    await store?.close();
  }
}

async function verifyCommand(opts: { store: string }): Promise<void> {
  try {
    let problems: Awaited<ReturnType<typeof verifyStore>> = [];
    if (opts.store.startsWith('etcd:')) {
      await withStore(opts.store, async (store) => {
        problems = await verifyStore(store);
      });
    } else {
      problems = await verifyStore(opts.store);
    }
    if (problems.length > 0) {
      for (const p of problems) fail(`broken: ${p.message}`);
      return;
    }
    await withStore(opts.store, async (store) => {
      let n = 0;
      for (const kind of KINDS) n += (await store.list(kind)).length;
      out(`ok: ${n} objects, revision ${await store.revision()}`);
    });
  } catch (e) {
    if (!isStoreError(e)) throw e;
    fail(e.message);
    if (e instanceof StoreCorruptError)
      fail(`to see what a recovery would drop: eucanetd store recover --store ${opts.store}`);
  }
}

function printPlan(plan: RecoveryPlan): void {
  out(plan.problem ?? `store ${plan.dir}: opens as it is (no damage found)`);
  const from =
    plan.snapshotRevision === 0
      ? 'an empty store'
      : `the snapshot at revision ${plan.snapshotRevision}`;
  out(
    `recoverable: revisions up to ${plan.recoverable} (from ${from} and the journal records after it)`,
  );
  if (plan.committed !== undefined) out(`MANIFEST says revision ${plan.committed} was committed`);
  if (plan.dropped.length === 0) {
    out(`keeping revision ${plan.toRevision} drops nothing`);
    return;
  }
  out(`keeping revision ${plan.toRevision} drops:`);
  for (const d of plan.dropped) {
    const revs =
      d.last !== undefined ? `revisions ${d.revision}..${d.last}` : `revision ${d.revision}`;
    const at = d.offset !== undefined ? ` (journal.log byte offset ${d.offset})` : '';
    out(`  ${revs}${at}: ${d.what}`);
  }
}

async function recoverCommand(opts: {
  store: string;
  toRevision?: string;
  yes?: boolean;
}): Promise<void> {
  try {
    const dir = opts.store.startsWith('file:') ? opts.store.slice('file:'.length) : opts.store;
    if (dir.startsWith('etcd:') || dir.startsWith('memory'))
      throw new StoreError('store recover works on a file store directory');
    const to = opts.toRevision === undefined ? undefined : Number(opts.toRevision);
    if (to !== undefined && !(Number.isInteger(to) && to >= 0))
      throw new StoreError(`--to-revision ${opts.toRevision}: expected a revision number`);
    const plan = await planRecovery(dir, to);
    printPlan(plan);
    if (to === undefined || !opts.yes) {
      out(
        `nothing changed; to recover, run: eucanetd store recover --store ${dir} --to-revision ${plan.toRevision} --yes`,
      );
      if (plan.problem !== undefined || plan.dropped.length > 0) process.exitCode = 1;
      return;
    }
    const logger = createLogger({ level: 'info' });
    const { savedTo } = await recoverStore(dir, to, logger);
    out(`recovered: store ${dir} is at revision ${to}; the previous files are in ${savedTo}`);
  } catch (e) {
    if (!isStoreError(e)) throw e;
    fail(e.message);
  }
}

/** Registers `store verify|recover` on the program (`topology list|show`: topology.ts). */
export function registerStoreCommands(program: Command): void {
  const store = program.command('store').description('inspect the embedded topology store');
  store
    .command('verify')
    .description('check every binding of a store directory (exit 1 naming each broken object)')
    .option('--store <dir>', 'store directory', DEFAULT_STORE_DIR)
    .action(verifyCommand);
  store
    .command('recover')
    .description(
      'say what recovering a refused store to a revision drops; with --to-revision N --yes, do it (the old files are kept in DIR/damaged-<time>/)',
    )
    .option('--store <dir>', 'store directory', DEFAULT_STORE_DIR)
    .option('--to-revision <n>', 'the revision to keep (default: the highest recoverable)')
    .option('--yes', 'drop what is listed and write the recovered store')
    .action(recoverCommand);
}
