/**
 * Readable names for plan lines. Named kinds show their name; unnamed ones (ports, rules,
 * routes, DHCP subnets, ARP/MAC entries, BGP objects) are described by their parent's name and
 * their key fields, e.g. `sg_ingress_sg-0a1b2c3d#3` (a rule: its chain and 1-based position) or
 * `eucart 0.0.0.0/0->10.1.0.0/16` (a route). `topology show` accepts these names.
 */
import type { Kind } from '../store/index.js';

/** Looks an object up by kind and id (desired first, then stored, for plans). */
export type Lookup = (kind: Kind, id: string) => object | undefined;

function field(o: object, key: string): unknown {
  return (o as Record<string, unknown>)[key];
}

function nameVia(lookup: Lookup, kind: Kind, id: unknown): string {
  if (typeof id !== 'string') return '?';
  const o = lookup(kind, id);
  const name = o ? field(o, 'name') : undefined;
  return typeof name === 'string' ? name : id.slice(0, 8);
}

/** `to-<device>` for a port without interface or address that is linked to another device. */
function peerDevice(port: object, lookup: Lookup): string {
  const peerId = field(port, 'peerId');
  const peer = typeof peerId === 'string' ? lookup('port', peerId) : undefined;
  if (!peer) return '';
  return field(peer, 'type') === 'Router'
    ? `to-${nameVia(lookup, 'router', field(peer, 'routerId'))}`
    : `to-${nameVia(lookup, 'bridge', field(peer, 'bridgeId'))}`;
}

/** 1-based position of a rule in its chain's `ruleIds`, or undefined when not listed. */
export function rulePosition(rule: object, lookup: Lookup): number | undefined {
  const chainId = field(rule, 'chainId');
  const chain = typeof chainId === 'string' ? lookup('chain', chainId) : undefined;
  const ids = chain ? field(chain, 'ruleIds') : undefined;
  if (!Array.isArray(ids)) return undefined;
  const i = ids.indexOf(field(rule, 'id'));
  return i < 0 ? undefined : i + 1;
}

/** Describes one object for humans. */
export function describeObject(kind: Kind, o: object, lookup: Lookup): string {
  const name = field(o, 'name');
  if (typeof name === 'string' && name !== '') return name;
  const f = (k: string): string => String(field(o, k) ?? '');
  switch (kind) {
    case 'port': {
      const device =
        f('type') === 'Router'
          ? nameVia(lookup, 'router', field(o, 'routerId'))
          : nameVia(lookup, 'bridge', field(o, 'bridgeId'));
      const detail = f('interfaceName') || f('portAddress') || peerDevice(o, lookup) || 'port';
      return `${device}:${detail}`;
    }
    case 'rule': {
      const chain = nameVia(lookup, 'chain', field(o, 'chainId'));
      const pos = rulePosition(o, lookup);
      return pos === undefined ? `${chain} ${f('type')}` : `${chain}#${pos}`;
    }
    case 'route':
      return `${nameVia(lookup, 'router', field(o, 'routerId'))} ${f('srcNetworkAddr')}/${f('srcNetworkLength')}->${f('dstNetworkAddr')}/${f('dstNetworkLength')}`;
    case 'dhcp-subnet':
      return `${nameVia(lookup, 'bridge', field(o, 'bridgeId'))} ${f('subnetPrefix')}/${f('subnetLength')}`;
    case 'arp-entry':
      return `${nameVia(lookup, 'bridge', field(o, 'bridgeId'))} ${f('ip')}`;
    case 'mac-entry':
      return `${nameVia(lookup, 'bridge', field(o, 'bridgeId'))} ${f('macAddr')}`;
    case 'bgp-peer':
      return `${nameVia(lookup, 'router', field(o, 'routerId'))} peer ${f('address')}`;
    case 'bgp-network':
      return `${nameVia(lookup, 'router', field(o, 'routerId'))} network ${f('subnetAddress')}/${f('subnetLength')}`;
    default:
      return kind;
  }
}

