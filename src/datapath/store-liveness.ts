/**
 * Gateway liveness from the agents' heartbeats in the store (issue 17's registration: every
 * agent writes `heartbeatAt` and `heartbeatTtlMs` on its `host` object), combined with a fast
 * source (the UDP heartbeats of heartbeat.ts). The store is the authority for a gateway whose
 * agent is gone: a gateway whose stored heartbeat has expired is dead whatever the fast source
 * says (UDP heartbeats are not authenticated; store writes are). The fast source detects a
 * death within seconds, long before the stored heartbeat expires (3 resync intervals). A
 * gateway without a stored heartbeat (an agent that cannot register, e.g. a file-store
 * follower) is judged by the fast source alone; this host always counts as alive for itself.
 * Stored times are the writers' clocks: hosts need synchronized clocks (as for the API's
 * `alive`).
 */
import type { Host } from '../store/index.js';
import type { GatewayLiveness, LivenessContext } from './topology.js';

/** Options of `createStoreLiveness`. */
export interface StoreLivenessOptions {
  /** The fast source (UDP heartbeats); absent: the store alone. */
  readonly fast?: GatewayLiveness;
  /** How often an expiry is looked for, to wake the agent (default 1000 ms). */
  readonly checkMs?: number;
  /** The clock (ms since the epoch; default `Date.now`). */
  readonly now?: () => number;
}

/** A combined liveness, plus `close` (stops the expiry check). */
export interface StoreLiveness extends GatewayLiveness {
  close(): void;
}

/** The shortest silence after which the store declares an agent gone (ms). */
export const STORE_MIN_SILENCE_MS = 30_000;

/**
 * True unless the host's stored heartbeat is older than twice its TTL and at least
 * `STORE_MIN_SILENCE_MS` (no heartbeat: no verdict). Agents write it before each periodic pass,
 * so a pass slower than the TTL (a loaded host) lets the API's `alive` lapse for a moment; the
 * store is the slow authority (an agent gone), the fast source detects deaths.
 */
export function isStoredHeartbeatAlive(host: Host | undefined, now: number): boolean {
  if (host?.heartbeatAt === undefined || host.heartbeatTtlMs === undefined) return true;
  return now - host.heartbeatAt < Math.max(2 * host.heartbeatTtlMs, STORE_MIN_SILENCE_MS);
}

/** Creates the combined liveness (see the module comment). */
export function createStoreLiveness(options: StoreLivenessOptions = {}): StoreLiveness {
  const now = options.now ?? Date.now;
  const listeners = new Set<() => void>();
  let last: { candidates: readonly string[]; context: LivenessContext } | undefined;
  let lastVerdict = '';
  const storeAlive = (candidates: readonly string[], context: LivenessContext): string[] => {
    const byId = new Map(context.hosts.map((h) => [h.id, h]));
    const t = now();
    return candidates.filter((c) => c === context.me || isStoredHeartbeatAlive(byId.get(c), t));
  };
  const timer = setInterval(() => {
    if (!last) return;
    const verdict = storeAlive(last.candidates, last.context).join(',');
    if (verdict === lastVerdict) return;
    lastVerdict = verdict;
    for (const l of listeners) l();
  }, options.checkMs ?? 1000);
  timer.unref();
  return {
    liveHosts: async (candidates, context) => {
      const fast = options.fast
        ? await options.fast.liveHosts(candidates, context)
        : new Set(candidates);
      if (!context) return fast;
      last = { candidates, context };
      const stored = storeAlive(candidates, context);
      lastVerdict = stored.join(',');
      return new Set(stored.filter((c) => fast.has(c)));
    },
    observe: (topo) => options.fast?.observe?.(topo),
    subscribe: (onChange) => {
      listeners.add(onChange);
      const inner = options.fast?.subscribe?.(onChange);
      return () => {
        listeners.delete(onChange);
        inner?.();
      };
    },
    close: () => clearInterval(timer),
  };
}
