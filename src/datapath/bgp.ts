/**
 * The BGP speaker of a gateway host (BIRD 2 from Debian): which sessions the host holds (the
 * core router's `bgp-peer` objects whose address lies on one of the host's bound uplinks, with
 * the router's `asNumber` as the local AS), what it advertises (the `bgp-network` objects plus
 * the /32 public addresses this gateway serves), the BIRD configuration text, and the daemon as
 * a helper process that is reloaded (`birdc configure`), not restarted, when the text changes.
 * Pure.
 */
import { join } from 'node:path';
import type { Issue } from '../common/index.js';
import type { Port } from '../store/index.js';
import { networkOf, toInt } from './addr.js';
import type { DesiredProcess } from './desired-types.js';
import { notRealized } from './desired-helpers.js';
import type { HostTopology } from './topology.js';

/** One BGP session of a gateway. */
export interface BgpSession {
  /** BIRD protocol name (`peer_<address with underscores>`). */
  readonly name: string;
  /** The uplink address the session is made from. */
  readonly local: string;
  readonly peer: string;
  readonly peerAs: number;
  /** Seconds. */
  readonly holdTime: number;
  readonly keepAlive: number;
  readonly connectRetry: number;
  readonly password?: string;
}

/** What one gateway's speaker does. */
export interface BgpSpec {
  /** BGP router id: the lowest uplink address of the sessions. */
  readonly routerId: string;
  readonly localAs: number;
  readonly sessions: readonly BgpSession[];
  /** Advertised prefixes (`a.b.c.d/len`), sorted, unique. */
  readonly networks: readonly string[];
}

/** Timers used when a `bgp-peer` leaves them unset (s): short, so a dead gateway is noticed
 * within seconds even when its speaker cannot close the session (uplink down). */
export const BGP_DEFAULT_TIMERS = { holdTime: 9, keepAlive: 3, connectRetry: 5 } as const;

/** BFD timers of every session (ms, count): a peer that stops answering (an uplink down, a
 * dead upstream) is declared down after `multiplier` missed packets, about 0.6 s, instead of
 * the BGP hold time. A peer that does not speak BFD keeps its session: BIRD only restarts a
 * session whose BFD session was up and went down. */
export const BFD_TIMERS = { intervalMs: 200, multiplier: 3 } as const;

/** Files of the speaker in the state directory. */
export const BIRD_CONF = 'bird.conf';
export const BIRD_CTL = 'bird.ctl';
export const BIRD_PID = 'bird.pid';
export const BIRD_LOG = 'bird.log';

/** The key of the speaker among the agent's helper processes. */
export const BGP_PROCESS = 'bgp';

function isOnLink(addr: string, port: Port): boolean {
  if (port.portAddress === undefined || port.networkLength === undefined) return false;
  return (
    networkOf(addr, port.networkLength) === networkOf(port.portAddress, port.networkLength) &&
    addr !== port.portAddress
  );
}

/**
 * The speaker of this host: sessions from this host's bound uplinks of `coreRouterId` to the
 * router's BGP peers on those uplinks' networks, advertising the router's BGP networks plus
 * `extraRoutes` (the public /32s this gateway serves). Undefined when the router has no AS
 * number, no peer is on one of this host's uplinks, or nothing would be advertised.
 */
export function bgpSpec(
  topo: HostTopology,
  coreRouterId: string,
  extraRoutes: readonly string[],
  issues: Issue[],
): BgpSpec | undefined {
  const router = topo.routers.find((r) => r.id === coreRouterId);
  const peers = (topo.bgpPeers ?? []).filter((p) => p.routerId === coreRouterId);
  if (!router || peers.length === 0) return undefined;
  if (router.asNumber === undefined || router.asNumber < 1) {
    issues.push(notRealized(`router/${router.id}`, 'BGP peers without an AS number on the router'));
    return undefined;
  }
  const uplinks = [...topo.ports.values()]
    .filter(
      (p) =>
        p.routerId === coreRouterId &&
        p.hostId === topo.hostId &&
        p.interfaceName !== undefined &&
        p.portAddress !== undefined,
    )
    .sort((a, b) => a.id.localeCompare(b.id));
  const sessions: BgpSession[] = [];
  for (const peer of [...peers].sort((a, b) => toInt(a.address) - toInt(b.address))) {
    const uplink = uplinks.find((u) => isOnLink(peer.address, u));
    // a peer on another gateway's uplink network is that gateway's session
    if (!uplink) continue;
    sessions.push({
      name: `peer_${peer.address.replaceAll('.', '_')}`,
      local: uplink.portAddress!,
      peer: peer.address,
      peerAs: peer.asNumber,
      holdTime: peer.holdTime ?? BGP_DEFAULT_TIMERS.holdTime,
      keepAlive: peer.keepAlive ?? BGP_DEFAULT_TIMERS.keepAlive,
      connectRetry: peer.connectRetry ?? BGP_DEFAULT_TIMERS.connectRetry,
      ...(peer.password !== undefined && peer.password !== '' ? { password: peer.password } : {}),
    });
  }
  if (sessions.length === 0) return undefined;
  const networks = new Set<string>(extraRoutes);
  for (const n of topo.bgpNetworks ?? []) {
    if (n.routerId === coreRouterId)
      networks.add(`${networkOf(n.subnetAddress, n.subnetLength)}/${n.subnetLength}`);
  }
  const sorted = [...networks].sort((a, b) => {
    const [x, lx] = a.split('/') as [string, string];
    const [y, ly] = b.split('/') as [string, string];
    return toInt(x) - toInt(y) || Number(lx) - Number(ly);
  });
  const routerId = sessions.map((s) => s.local).sort((a, b) => toInt(a) - toInt(b))[0]!;
  return { routerId, localAs: router.asNumber, sessions, networks: sorted };
}

