/**
 * The agent loop: register the host, then reconcile the host's Linux state to its share of
 * the topology on start, on every committed topology change (store watch) and periodically
 * (drift made by hand is repaired). Each pass reads the whole share; the periodic pass, the
 * first one and any pass after an error read the whole actual state, so a restart simply runs
 * a pass. Event-driven passes take what the previous pass applied from its cache, and a pass
 * for a filter-only change (chains, rules, IP address groups) observes and plans only the nft
 * tables and the metadata map.
 */
import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Issue, Logger } from '../common/index.js';
import { hostId, TerminalError } from '../common/index.js';
import type { ChangeEvent, Kind, TopologyStore } from '../store/index.js';
import { RevisionCompactedError } from '../store/index.js';
import { desiredHost } from './desired.js';
import { createRunner, describeAction, runAction, type CommandRunner } from './exec.js';
import { appliedNs, observeHost, type ObservedCache } from './observe.js';
import { appliedTable } from './nft.js';
import { planHost, type Action, type PlanScope } from './plan.js';
import { readHostTopology, type GatewayLiveness } from './topology.js';
import { deviceMtuOf, instanceMtuFor } from './mtu.js';
import { HostAddressBook, hostInterfaces, registerHost, type Heartbeat } from './register.js';

export { registerHost } from './register.js';

/** Options of `runAgent` and `syncHost`. */
export interface AgentOptions {
  readonly store: TopologyStore;
  /** Host name (the GNI node name); the host object id is `hostId(host)`. */
  readonly host: string;
  /** Prefix of the helper namespaces (one per router). */
  readonly netnsPrefix: string;
  /** DHCP config and pid files; default `/run/eucanetd-agent/<netnsPrefix or "default">`. */
  readonly stateDir?: string;
  /** Print the commands instead of running them (default false). */
  readonly dryRun?: boolean;
  /** One pass, then return (default false). */
  readonly once?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** Periodic full pass interval in ms (default 10000). */
  readonly resyncMs?: number;
  /** Allow running in the machine's initial network namespace (default false). */
  readonly allowRootNetns?: boolean;
  /** Update the host object's addresses in the store (default true; read-only stores skip). */
  readonly register?: boolean;
  /** Command runner (default: `execFile` with a 30 s timeout). */
  readonly runner?: CommandRunner;
  /** Where dry-run output goes (default: the logger at info). */
  readonly print?: (text: string) => void;
  /** Metadata backend the proxy forwards to (default http://127.0.0.1:8773). */
  readonly metadataBackend?: string;
  /** Which gateway hosts are alive (default: all; docs/datapath.md, "Gateways"). */
  readonly gatewayLiveness?: GatewayLiveness;
  /** MTU offered to instances by DHCP when a subnet sets none (default: the underlay
   * device's MTU minus the VXLAN overhead, at most 1500; none when the host has no underlay
   * address). */
  readonly instanceMtu?: number;
  /** Called after every pass (tests, benchmarks). */
  readonly onPass?: (result: PassResult) => void;
}

/** What one pass did. */
export interface PassResult {
  /** The host state after this pass (feed to the next event-driven pass). */
  readonly cache: ObservedCache;
  readonly revision: number;
  readonly actions: readonly Action[];
  readonly issues: readonly Issue[];
  readonly durationMs: number;
  /** `filters` when only the nft tables and kept files were observed and planned. */
  readonly scope: PlanScope;
  /** Milliseconds per phase: topology read, observe, plan, apply. */
  readonly phases: {
    readonly read: number;
    readonly observe: number;
    readonly plan: number;
    readonly apply: number;
  };
}

/** The state directory used when none is given. */
export function defaultStateDir(netnsPrefix: string): string {
  return `/run/eucanetd-agent/${netnsPrefix.replace(/[^A-Za-z0-9_.-]/g, '') || 'default'}`;
}

/**
 * Throws unless the process runs in a network namespace other than the initial one: its
 * namespace must differ from pid 1's, or, when pid 1's cannot be read, be one of the named
 * namespaces under /run/netns (made by `ip netns add`).
 */
export function assertNotRootNetns(): void {
  const self = statSync('/proc/self/ns/net');
  let init: string | undefined;
  try {
    init = readlinkSync('/proc/1/ns/net');
  } catch {
    // pid 1 hidden from us (containers): fall back to the named-namespace test below
  }
  if (init !== undefined) {
    if (readlinkSync('/proc/self/ns/net') !== init) return;
  } else {
    for (const name of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
      const st = statSync(`/run/netns/${name}`, { throwIfNoEntry: false });
      if (st && st.ino === self.ino && st.dev === self.dev) return;
    }
  }
  throw new TerminalError(
    'refusing to program the root network namespace (run under `ip netns exec`, or pass --allow-root-netns)',
  );
}

