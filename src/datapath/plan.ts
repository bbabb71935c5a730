/**
 * The planner: desired host state + observed host state → ordered actions. Pure, so every
 * decision is unit-tested without root. Only objects the agent made are touched: links with
 * its alias (or enslaved to its bridges), namespaces with its prefix, routes with its
 * protocol number, its nftables tables and its DHCP files.
 */
import type { DesiredHost, DesiredNexthop, DesiredRoute } from './desired.js';
import { diffTable } from './nft.js';
import { ALIAS_PREFIX, linkAlias, ROUTE_PROTO, VXLAN_PORT } from './names.js';
import type { DesiredFdb } from './desired.js';

export type {
  ObservedLink,
  ObservedNs,
  ObservedProcess,
  ObservedDhcp,
  ObservedHost,
} from './observed-types.js';
import type {
  ObservedLink,
  ObservedNs,
  ObservedProcess,
  ObservedDhcp,
  ObservedHost,
} from './observed-types.js';

/** One step of a plan. */
export type Action =
  | { readonly type: 'ip'; readonly ns?: string; readonly lines: readonly string[] }
  | { readonly type: 'exec'; readonly argv: readonly string[] }
  | { readonly type: 'nft'; readonly ns?: string; readonly script: string }
  | { readonly type: 'bridge'; readonly ns?: string; readonly lines: readonly string[] }
  | { readonly type: 'spawn'; readonly argv: readonly string[]; readonly logPath: string }
  | { readonly type: 'write'; readonly path: string; readonly content: string }
  | { readonly type: 'remove'; readonly path: string }
  | { readonly type: 'signal'; readonly pid: number; readonly signal: 'SIGTERM' | 'SIGHUP' }
  | { readonly type: 'kill-netns-pids'; readonly ns: string };

/** The key of a route, also valid `ip route` arguments (desired and observed are compared
 * through it). */
export function routeKey(r: DesiredRoute): string {
  const via = r.nhid === undefined && r.via !== undefined ? ` via ${r.via}` : '';
  const dev = r.nhid === undefined && r.dev !== undefined ? ` dev ${r.dev}` : '';
  const nh = r.nhid !== undefined ? ` nhid ${r.nhid}` : '';
  const table = r.table !== undefined ? ` table ${r.table}` : '';
  return `${r.type} ${r.dst}${via}${dev}${nh} metric ${r.metric}${table}`;
}

/** The key of a nexthop object (desired and observed are compared through it). */
export function nexthopKey(n: DesiredNexthop): string {
  return 'group' in n ? `${n.id} group ${n.group.join('/')}` : `${n.id} via ${n.via} dev ${n.dev}`;
}

/** Buckets and timers of the transit groups: a bucket (a slice of the flow hash space) keeps
 * its gateway while that gateway is in the group; a returning gateway takes over buckets only
 * once they have been idle for 10 s, never by force (no unbalanced timer). */
export const NEXTHOP_GROUP_ARGS = 'type resilient buckets 64 idle_timer 10 unbalanced_timer 0';

/** Sysctls of every router namespace: forwarding, no reverse-path filter, and L4 multipath
 * hashing (a flow's 5-tuple picks its gateway in a transit group). */
export const ROUTER_NS_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  'net.ipv4.fib_multipath_hash_policy=1',
] as const;

/**
 * What a pass plans: `all`, or `filters` only (the nft tables of the host and of the router
 * namespaces, and the kept files derived from rules): enough when only chains, rules and IP
 * address groups changed since a pass that applied without error.
 */
export type PlanScope = 'all' | 'filters';

