/**
 * Reading the host's actual state: `ip -json` for links, namespaces, addresses, routes and
 * neighbors, `nft -j` for the agent's tables, the state directory and /proc for the DHCP
 * servers. Read-only; the result feeds the pure planner.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandRunner } from './exec.js';
import { appliedTable, parseNftJson, type NftFamily, type ObservedNftTable } from './nft.js';
import type {
  ObservedDhcp,
  ObservedHost,
  ObservedLink,
  ObservedNs,
  ObservedProcess,
} from './plan.js';
import { nexthopKey, routeKey, type PlanScope } from './plan.js';
import { BRIDGE_PREFIX, MD_MAP, MD_PROXY_PID, NFT_TABLE, ROUTE_PROTO } from './names.js';
import { BGP_PROCESS, BIRD_CONF, BIRD_PID } from './bgp.js';
import { RULE_PREF } from './desired.js';
import type { DesiredRouterNs } from './desired.js';

interface IpLink {
  ifname: string;
  flags?: string[];
  master?: string;
  ifalias?: string;
  address?: string;
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { learning?: boolean } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

function parseJson<T>(text: string): T[] {
  const t = text.trim();
  return t === '' ? [] : (JSON.parse(t) as T[]);
}

function toLink(l: IpLink): ObservedLink {
  return {
    name: l.ifname,
    isUp: l.flags?.includes('UP') ?? false,
    ...(l.master !== undefined ? { master: l.master } : {}),
    ...(l.ifalias !== undefined ? { alias: l.ifalias } : {}),
    ...(l.address !== undefined ? { mac: l.address } : {}),
    ...(l.linkinfo?.info_slave_kind === 'bridge' &&
    l.linkinfo.info_slave_data?.learning !== undefined
      ? { learning: l.linkinfo.info_slave_data.learning }
      : {}),
    ...(l.addr_info
      ? {
          addrs: l.addr_info
            .filter((a) => a.family === 'inet')
            .map((a) => `${a.local}/${a.prefixlen}`),
        }
      : {}),
  };
}

/** What an event-driven pass may take from the previous pass instead of reading it. */
export interface ObservedCache {
  readonly namespaces: ReadonlyMap<string, ObservedNs>;
  readonly nft: ReadonlyMap<NftFamily, ObservedNftTable | undefined>;
  /** The instance MTU derived by the last full pass (undefined: none derived). */
  readonly instanceMtu?: number;
}

/** Reads everything the planner compares. */
export async function observeHost(
  run: CommandRunner,
  options: {
    netnsPrefix: string;
    stateDir: string;
    /** State known from the last pass: router namespaces (skips 4 commands per namespace)
     * and the nft tables (skips listing them). */
    cache?: ObservedCache;
    /** `filters` (needs `cache`): only what `planHost(…, 'filters')` compares: the nft tables
     * and router namespaces from the cache, and the kept files; nothing else is read. */
    scope?: PlanScope;
  },
): Promise<ObservedHost> {
  if (options.scope === 'filters' && options.cache) {
    return {
      links: new Map(),
      namespaces: options.cache.namespaces,
      dhcp: new Map(),
      nft: options.cache.nft,
      isBridgeNfCallOn: true,
      files: await keptFiles(options.stateDir),
    };
  }
  const links = new Map(
    parseJson<IpLink>(await run(['ip', '-d', '-json', 'link', 'show'])).map((l) => [
      l.ifname,
      toLink(l),
    ]),
  );
  const all = parseJson<{ name: string }>(await run(['ip', '-json', 'netns', 'list']));
  const namespaces = new Map<string, ObservedNs>();
  for (const { name } of all) {
    if (!name.startsWith(`${options.netnsPrefix}r-`)) continue;
    namespaces.set(name, options.cache?.namespaces.get(name) ?? (await observeNs(run, name)));
  }
  const nft = new Map<NftFamily, ObservedNftTable | undefined>();
  for (const family of ['bridge', 'inet'] as const) {
    if (options.cache?.nft.has(family)) {
      nft.set(family, options.cache.nft.get(family));
      continue;
    }
    const out = await run(['nft', '-j', 'list', 'table', family, NFT_TABLE]).catch(() => undefined);
    nft.set(family, out === undefined ? undefined : parseNftJson(out, family, NFT_TABLE));
  }
  const sysctl = await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').catch(
    () => '0',
  );
  const vx = [...links.keys()].some((n) => n.startsWith('vx-'));
  const fdb = new Set<string>();
  const masterFdb = new Set<string>();
  const proxyNeighbors = new Set<string>();
  // static entries of the ports of the agent's bridges (VXLAN devices and instance ports)
  if ([...links.values()].some((l) => l.master?.startsWith(BRIDGE_PREFIX))) {
    for (const e of parseJson<FdbEntry>(await run(['bridge', '-json', 'fdb', 'show']))) {
      if (e.ifname === undefined) continue;
      if (e.ifname.startsWith('vx-') && e.dst !== undefined)
        fdb.add(`${e.mac} ${e.ifname} ${e.dst}`);
      else if (e.master?.startsWith(BRIDGE_PREFIX) && e.state === 'static')
        masterFdb.add(`${e.mac} ${e.ifname}`);
    }
  }
  if (vx) {
    for (const n of parseJson<{ dst: string; dev: string; lladdr?: string }>(
      await run(['ip', '-json', 'neigh', 'show', 'nud', 'permanent']),
    )) {
      if (n.dev.startsWith('vx-')) proxyNeighbors.add(`${n.dst} ${n.lladdr ?? ''} ${n.dev}`);
    }
  }
  return {
    links,
    namespaces,
    dhcp: await observeDhcp(options.stateDir),
    nft,
    isBridgeNfCallOn: sysctl.trim() === '1',
    fdb,
    masterFdb,
    proxyNeighbors,
    processes: new Map([
      ['md-proxy', await observeProcess(join(options.stateDir, MD_PROXY_PID))],
      [BGP_PROCESS, await observeProcess(join(options.stateDir, BIRD_PID))],
    ]),
    files: await keptFiles(options.stateDir),
  };
}

