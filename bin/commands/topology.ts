/**
 * `eucanetd topology list KIND` and `topology show KIND NAME|ID`, read-only (no lock: they
 * work while the daemon runs), on a store directory or a remote API (`--api`). Kinds in any
 * case and plural (`routers`, `Router`, `ip-addr-groups`). Objects are named as the plan
 * prints them (`eucabr:vif-…`, rules `sg_ingress_sg-…#3`), sorted by that name, filtered by
 * `--owner` and `--name` prefix; `-o wide` adds the ids and key fields, `-o json` prints JSON.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { closest, silentLogger } from '../../src/common/index.js';
import { describeObject, ruleSummary } from '../../src/reconciler/index.js';
import type { Lookup } from '../../src/reconciler/index.js';
import { KINDS } from '../../src/store/index.js';
import type { AnyObject, Kind, TopologyStore } from '../../src/store/index.js';
import { formatTable } from './store.js';
import { openTopology, storeOptions } from './topology-source.js';
import type { TopologySourceOptions } from './topology-source.js';
import { requireExistingStore } from './controller-common.js';

/** Parses a kind: any case, `_` for `-`, plural or singular. Throws naming the closest kinds. */
export function parseKind(text: string): Kind {
  const k = text.toLowerCase().replace(/_/g, '-');
  const bare = (s: string): string => s.replace(/-/g, '');
  const singular = k.endsWith('ies') ? `${k.slice(0, -3)}y` : k.endsWith('s') ? k.slice(0, -1) : k;
  for (const cand of [k, singular]) {
    const hit = KINDS.find((kind) => kind === cand || bare(kind) === bare(cand));
    if (hit) return hit;
  }
  const near = closest(singular, KINDS, 2);
  throw new Error(
    `unknown kind "${text}"${near.length ? ` (did you mean ${near.slice(0, 2).join(' or ')}?)` : ''}; kinds: ${KINDS.join(', ')}`,
  );
}

/** The parents an object's name is made from (ports: devices; rules: chains and groups). */
const NAME_SOURCES: Partial<Record<Kind, readonly Kind[]>> = {
  port: ['router', 'bridge'],
  rule: ['chain', 'ip-addr-group', 'port', 'router', 'bridge'],
  route: ['router', 'port'],
  'dhcp-subnet': ['bridge'],
  'arp-entry': ['bridge'],
  'mac-entry': ['bridge'],
  'bgp-peer': ['router'],
  'bgp-network': ['router'],
};

interface Named {
  readonly name: string;
  readonly object: AnyObject;
}

/** Every object of a kind with the name the plan prints for it, sorted by that name. */
async function namedObjects(
  store: TopologyStore,
  kind: Kind,
): Promise<{ list: Named[]; lookup: Lookup }> {
  const maps = new Map<Kind, Map<string, AnyObject>>();
  for (const k of new Set<Kind>([kind, ...(NAME_SOURCES[kind] ?? [])])) {
    maps.set(k, new Map((await store.list(k)).map((o) => [o.id, o as AnyObject])));
  }
  const lookup: Lookup = (k, id) => maps.get(k)?.get(id);
  const list = [...maps.get(kind)!.values()].map((object) => ({
    name: describeObject(kind, object, lookup),
    object,
  }));
  list.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : a.object.id < b.object.id ? -1 : 1,
  );
  return { list, lookup };
}