/** Plans the actions that turn the observed host into the desired one. */
export function planHost(
  desired: DesiredHost,
  observed: ObservedHost,
  scope: PlanScope = 'all',
): Action[] {
  if (scope === 'filters') return planFilters(desired, observed);
  const actions: Action[] = [];
  if (!observed.isBridgeNfCallOn) {
    actions.push({ type: 'exec', argv: ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1'] });
  }
  const newNs = desired.routerNamespaces.filter((r) => !observed.namespaces.has(r.ns));
  if (newNs.length > 0) actions.push({ type: 'ip', lines: newNs.map((r) => `netns add ${r.ns}`) });
  for (const r of desired.routerNamespaces) {
    if (observed.namespaces.get(r.ns)?.isForwarding) continue;
    actions.push({
      type: 'exec',
      argv: ['ip', 'netns', 'exec', r.ns, 'sysctl', '-qw', ...ROUTER_NS_SYSCTLS],
    });
  }
  const hostLines = planHostLinks(desired, observed);
  if (hostLines.create.length > 0) actions.push({ type: 'ip', lines: hostLines.create });
  actions.push(...planOverlay(desired, observed, hostLines.freshVxlans));
  for (const r of desired.routerNamespaces) {
    const found = observed.namespaces.get(r.ns);
    const lines = planNamespace(r, found, newNs.includes(r));
    if (lines.length > 0) actions.push({ type: 'ip', ns: r.ns, lines });
    const fresh = hostLines.freshNsLinks;
    const fdbLines = diffFdb(
      r.fdb ?? [],
      new Set([...(found?.fdb ?? [])].filter((k) => !fresh.has(`${r.ns} ${k.split(' ')[1]!}`))),
      undefined,
    );
    if (fdbLines.length > 0) actions.push({ type: 'bridge', ns: r.ns, lines: fdbLines });
    actions.push(...planNsFilter(r, found));
  }
  actions.push(...planHostFilter(desired, observed));
  actions.push(...planDhcp(desired, observed));
  actions.push(...planProcesses(desired, observed));
  if (hostLines.remove.length > 0) actions.push({ type: 'ip', lines: hostLines.remove });
  const wantedNs = new Set(desired.routerNamespaces.map((r) => r.ns));
  for (const ns of [...observed.namespaces.keys()].sort()) {
    if (wantedNs.has(ns)) continue;
    actions.push({ type: 'kill-netns-pids', ns }, { type: 'ip', lines: [`netns del ${ns}`] });
  }
  return actions;
}

/** The `filters` scope: nft tables (router namespaces first, as in a full plan) and kept
 * files only. */
function planFilters(desired: DesiredHost, observed: ObservedHost): Action[] {
  const actions = desired.routerNamespaces.flatMap((r) =>
    planNsFilter(r, observed.namespaces.get(r.ns)),
  );
  actions.push(...planHostFilter(desired, observed), ...planFiles(desired, observed));
  return actions;
}

function planFiles(desired: DesiredHost, observed: ObservedHost): Action[] {
  return (desired.files ?? [])
    .filter((f) => observed.files?.get(f.path) !== f.content)
    .map((f) => ({ type: 'write', path: f.path, content: f.content }));
}

function planNsFilter(r: DesiredHost['routerNamespaces'][number], found?: ObservedNs): Action[] {
  if (r.nft) {
    const nsScript = diffTable(r.nft, found?.nft);
    return nsScript.length > 0
      ? [{ type: 'nft', ns: r.ns, script: nsScript.join('\n') + '\n' }]
      : [];
  }
  return found?.nft
    ? [{ type: 'nft', ns: r.ns, script: `delete table ip ${found.nft.name}\n` }]
    : [];
}

function planHostFilter(desired: DesiredHost, observed: ObservedHost): Action[] {
  const script = desired.nft.flatMap((t) => diffTable(t, observed.nft.get(t.family)));
  return script.length > 0 ? [{ type: 'nft', script: script.join('\n') + '\n' }] : [];
}

function planHostLinks(
  desired: DesiredHost,
  observed: ObservedHost,
): {
  create: string[];
  remove: string[];
  freshVxlans: Set<string>;
  freshNsLinks: Set<string>;
} {
  const create: string[] = [];
  const remove: string[] = [];
  const freshVxlans = new Set<string>();
  const freshNsLinks = new Set<string>();
  const links = observed.links;
  for (const [dev, bridgeId] of desired.bridges) {
    const found = links.get(dev);
    if (!found) {
      create.push(
        `link add ${dev} type bridge`,
        `link set dev ${dev} alias ${linkAlias('bridge', bridgeId)}`,
      );
    }
    if (!found?.isUp) create.push(`link set dev ${dev} up`);
  }
  const routerDevs = new Set<string>();
  for (const vx of desired.vxlans ?? []) {
    routerDevs.add(vx.dev);
    let found = links.get(vx.dev);
    if (found && found.alias !== vx.alias) {
      create.push(`link del ${vx.dev}`);
      found = undefined;
    }
    if (!found) {
      freshVxlans.add(vx.dev);
      create.push(
        `link add ${vx.dev} type vxlan id ${vx.vni} dstport ${VXLAN_PORT} nolearning proxy${vx.local !== undefined ? ` local ${vx.local}` : ''}`,
        `link set dev ${vx.dev} alias ${vx.alias}`,
      );
    }
    if (found?.master !== vx.master) create.push(`link set dev ${vx.dev} master ${vx.master}`);
    if (found?.master !== vx.master || found.learning !== false)
      create.push(`link set dev ${vx.dev} type bridge_slave learning off`);
    if (!found?.isUp) create.push(`link set dev ${vx.dev} up`);
  }
  for (const r of desired.routerNamespaces) {
    const nsLinks = observed.namespaces.get(r.ns)?.links;
    for (const l of r.links) {
      const kind = l.kind ?? 'veth';
      if (kind !== 'veth') {
        if (kind === 'peer' || nsLinks?.has(l.nsDev)) continue;
        freshNsLinks.add(`${r.ns} ${l.nsDev}`);
        if (kind === 'macvlan') {
          const parent = links.get(l.hostDev);
          if (!parent) continue; // the uplink interface is not there (yet)
          if (!parent.isUp) create.push(`link set dev ${l.hostDev} up`);
          create.push(
            `link add link ${l.hostDev} name ${l.nsDev} netns ${r.ns} type macvlan mode bridge`,
          );
        } else if (kind === 'nsveth') {
          create.push(
            `link add ${l.nsDev} netns ${r.ns} type veth peer name ${l.peerDev!} netns ${l.peerNs!}`,
          );
        } else {
          create.push(
            `link add ${l.nsDev} netns ${r.ns} type vxlan id ${l.vni!} dstport ${VXLAN_PORT} nolearning`,
          );
        }
        continue;
      }
      routerDevs.add(l.hostDev);
      let found = links.get(l.hostDev);
      if (found && !nsLinks?.has(l.nsDev)) {
        create.push(`link del ${l.hostDev}`); // half of a pair: recreate it whole
        found = undefined;
      }
      if (!found) {
        create.push(
          `link add ${l.hostDev} type veth peer name ${l.nsDev} netns ${r.ns}`,
          `link set dev ${l.hostDev} alias ${linkAlias('rport', l.routerPortId)}`,
        );
      }
      if (found?.master !== l.master) create.push(`link set dev ${l.hostDev} master ${l.master}`);
      if (!found?.isUp) create.push(`link set dev ${l.hostDev} up`);
    }
  }
  for (const [dev, master] of desired.slaves) {
    const found = links.get(dev);
    if (!found) continue; // not plugged yet (the node controller creates it); next pass
    if (found.master !== master) create.push(`link set dev ${dev} master ${master}`);
    // no learning on an instance port: a forged source MAC moves or adds no entry
    if (found.master !== master || found.learning !== false)
      create.push(`link set dev ${dev} type bridge_slave learning off`);
    if (!found.isUp) create.push(`link set dev ${dev} up`);
  }
  const ourBridges = new Set(
    [...links.values()]
      .filter((l) => l.alias?.startsWith(`${ALIAS_PREFIX}bridge:`))
      .map((l) => l.name),
  );
  for (const l of [...links.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const isOurs = l.alias?.startsWith(ALIAS_PREFIX) ?? false;
    if (isOurs) {
      if (!desired.bridges.has(l.name) && !routerDevs.has(l.name))
        remove.push(`link del ${l.name}`);
    } else if (l.master !== undefined && ourBridges.has(l.master) && !desired.slaves.has(l.name)) {
      remove.push(`link set dev ${l.name} nomaster`);
    }
  }
  // detach before deleting bridges
  remove.sort((a, b) => Number(a.startsWith('link del')) - Number(b.startsWith('link del')));
  return { create, remove, freshVxlans, freshNsLinks };
}

function planNamespace(
  r: DesiredHost['routerNamespaces'][number],
  observed: ObservedNs | undefined,
  isNew: boolean,
): string[] {
  const lines: string[] = [];
  if (isNew || !observed?.links.get('lo')?.isUp) lines.push('link set dev lo up');
  for (const l of r.links) {
    const found = observed?.links.get(l.nsDev);
    if (l.mac !== undefined && found?.mac !== l.mac)
      lines.push(`link set dev ${l.nsDev} address ${l.mac}`);
    const addrs = found?.addrs ?? [];
    for (const a of addrs) if (a !== l.address) lines.push(`addr del ${a} dev ${l.nsDev}`);
    if (l.address !== undefined && !addrs.includes(l.address))
      lines.push(`addr add ${l.address} dev ${l.nsDev}`);
    if (!found?.isUp) lines.push(`link set dev ${l.nsDev} up`);
  }
  const wantedRules = new Set((r.rules ?? []).map((x) => `${x.pref} ${x.src} ${x.table}`));
  for (const key of [...(observed?.rules ?? [])].sort()) {
    if (!wantedRules.has(key)) lines.push(`rule del pref ${key.split(' ')[0]!}`);
  }
  for (const x of r.rules ?? []) {
    if (!observed?.rules?.has(`${x.pref} ${x.src} ${x.table}`))
      lines.push(`rule add from ${x.src} lookup ${x.table} pref ${x.pref}`);
  }
  // nexthops before the routes that use them (gateways first, then their group), and
  // removed after the routes that used them (groups first)
  const wantedHops = new Map((r.nexthops ?? []).map((n) => [nexthopKey(n), n]));
  const hopIds = new Set((r.nexthops ?? []).map((n) => n.id));
  for (const [key, n] of [...wantedHops].sort(([, a], [, b]) => a.id - b.id)) {
    if (observed?.nexthops?.has(key)) continue;
    lines.push(
      'group' in n
        ? `nexthop replace id ${n.id} group ${n.group.join('/')} ${NEXTHOP_GROUP_ARGS}`
        : `nexthop replace id ${n.id} via ${n.via} dev ${n.dev} onlink`,
    );
  }
  const wanted = new Map(r.routes.map((route) => [routeKey(route), route]));
  for (const key of [...(observed?.routes ?? [])].sort()) {
    if (!wanted.has(key)) lines.push(`route del ${key} proto ${ROUTE_PROTO}`);
  }
  for (const [key] of wanted) {
    if (!observed?.routes.has(key)) lines.push(`route add ${key} proto ${ROUTE_PROTO}`);
  }
  const staleIds = new Set(
    [...(observed?.nexthops ?? [])]
      .map((k) => Number(k.split(' ')[0]))
      .filter((id) => !hopIds.has(id)),
  );
  for (const id of [...staleIds].sort((a, b) => b - a)) lines.push(`nexthop del id ${id}`);
  const neighbors = new Set(r.neighbors.map((n) => `${n.ip} ${n.mac} ${n.dev}`));
  for (const key of [...(observed?.neighbors ?? [])].sort()) {
    if (neighbors.has(key)) continue;
    const [ip, , dev] = key.split(' ');
    lines.push(`neigh del ${ip!} dev ${dev!}`);
  }
  for (const n of r.neighbors) {
    if (observed?.neighbors.has(`${n.ip} ${n.mac} ${n.dev}`)) continue;
    lines.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
  }
  return lines;
}

function planDhcp(desired: DesiredHost, observed: ObservedHost): Action[] {
  const actions: Action[] = [];
  for (const d of desired.dhcp) {
    const found = observed.dhcp.get(d.key);
    const isRunning = found?.isRunning ?? false;
    if (!isRunning || found?.conf !== d.conf) {
      actions.push({ type: 'write', path: d.hostsPath, content: d.hosts });
      actions.push({ type: 'write', path: d.confPath, content: d.conf });
      if (isRunning && found?.pid !== undefined)
        actions.push({ type: 'signal', pid: found.pid, signal: 'SIGTERM' });
      actions.push({
        type: 'exec',
        argv: ['ip', 'netns', 'exec', d.ns, 'dnsmasq', `--conf-file=${d.confPath}`],
      });
    } else if (found?.hosts !== d.hosts && found?.pid !== undefined) {
      actions.push({ type: 'write', path: d.hostsPath, content: d.hosts });
      actions.push({ type: 'signal', pid: found.pid, signal: 'SIGHUP' });
    }
  }
  const wanted = new Set(desired.dhcp.map((d) => d.key));
  for (const [key, found] of observed.dhcp) {
    if (wanted.has(key)) continue;
    if (found.isRunning && found.pid !== undefined)
      actions.push({ type: 'signal', pid: found.pid, signal: 'SIGTERM' });
    for (const path of [found.confPath, found.hostsPath, found.pidPath])
      actions.push({ type: 'remove', path });
  }
  return actions;
}

/** `bridge` batch lines turning the observed VXLAN entries into the desired ones; with
 * `master`, also the matching static bridge entries. */
function diffFdb(
  desired: readonly DesiredFdb[],
  observed: ReadonlySet<string>,
  master: { observed: ReadonlySet<string> } | undefined,
): string[] {
  const lines: string[] = [];
  const want = new Set(desired.map((f) => `${f.mac} ${f.dev} ${f.dst}`));
  const wantMaster = new Set(desired.map((f) => `${f.mac} ${f.dev}`));
  for (const key of [...observed].sort()) {
    if (want.has(key)) continue;
    const [mac, dev, dst] = key.split(' ') as [string, string, string];
    lines.push(`fdb del ${mac} dev ${dev} dst ${dst} self`);
  }
  if (master) {
    for (const key of [...master.observed].sort()) {
      if (wantMaster.has(key)) continue;
      const [mac, dev] = key.split(' ') as [string, string];
      lines.push(`fdb del ${mac} dev ${dev} master`);
    }
  }
  for (const f of desired) {
    if (!observed.has(`${f.mac} ${f.dev} ${f.dst}`))
      lines.push(`fdb replace ${f.mac} dev ${f.dev} dst ${f.dst} self permanent`);
    if (master && !master.observed.has(`${f.mac} ${f.dev}`))
      lines.push(`fdb replace ${f.mac} dev ${f.dev} master static`);
  }
  return lines;
}

/** `bridge` batch lines for the static entries of the instance ports (plugged ones only):
 * every other static entry on a port of the agent's bridges is removed. */
function diffPortFdb(
  desired: DesiredHost,
  observed: readonly string[],
  links: ReadonlyMap<string, ObservedLink>,
): string[] {
  const lines: string[] = [];
  const want = (desired.portFdb ?? []).filter((f) => links.has(f.dev));
  const wantKeys = new Set(want.map((f) => `${f.mac} ${f.dev}`));
  const seen = new Set(observed);
  for (const key of [...seen].sort()) {
    if (wantKeys.has(key)) continue;
    const [mac, dev] = key.split(' ') as [string, string];
    lines.push(`fdb del ${mac} dev ${dev} master`);
  }
  for (const f of want) {
    if (!seen.has(`${f.mac} ${f.dev}`))
      lines.push(`fdb replace ${f.mac} dev ${f.dev} master static`);
  }
  return lines;
}

/** Forwarding entries and proxy neighbors of the host's VXLAN devices. */
function planOverlay(
  desired: DesiredHost,
  observed: ObservedHost,
  fresh: ReadonlySet<string>,
): Action[] {
  const actions: Action[] = [];
  const keep = (k: string): boolean => !fresh.has(k.split(' ')[1]!);
  const isVx = (k: string): boolean => k.split(' ')[1]!.startsWith('vx-');
  const masterFdb = [...(observed.masterFdb ?? [])];
  const fdbLines = diffFdb(desired.fdb ?? [], new Set([...(observed.fdb ?? [])].filter(keep)), {
    observed: new Set(masterFdb.filter((k) => isVx(k) && keep(k))),
  });
  fdbLines.push(
    ...diffPortFdb(
      desired,
      masterFdb.filter((k) => !isVx(k)),
      observed.links,
    ),
  );
  if (fdbLines.length > 0) actions.push({ type: 'bridge', lines: fdbLines });
  const lines: string[] = [];
  const want = new Set((desired.proxyNeighbors ?? []).map((n) => `${n.ip} ${n.mac} ${n.dev}`));
  const seen = new Set(
    [...(observed.proxyNeighbors ?? [])].filter((k) => !fresh.has(k.split(' ')[2]!)),
  );
  for (const key of [...seen].sort()) {
    if (want.has(key)) continue;
    const [ip, , dev] = key.split(' ') as [string, string, string];
    lines.push(`neigh del ${ip} dev ${dev}`);
  }
  for (const n of desired.proxyNeighbors ?? []) {
    if (!seen.has(`${n.ip} ${n.mac} ${n.dev}`))
      lines.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
  }
  if (lines.length > 0) actions.push({ type: 'ip', lines });
  return actions;
}

/** Kept files and helper processes (the metadata map and proxy). */
function planProcesses(desired: DesiredHost, observed: ObservedHost): Action[] {
  const actions = planFiles(desired, observed);
  const wanted = new Set<string>();
  for (const p of desired.processes ?? []) {
    wanted.add(p.key);
    const found = observed.processes?.get(p.key);
    if (found?.cmdline === p.cmdline.join('\0')) {
      const written = new Set(actions.flatMap((a) => (a.type === 'write' ? [a.path] : [])));
      if (p.reload?.files.some((f) => written.has(f)))
        actions.push({ type: 'exec', argv: p.reload.argv });
      continue;
    }
    if (found?.pid !== undefined && found.cmdline !== '')
      actions.push({ type: 'signal', pid: found.pid, signal: 'SIGTERM' });
    actions.push({ type: 'spawn', argv: p.argv, logPath: p.logPath });
  }
  for (const [key, found] of observed.processes ?? []) {
    if (wanted.has(key) || found.pid === undefined || found.cmdline === '') continue;
    actions.push({ type: 'signal', pid: found.pid, signal: 'SIGTERM' });
  }
  return actions;
}