/** The agent's kept files that exist (the metadata map, the BGP speaker's configuration). */
async function keptFiles(stateDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of [MD_MAP, BIRD_CONF]) {
    const path = join(stateDir, name);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) out.set(path, text);
  }
  return out;
}

interface FdbEntry {
  mac: string;
  ifname?: string;
  dst?: string;
  master?: string;
  state?: string;
}

async function observeProcess(pidPath: string): Promise<ObservedProcess> {
  const pid = Number.parseInt((await readFile(pidPath, 'utf8').catch(() => '')).trim(), 10);
  if (!Number.isFinite(pid)) return { cmdline: '' };
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return { pid, cmdline: cmdline.replace(/\0$/, '') };
}

async function observeNs(run: CommandRunner, ns: string): Promise<ObservedNs> {
  const links = new Map(
    parseJson<IpLink>(await run(['ip', '-n', ns, '-json', 'addr', 'show'])).map((l) => [
      l.ifname,
      toLink(l),
    ]),
  );
  const routes = new Set(
    parseJson<{
      type?: string;
      dst: string;
      gateway?: string;
      dev?: string;
      metric?: number;
      table?: string;
      nhid?: number;
    }>(
      await run([
        'ip',
        '-n',
        ns,
        '-json',
        'route',
        'show',
        'table',
        'all',
        'proto',
        String(ROUTE_PROTO),
      ]),
    ).map((r) =>
      routeKey({
        type: r.type === 'blackhole' || r.type === 'unreachable' ? r.type : 'unicast',
        dst: r.dst,
        metric: r.metric ?? 0,
        ...(r.gateway !== undefined ? { via: r.gateway } : {}),
        ...(r.dev !== undefined ? { dev: r.dev } : {}),
        ...(r.table !== undefined && r.table !== 'main' ? { table: Number(r.table) } : {}),
        ...(r.nhid !== undefined ? { nhid: r.nhid } : {}),
      }),
    ),
  );
  const rules = new Set(
    parseJson<{ priority: number; src?: string; srclen?: number; table?: string }>(
      await run(['ip', '-n', ns, '-json', 'rule', 'show']),
    )
      .filter((r) => r.priority >= RULE_PREF && r.priority < RULE_PREF + 10_000)
      .map((r) => `${r.priority} ${r.src ?? 'all'}/${r.srclen ?? 0} ${r.table ?? ''}`),
  );
  const fdb = new Set(
    parseJson<FdbEntry>(await run(['bridge', '-n', ns, '-json', 'fdb', 'show']))
      .filter((e) => e.dst !== undefined && e.ifname?.startsWith('tr-'))
      .map((e) => `${e.mac} ${e.ifname!} ${e.dst!}`),
  );
  const nftOut = await run([
    'ip',
    'netns',
    'exec',
    ns,
    'nft',
    '-j',
    'list',
    'table',
    'ip',
    NFT_TABLE,
  ]).catch(() => undefined);
  const nft = nftOut === undefined ? undefined : parseNftJson(nftOut, 'ip', NFT_TABLE);
  const neighbors = new Set(
    parseJson<{ dst: string; dev: string; lladdr?: string }>(
      await run(['ip', '-n', ns, '-json', 'neigh', 'show', 'nud', 'permanent']),
    ).map((n) => `${n.dst} ${n.lladdr ?? ''} ${n.dev}`),
  );
  const nexthops = new Set(
    parseJson<{ id: number; gateway?: string; dev?: string; group?: { id: number }[] }>(
      await run(['ip', '-n', ns, '-json', 'nexthop', 'show']).catch(() => ''),
    ).map((n) =>
      n.group
        ? nexthopKey({ id: n.id, group: n.group.map((g) => g.id) })
        : nexthopKey({ id: n.id, via: n.gateway ?? '', dev: n.dev ?? '' }),
    ),
  );
  const fwd = await run([
    'ip',
    'netns',
    'exec',
    ns,
    'sysctl',
    '-n',
    'net.ipv4.ip_forward',
    'net.ipv4.fib_multipath_hash_policy',
  ]).catch(() => '0');
  return {
    links,
    routes,
    neighbors,
    isForwarding: fwd.trim().split(/\s+/).join(',') === '1,1',
    rules,
    fdb,
    nexthops,
    ...(nft ? { nft } : {}),
  };
}