/**
 * One reconcile pass: read topology, compute desired, observe, plan, apply. With `cache`
 * (the previous pass's result) the router namespaces and nft tables are not re-read: an
 * event-driven pass stays fast; the periodic full pass (no cache) repairs drift. With `cache`
 * and scope `filters` (only chains, rules and IP address groups changed since that pass),
 * nothing but the kept files is read and only the nft tables and those files are planned.
 */
export async function syncHost(
  options: AgentOptions,
  cache?: ObservedCache,
  scope: PlanScope = 'all',
): Promise<PassResult> {
  if (!cache) scope = 'all';
  const started = performance.now();
  const run = options.runner ?? createRunner();
  const stateDir = options.stateDir ?? defaultStateDir(options.netnsPrefix);
  const revision = await options.store.revision();
  const topo = await readHostTopology(options.store, hostId(options.host), options.gatewayLiveness);
  options.gatewayLiveness?.observe?.(topo);
  const instanceMtu = options.instanceMtu ?? (await derivedMtu(run, topo, cache));
  const tRead = performance.now();
  const script = metadataProxyScript();
  const desired = desiredHost(topo, {
    netnsPrefix: options.netnsPrefix,
    stateDir,
    ...(instanceMtu !== undefined ? { instanceMtu } : {}),
    ...(script
      ? {
          metadataProxy: {
            node: process.execPath,
            script,
            backend: options.metadataBackend ?? DEFAULT_METADATA_BACKEND,
          },
        }
      : {}),
  });
  const tDesired = performance.now();
  const observed = await observeHost(run, {
    netnsPrefix: options.netnsPrefix,
    stateDir,
    ...(cache ? { cache } : {}),
    scope,
  });
  const tObserved = performance.now();
  const actions = planHost(desired, observed, scope);
  const tPlanned = performance.now();
  const log = options.logger;
  for (const a of actions) {
    if (options.dryRun) {
      (options.print ?? ((t: string) => log.info('dry-run', { command: t })))(describeAction(a));
      continue;
    }
    const t0 = performance.now();
    await runAction(a, run);
    log.debug('applied', { action: a.type, ns: 'ns' in a ? a.ns : undefined, duration_ms: ms(t0) });
  }
  for (const issue of desired.issues) {
    const level = issue.code === 'not_realized' ? 'debug' : 'warn';
    log.log(level, 'topology object not fully realized', {
      path: issue.path,
      code: issue.code,
      detail: issue.message,
    });
  }
  const applied: ObservedCache = {
    namespaces: new Map(desired.routerNamespaces.map((r) => [r.ns, appliedNs(r)])),
    nft: new Map(desired.nft.map((t) => [t.family, appliedTable(t)])),
    ...(instanceMtu !== undefined ? { instanceMtu } : {}),
  };
  const phases = {
    read: Math.round(tRead - started),
    observe: Math.round(tObserved - tDesired),
    plan: Math.round(tPlanned - tObserved + tDesired - tRead),
    apply: ms(tPlanned),
  };
  const result = {
    revision,
    actions,
    issues: desired.issues,
    durationMs: ms(started),
    scope,
    cache: applied,
    phases,
  };
  log.info('datapath pass', {
    revision,
    actions: actions.length,
    scope,
    bound_ports: topo.boundPorts.length,
    bridges: topo.bridges.length,
    routers: topo.routers.length,
    duration_ms: result.durationMs,
    read_ms: phases.read,
    observe_ms: phases.observe,
    plan_ms: phases.plan,
    apply_ms: phases.apply,
    dry_run: options.dryRun ?? false,
  });
  return result;
}

/** The instance MTU the underlay leaves: from the cache on an event-driven pass, else from
 * the device holding the host's underlay address (undefined when it has none). */
async function derivedMtu(
  run: CommandRunner,
  topo: { hostId: string; underlay?: ReadonlyMap<string, string> },
  cache: ObservedCache | undefined,
): Promise<number | undefined> {
  if (cache?.instanceMtu !== undefined) return cache.instanceMtu;
  const address = topo.underlay?.get(topo.hostId);
  if (address === undefined) return undefined;
  const mtu = await deviceMtuOf(run, address).catch(() => undefined);
  return mtu === undefined ? undefined : instanceMtuFor(mtu);
}

/** Where instance metadata requests go when no backend is configured. */
export const DEFAULT_METADATA_BACKEND = 'http://127.0.0.1:8773';

/** The compiled metadata proxy beside this module (absent when running from sources). */
function metadataProxyScript(): string | undefined {
  const path = fileURLToPath(new URL('./md-proxy.js', import.meta.url));
  return existsSync(path) ? path : undefined;
}

