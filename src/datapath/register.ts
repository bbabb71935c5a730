/**
 * Agent self-registration: the agent writes its host's addresses, interfaces and a heartbeat
 * to the `host` object in whatever store it uses (the API, or etcd directly); the API derives
 * `alive` from the heartbeat. Other agents ignore a host change that is only a heartbeat.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from '../common/index.js';
import { hostId } from '../common/index.js';
import type { ChangeEvent, HostInterface, TopologyStore } from '../store/index.js';
import type { CommandRunner } from './exec.js';
import { ALIAS_PREFIX } from './names.js';

/** Returns the host's non-internal IPv4 addresses (as seen in the agent's namespace). */
export function localAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address)
    .sort();
}

/** The host's interfaces (`ip -json addr show`), without loopback and the agent's own links
 * (its bridges, router links and VXLAN devices). */
export async function hostInterfaces(run: CommandRunner): Promise<HostInterface[]> {
  const text = (await run(['ip', '-json', 'addr', 'show'])).trim();
  const links = (text === '' ? [] : JSON.parse(text)) as {
    ifname: string;
    address?: string;
    mtu?: number;
    flags?: string[];
    ifalias?: string;
    link_type?: string;
    addr_info?: { family: string; local: string }[];
  }[];
  return links
    .filter((l) => l.link_type !== 'loopback' && !(l.ifalias ?? '').startsWith(ALIAS_PREFIX))
    .filter((l) => !/^(eb|er|vx)-/.test(l.ifname))
    .map((l) => ({
      name: l.ifname,
      ...(l.address !== undefined && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(l.address)
        ? { mac: l.address }
        : {}),
      ...(l.mtu !== undefined ? { mtu: l.mtu } : {}),
      isUp: l.flags?.includes('UP') ?? false,
      addresses: (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** What a registration carries besides the addresses (the agent's heartbeat). */
export interface Heartbeat {
  readonly interfaces: readonly HostInterface[];
  /** How long the heartbeat counts (the API's `alive`). */
  readonly ttlMs: number;
  /** Now (ms since the epoch). */
  readonly at: number;
}

/** Updates (or creates) the host object with this host's addresses (and, with `heartbeat`,
 * its interfaces and a heartbeat); true when the object holds them afterwards. A failure is
 * logged at `failureLevel` (the agent's first attempt warns: other hosts cannot reach this
 * one's instances until it registers). */
export async function registerHost(
  store: TopologyStore,
  name: string,
  logger: Logger,
  failureLevel: 'warn' | 'debug' = 'debug',
  heartbeat?: Heartbeat,
): Promise<boolean> {
  const id = hostId(name);
  const addresses = localAddresses();
  const existing = await store.get('host', id).catch(() => undefined);
  if (!heartbeat && existing && existing.addresses.join(',') === addresses.join(',')) return true;
  const object = {
    id,
    name: existing?.name ?? name,
    addresses,
    ...(existing?.owner ? { owner: existing.owner } : {}),
    ...(existing?.floodingProxyWeight !== undefined
      ? { floodingProxyWeight: existing.floodingProxyWeight }
      : {}),
    ...(heartbeat
      ? {
          interfaces: heartbeat.interfaces,
          heartbeatAt: heartbeat.at,
          heartbeatTtlMs: heartbeat.ttlMs,
        }
      : existing?.interfaces
        ? {
            interfaces: existing.interfaces,
            ...(existing.heartbeatAt !== undefined ? { heartbeatAt: existing.heartbeatAt } : {}),
            ...(existing.heartbeatTtlMs !== undefined
              ? { heartbeatTtlMs: existing.heartbeatTtlMs }
              : {}),
          }
        : {}),
  };
  try {
    await store.transaction([{ op: existing ? 'update' : 'create', kind: 'host', object }]);
    const changed = existing?.addresses.join(',') !== addresses.join(',');
    logger.log(changed ? 'info' : 'debug', changed ? 'host registered' : 'host heartbeat', {
      host: name,
      host_id: id,
      addresses,
    });
    return true;
  } catch (e) {
    // a read-only follower refuses writes; a race with the controller creating the host
    // object is retried before the next pass
    logger.log(
      failureLevel,
      'host not registered: other hosts do not learn its underlay address (use --api, or a store that accepts writes)',
      { host: name, host_id: id, addresses, error: String(e) },
    );
    return false;
  }
}

/**
 * The host addresses an agent has seen, to tell a heartbeat (interfaces, heartbeat time) from
 * a change that moves an underlay address: only the latter needs a pass.
 */
export class HostAddressBook {
  private readonly seen = new Map<string, string>();

  /** True when every change of the event is a host update that keeps the addresses this
   * book holds for it (the book learns the addresses of every host change it sees). */
  isHeartbeatOnly(event: ChangeEvent): boolean {
    let only = event.changes.length > 0;
    for (const c of event.changes) {
      if (c.kind !== 'host') {
        only = false;
        continue;
      }
      const addrs = (c.object as { addresses?: readonly string[] } | undefined)?.addresses;
      const key = c.type === 'deleted' || !addrs ? undefined : addrs.join(',');
      if (c.type !== 'updated' || key === undefined || this.seen.get(c.id) !== key) only = false;
      if (key === undefined) this.seen.delete(c.id);
      else this.seen.set(c.id, key);
    }
    return only;
  }
}