function detail(kind: Kind, o: AnyObject, lookup: Lookup): string {
  const f = o as unknown as Record<string, unknown>;
  const name = (k: Kind, id: unknown): string => {
    const x = typeof id === 'string' ? lookup(k, id) : undefined;
    return x ? describeObject(k, x, lookup) : typeof id === 'string' ? id.slice(0, 8) : '-';
  };
  switch (kind) {
    case 'rule':
      return ruleSummary(o, lookup);
    case 'port':
      return [
        f['type'],
        f['portAddress'] ? `${String(f['portAddress'])}/${String(f['networkLength'])}` : '',
        f['peerId'] ? `peer ${name('port', f['peerId'])}` : '',
      ]
        .filter(Boolean)
        .join(' ');
    case 'route':
      return `${String(f['type'])} via ${f['nextHopGateway'] ? String(f['nextHopGateway']) : name('port', f['nextHopPort'])} weight ${String(f['weight'])}`;
    case 'chain':
      return `${((f['ruleIds'] as unknown[] | undefined) ?? []).length} rules`;
    case 'ip-addr-group':
      return `${((f['addresses'] as unknown[] | undefined) ?? []).length} addresses`;
    case 'bridge':
      return f['vni'] !== undefined ? `vni ${String(f['vni'])}` : '';
    case 'dhcp-subnet':
      return `gw ${String(f['defaultGateway'] ?? '-')} ${((f['hosts'] as unknown[] | undefined) ?? []).length} hosts`;
    case 'host':
      return ((f['addresses'] as unknown[] | undefined) ?? []).join(',');
    default:
      return '';
  }
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

interface ListOptions extends TopologySourceOptions {
  owner?: string;
  name?: string;
  output?: 'table' | 'wide' | 'json';
  json?: boolean;
}

async function withReader(opts: TopologySourceOptions, f: (s: TopologyStore) => Promise<void>) {
  let store: TopologyStore | undefined;
  try {
    await requireExistingStore(opts);
    store = await openTopology(opts, { readOnly: true, logger: silentLogger() });
    await f(store);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'EACCES' || err.code === 'EPERM'
        ? `cannot read the store ${opts.api ?? opts.store}: permission denied (${err.message})`
        : err.message;
    process.stderr.write(`eucanetd: ${why}\n`);
    process.exitCode = 1;
  } finally {
    await store?.close().catch(() => undefined);
  }
}

async function listCommand(kindText: string, opts: ListOptions): Promise<void> {
  await withReader(opts, async (store) => {
    const kind = parseKind(kindText);
    const { list, lookup } = await namedObjects(store, kind);
    const shown = list.filter(
      (n) =>
        (opts.owner === undefined || n.object.owner === opts.owner) &&
        (opts.name === undefined || n.name.startsWith(opts.name)),
    );
    const output = opts.json ? 'json' : (opts.output ?? 'table');
    if (output === 'json') {
      process.stdout.write(
        JSON.stringify(
          shown.map((n) => ({ name: n.name, ...n.object })),
          null,
          2,
        ) + '\n',
      );
      return;
    }
    if (output === 'wide') {
      process.stdout.write(
        formatTable(
          kind,
          shown.map((n) => n.object),
        ).replace(/^ID/, 'ID') + '\n',
      );
      return;
    }
    const rows = [
      ['NAME', 'OWNER', 'DETAIL'],
      ...shown.map((n) => [n.name, n.object.owner ?? '-', detail(kind, n.object, lookup)]),
    ];
    process.stdout.write(table(rows) + '\n');
    if (shown.length === 0)
      process.stderr.write(`no ${kind} objects${opts.owner || opts.name ? ' match' : ''}\n`);
  });
}

async function showCommand(
  kindText: string,
  key: string,
  opts: TopologySourceOptions & { json?: boolean },
) {
  await withReader(opts, async (store) => {
    const kind = parseKind(kindText);
    let obj: AnyObject | undefined = ((await store.get(kind, key)) ??
      (await store.getByName(kind, key))) as AnyObject | undefined;
    let candidates: Named[] = [];
    if (!obj) {
      const { list } = await namedObjects(store, kind);
      const hits = list.filter((n) => n.name === key);
      if (hits.length > 1)
        throw new Error(
          `${kind} "${key}" names ${hits.length} objects; use an id: ${hits.map((h) => h.object.id).join(', ')}`,
        );
      obj = hits[0]?.object;
      candidates = list;
    }
    if (!obj) {
      const near = closest(
        key,
        candidates.map((n) => n.name),
        Math.max(2, Math.floor(key.length / 4)),
      );
      throw new Error(
        `${kind} "${key}" not found${near.length ? ` (did you mean ${near.slice(0, 3).join(', ')}?)` : ''}`,
      );
    }
    if (opts.json) {
      process.stdout.write(JSON.stringify(obj, null, 2) + '\n');
      return;
    }
    for (const [k, v] of Object.entries(obj))
      process.stdout.write(
        `${k.padEnd(20)} ${Array.isArray(v) || (typeof v === 'object' && v !== null) ? JSON.stringify(v) : String(v)}\n`,
      );
  });
}

/** Registers `topology list|show`. */
export function registerTopologyCommands(program: Command): void {
  const topology = program.command('topology').description('list and show topology objects');
  storeOptions(
    topology
      .command('list')
      .description(
        `list the objects of a kind, sorted by name (${KINDS.join(', ')}; plurals and any case)`,
      )
      .argument('<kind>', 'object kind'),
  )
    .option('--owner <entity>', 'only objects of this GNI entity (sg-…, i-…, core, …)')
    .option('--name <prefix>', 'only objects whose name starts with this')
    .addOption(
      new Option('-o, --output <format>', 'table, wide (ids and fields) or json').choices([
        'table',
        'wide',
        'json',
      ]),
    )
    .option('--json', 'same as -o json')
    .action(listCommand);
  storeOptions(
    topology
      .command('show')
      .description(
        'show one object by id, name, or the name plan prints (port eucabr:vif-…, rule <chain>#<n>)',
      )
      .argument('<kind>', 'object kind')
      .argument('<idOrName>', 'object id or name'),
  )
    .option('--json', 'print JSON')
    .action(showCommand);
}