function ms(t0: number): number {
  return Math.round(performance.now() - t0);
}

/** Runs the agent until `signal` aborts (or after one pass with `once`). */
export async function runAgent(options: AgentOptions): Promise<void> {
  const log = options.logger;
  if (!options.dryRun && !options.allowRootNetns) assertNotRootNetns();
  const register = options.register !== false && !options.dryRun;
  const resyncMs = options.resyncMs ?? 10_000;
  const runner = options.runner ?? createRunner();
  // the heartbeat counts for three periodic passes
  const beat = async (): Promise<Heartbeat> => ({
    interfaces: await hostInterfaces(runner).catch(() => []),
    ttlMs: 3 * resyncMs,
    at: Date.now(),
  });
  let registered = register
    ? await registerHost(options.store, options.host, log, 'warn', await beat())
    : true;
  if (options.once) {
    const result = await syncHost(options);
    options.onPass?.(result);
    return;
  }
  const signal = options.signal ?? new AbortController().signal;
  let dirty = true;
  // a change since the last pass that may touch more than the filters (unknown: true)
  let isStructural = true;
  // the highest revision the watch announced (Infinity: a resync, revision unknown)
  let announced = 0;
  let wake: () => void = () => undefined;
  const book = new HostAddressBook();
  const watching = watchStore(options.store, await options.store.revision(), signal, log, (e) => {
    if (e && book.isHeartbeatOnly(e)) return; // another agent's heartbeat: nothing to realize
    announced = Math.max(announced, e ? e.revision : Infinity);
    dirty = true;
    if (!e || !isFilterOnlyChange(e)) isStructural = true;
    wake();
  });
  // a gateway died or came back: re-point the router copies (gateways.ts)
  const unsubscribe = options.gatewayLiveness?.subscribe?.(() => {
    dirty = true;
    isStructural = true;
    wake();
  });
  let failures = 0;
  let last = 0;
  let cache: ObservedCache | undefined;
  while (!signal.aborted) {
    const isPeriodic = performance.now() - last >= resyncMs;
    if (dirty || isPeriodic) {
      dirty = false;
      announced = 0; // what was announced before the pass is at or below the revision it reads
      const scope: PlanScope = isStructural ? 'all' : 'filters';
      isStructural = false;
      if (register && (!registered || isPeriodic))
        registered = await registerHost(options.store, options.host, log, 'debug', await beat());
      try {
        const result = await syncHost(
          options,
          isPeriodic || options.dryRun ? undefined : cache,
          scope,
        );
        if (isPeriodic) last = performance.now();
        // a change announced while the pass ran that the pass had already read (the watch can
        // deliver after the pass read the revision) needs no second pass, unless the pass was
        // filter-only and the change was not
        if (announced <= result.revision && (scope === 'all' || !isStructural)) {
          dirty = false;
          isStructural = false;
        }
        cache = result.cache;
        options.onPass?.(result);
        failures = 0;
      } catch (e) {
        failures++;
        dirty = true;
        cache = undefined; // re-read everything after an error
        isStructural = true;
        log.error('datapath pass failed', { error: String(e), failures });
      }
    }
    // a change committed while the pass ran (its wake-up found no waiter): pass again now
    if (dirty && failures === 0) continue;
    const delay = failures > 0 ? Math.min(resyncMs, 250 * 2 ** Math.min(failures, 6)) : resyncMs;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake = () => undefined;
        resolve();
      };
      const timer = setTimeout(
        done,
        failures > 0 ? delay : Math.max(1, last + resyncMs - performance.now()),
      );
      wake = failures > 0 ? () => undefined : done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
  unsubscribe?.();
  await watching;
}

/** Kinds whose changes reach only the nft tables and the metadata map (docs/datapath.md). */
const FILTER_KINDS: ReadonlySet<Kind> = new Set<Kind>(['chain', 'rule', 'ip-addr-group']);

/** True when every change of the event is to a chain, rule or IP address group. */
export function isFilterOnlyChange(event: ChangeEvent): boolean {
  return event.changes.length > 0 && event.changes.every((c) => FILTER_KINDS.has(c.kind));
}

async function watchStore(
  store: TopologyStore,
  fromRevision: number,
  signal: AbortSignal,
  log: Logger,
  onChange: (event?: ChangeEvent) => void,
): Promise<void> {
  let revision = fromRevision;
  while (!signal.aborted) {
    try {
      for await (const event of store.watch(revision, signal)) {
        revision = event.revision;
        onChange(event);
      }
      return;
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof RevisionCompactedError) revision = await store.revision();
      else log.warn('topology watch failed, retrying', { error: String(e) });
      onChange();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