const PROTOCOLS: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  6: 'tcp',
  17: 'udp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  132: 'sctp',
};
const ETHER_TYPES: Readonly<Record<number, string>> = { 2048: 'ip', 2054: 'arp', 34525: 'ipv6' };

function range(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { start, end } = v as { start?: number; end?: number };
  if (start === undefined && end === undefined) return undefined;
  return start === end || end === undefined ? String(start) : `${start ?? 0}-${end}`;
}

/**
 * A rule as one line of match and action, e.g. `tcp dport 22 src 0.0.0.0/0 -> accept` or
 * `ip src group sg_… dst !10.1.0.0/16 -> snat 198.51.100.17 then continue`. Group, chain and
 * port ids are shown by name.
 */
export function ruleSummary(rule: object, lookup: Lookup): string {
  const f = (k: string): unknown => field(rule, k);
  const not = (k: string): string => (f(k) === true ? '!' : '');
  const parts: string[] = [];
  if (f('matchForwardFlow') === true) parts.push('forward-flow');
  if (f('matchReturnFlow') === true) parts.push('return-flow');
  const proto = f('nwProto');
  const dl = f('dlType');
  if (typeof proto === 'number') parts.push(`${not('invNwProto')}${PROTOCOLS[proto] ?? proto}`);
  else if (typeof dl === 'number')
    parts.push(`${not('invDlType')}${ETHER_TYPES[dl] ?? `ethertype ${dl}`}`);
  const sport = range(f('tpSrc'));
  const dport = range(f('tpDst'));
  const icmp = proto === 1;
  if (sport) parts.push(`${not('invTpSrc')}${icmp ? 'type' : 'sport'} ${sport}`);
  if (dport) parts.push(`${not('invTpDst')}${icmp ? 'code' : 'dport'} ${dport}`);
  const net = (side: 'Src' | 'Dst'): void => {
    const addr = f(`nw${side}Address`);
    const group = f(`ipAddrGroup${side}`);
    const word = side.toLowerCase();
    if (typeof addr === 'string')
      parts.push(`${word} ${not(`invNw${side}`)}${addr}/${String(f(`nw${side}Length`) ?? 32)}`);
    if (typeof group === 'string')
      parts.push(
        `${word} ${not(`invIpAddrGroup${side}`)}group ${nameVia(lookup, 'ip-addr-group', group)}`,
      );
    const mac = f(`dl${side}`);
    if (typeof mac === 'string') parts.push(`mac-${word} ${not(`invDl${side}`)}${mac}`);
  };
  net('Src');
  net('Dst');
  for (const [k, word] of [
    ['inPorts', 'in'],
    ['outPorts', 'out'],
  ] as const) {
    const ports = f(k);
    if (Array.isArray(ports) && ports.length)
      parts.push(`${word} ${ports.map((p) => nameVia(lookup, 'port', p)).join(',')}`);
  }
  if (typeof f('portGroup') === 'string')
    parts.push(`port-group ${nameVia(lookup, 'port-group', f('portGroup'))}`);
  if (typeof f('fragmentPolicy') === 'string' && f('fragmentPolicy') !== 'any')
    parts.push(`fragments ${String(f('fragmentPolicy'))}`);
  let match = parts.length ? parts.join(' ') : 'any';
  if (f('condInvert') === true) match = `not (${match})`;
  return `${match} -> ${ruleAction(rule)}`;
}

function ruleAction(rule: object): string {
  const type = String(field(rule, 'type') ?? '?');
  if (type === 'jump') return `jump ${String(field(rule, 'jumpChainName') ?? '?')}`;
  const targets = field(rule, 'natTargets');
  if (Array.isArray(targets) && targets.length) {
    const t = targets
      .map((x: { addressFrom?: string; addressTo?: string }) =>
        x.addressFrom === x.addressTo ? x.addressFrom : `${x.addressFrom}-${x.addressTo}`,
      )
      .join(',');
    const flow = field(rule, 'flowAction');
    return `${type} ${t}${typeof flow === 'string' ? ` then ${flow}` : ''}`;
  }
  return type;
}