async function observeDhcp(stateDir: string): Promise<Map<string, ObservedDhcp>> {
  const out = new Map<string, ObservedDhcp>();
  const files = await readdir(stateDir).catch(() => [] as string[]);
  for (const f of files) {
    const m = /^dhcp-(.+)\.conf$/.exec(f);
    if (!m) continue;
    const key = m[1]!;
    const base = join(stateDir, `dhcp-${key}`);
    const confPath = `${base}.conf`;
    const conf = await readFile(confPath, 'utf8').catch(() => undefined);
    const hosts = await readFile(`${base}.hosts`, 'utf8').catch(() => undefined);
    const pidText = await readFile(`${base}.pid`, 'utf8').catch(() => '');
    const pid = Number.parseInt(pidText.trim(), 10);
    const cmdline = Number.isFinite(pid)
      ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
      : '';
    out.set(key, {
      key,
      isRunning: cmdline.includes(confPath),
      confPath,
      hostsPath: `${base}.hosts`,
      pidPath: `${base}.pid`,
      ...(Number.isFinite(pid) ? { pid } : {}),
      ...(conf !== undefined ? { conf } : {}),
      ...(hosts !== undefined ? { hosts } : {}),
    });
  }
  return out;
}

/** The state a router namespace has once its desired state is applied (the cache entry). */
export function appliedNs(r: DesiredRouterNs): ObservedNs {
  const links = new Map<string, ObservedLink>([['lo', { name: 'lo', isUp: true }]]);
  for (const l of r.links) {
    links.set(l.nsDev, {
      name: l.nsDev,
      isUp: true,
      ...(l.mac !== undefined ? { mac: l.mac } : {}),
      addrs: l.address !== undefined ? [l.address] : [],
    });
  }
  return {
    links,
    routes: new Set(r.routes.map(routeKey)),
    neighbors: new Set(r.neighbors.map((n) => `${n.ip} ${n.mac} ${n.dev}`)),
    isForwarding: true,
    rules: new Set((r.rules ?? []).map((x) => `${x.pref} ${x.src} ${x.table}`)),
    fdb: new Set((r.fdb ?? []).map((f) => `${f.mac} ${f.dev} ${f.dst}`)),
    nexthops: new Set((r.nexthops ?? []).map(nexthopKey)),
    ...(r.nft ? { nft: appliedTable(r.nft) } : {}),
  };
}
