/**
 * Gateway liveness from agent heartbeats over the underlay: the agent of a gateway host sends
 * a small UDP datagram every `intervalMs` to the underlay address of every other host while
 * its uplinks are up; every agent listens, and takes a gateway as alive while its last
 * heartbeat (from that gateway's own underlay address) is younger than `ttlMs`. A change of the
 * live set wakes the agent, so a compute host re-points its transit within one pass and a
 * surviving gateway advertises the dead one's public addresses. This is the `GatewayLiveness`
 * the agent uses until heartbeats are kept in the store (issue 17's agent registration).
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../common/index.js';
import type { CommandRunner } from './exec.js';
import { CORE_ROUTER, type GatewayLiveness, type HostTopology } from './topology.js';

/** Default UDP port of the heartbeats. */
export const HEARTBEAT_PORT = 4799;
const MAGIC = 'eucanetd-hb1';

/** Options of `createHeartbeatLiveness`. */
export interface HeartbeatOptions {
  /** UDP port, the same on every host (default `HEARTBEAT_PORT`). */
  readonly port?: number;
  /** Local address to bind (default: every address of the namespace). */
  readonly bindAddress?: string;
  /** Between two heartbeats of a gateway (default 1000 ms). */
  readonly intervalMs?: number;
  /** A gateway is dead when its last heartbeat is older (default 3000 ms). */
  readonly ttlMs?: number;
  /** Reads the uplinks' state (`ip -json link show dev X`). */
  readonly runner: CommandRunner;
  readonly logger: Logger;
}

/** A running heartbeat source: liveness for the agent, plus `close`. */
export interface HeartbeatLiveness extends GatewayLiveness {
  close(): Promise<void>;
}

interface View {
  me: string;
  gateways: readonly string[];
  underlay: ReadonlyMap<string, string>;
  uplinks: readonly string[];
}

/** Binds the heartbeat socket and starts sending (as a gateway) and watching. */
export async function createHeartbeatLiveness(
  options: HeartbeatOptions,
): Promise<HeartbeatLiveness> {
  const port = options.port ?? HEARTBEAT_PORT;
  const intervalMs = options.intervalMs ?? 1000;
  const ttlMs = options.ttlMs ?? 3 * intervalMs;
  const startedAt = Date.now();
  const lastSeen = new Map<string, number>();
  const listeners = new Set<() => void>();
  let view: View | undefined;
  let lastLive = '';
  const socket: Socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const [magic, host] = msg.toString('utf8').split(' ');
    // only a gateway, from its own underlay address
    if (magic !== MAGIC || host === undefined || !view?.gateways.includes(host)) return;
    if (view.underlay.get(host) !== rinfo.address) return;
    lastSeen.set(host, Date.now());
  });
  socket.on('error', (e) => options.logger.warn('heartbeat socket error', { error: String(e) }));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port, ...(options.bindAddress ? { address: options.bindAddress } : {}) }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const isAlive = (host: string, now: number): boolean =>
    host === view?.me || now - startedAt < ttlMs || now - (lastSeen.get(host) ?? 0) < ttlMs;
  const uplinksUp = async (uplinks: readonly string[]): Promise<boolean> => {
    for (const dev of uplinks) {
      const out = await options.runner(['ip', '-json', 'link', 'show', 'dev', dev]).catch(() => '');
      if (!/"operstate":"(UP|UNKNOWN)"/.test(out)) return false;
    }
    return true;
  };
  const tick = async (): Promise<void> => {
    const v = view;
    if (!v) return;
    if (v.gateways.includes(v.me) && (await uplinksUp(v.uplinks))) {
      const msg = Buffer.from(`${MAGIC} ${v.me}`);
      for (const [host, addr] of v.underlay) {
        if (host !== v.me) socket.send(msg, port, addr, () => undefined);
      }
    }
    const now = Date.now();
    const live = v.gateways.filter((g) => isAlive(g, now)).join(',');
    if (live !== lastLive) {
      if (lastLive !== '') options.logger.info('gateway liveness changed', { live_gateways: live });
      lastLive = live;
      for (const l of listeners) l();
    }
  };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void tick().finally(() => (running = false));
  }, intervalMs);
  return {
    liveHosts: (candidates) => {
      const now = Date.now();
      return Promise.resolve(new Set(candidates.filter((c) => isAlive(c, now))));
    },
    observe: (topo: HostTopology) => {
      view = {
        me: topo.hostId,
        gateways: topo.gatewayHostIds ?? [],
        underlay: topo.underlay ?? new Map(),
        uplinks: uplinksOf(topo),
      };
    },
    subscribe: (onChange) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    close: async () => {
      clearInterval(timer);
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
}

/** The external devices of this host's bound core uplinks. */
function uplinksOf(topo: HostTopology): string[] {
  const core = new Set(topo.routers.filter((r) => r.name === CORE_ROUTER).map((r) => r.id));
  return [...topo.ports.values()]
    .filter(
      (p) =>
        p.type === 'Router' &&
        p.routerId !== undefined &&
        core.has(p.routerId) &&
        p.hostId === topo.hostId &&
        p.interfaceName !== undefined,
    )
    .map((p) => p.interfaceName!)
    .sort();
}