function quote(text: string): string {
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * The BIRD 2 configuration of a speaker: a device protocol (interface scan), the advertised
 * prefixes as a static protocol `adv` (unreachable routes: never installed in the kernel, no
 * kernel protocol), BFD for every session (`BFD_TIMERS`), and one eBGP protocol per session
 * that imports nothing (the gateway's default route is the topology's) and exports only `adv`.
 */
export function birdConfig(spec: BgpSpec): string {
  const lines = [
    '# written by eucanetd agent: edits are replaced on the next pass',
    `router id ${spec.routerId};`,
    '',
    'protocol device {',
    '  scan time 10;',
    '}',
    '',
    // BFD sessions are only made for the BGP sessions that ask for them (`bfd on`)
    'protocol bfd {',
    '  interface "*" {',
    `    min rx interval ${BFD_TIMERS.intervalMs} ms;`,
    `    min tx interval ${BFD_TIMERS.intervalMs} ms;`,
    `    multiplier ${BFD_TIMERS.multiplier};`,
    '  };',
    '}',
    '',
    'protocol static adv {',
    '  ipv4;',
    ...spec.networks.map((n) => `  route ${n} unreachable;`),
    '}',
  ];
  for (const s of spec.sessions) {
    lines.push(
      '',
      `protocol bgp ${s.name} {`,
      `  local ${s.local} as ${spec.localAs};`,
      `  neighbor ${s.peer} as ${s.peerAs};`,
      `  hold time ${s.holdTime};`,
      `  keepalive time ${s.keepAlive};`,
      `  connect retry time ${s.connectRetry};`,
      // a gateway coming back reconnects at once, not after BIRD's 5 s / 60 s defaults
      '  connect delay time 1;',
      '  error wait time 1, 10;',
      '  bfd on;',
      ...(s.password !== undefined ? [`  password ${quote(s.password)};`] : []),
      '  ipv4 {',
      '    import none;',
      '    export where proto = "adv";',
      '  };',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * The speaker as files and a helper process: the configuration in the state directory and
 * `bird` in the foreground inside the core router's namespace, its control socket in the
 * state directory. The process is reloaded with `birdc configure` when the configuration
 * changes (its command line does not), restarted only when it is not running. It is started
 * through `setpriv --pdeathsig KILL` (`ip netns exec` and `setpriv` exec, so the agent is the
 * speaker's parent): when the agent dies, crash included, the kernel kills the speaker, its
 * sessions close and the upstream withdraws this gateway at once, as the other hosts stop
 * counting it alive (no heartbeats) and take over its public addresses.
 */
export function bgpSpeaker(
  spec: BgpSpec,
  ns: string,
  stateDir: string,
): { files: { path: string; content: string }[]; process: DesiredProcess } {
  const confPath = join(stateDir, BIRD_CONF);
  const ctlPath = join(stateDir, BIRD_CTL);
  const pidPath = join(stateDir, BIRD_PID);
  const cmdline = ['bird', '-f', '-c', confPath, '-s', ctlPath, '-P', pidPath];
  return {
    files: [{ path: confPath, content: birdConfig(spec) }],
    process: {
      key: BGP_PROCESS,
      argv: ['ip', 'netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', ...cmdline],
      cmdline,
      pidPath,
      logPath: join(stateDir, BIRD_LOG),
      reload: { files: [confPath], argv: ['birdc', '-s', ctlPath, 'configure'] },
    },
  };
}
