/**
 * Readable names for plan lines. Named kinds show their name; unnamed ones (ports, rules,
 * routes, DHCP subnets, ARP/MAC entries, BGP objects) are described by their parent's name and
 * their key fields, e.g. `rule ic_i-0a1b2c3d_prechain drop` or `route eucart 0.0.0.0/0`.
 */
import type { Kind } from '../store/index.js';

type Lookup = (kind: Kind, id: string) => object | undefined;

function field(o: object, key: string): unknown {
  return (o as Record<string, unknown>)[key];
}

function nameVia(lookup: Lookup, kind: Kind, id: unknown): string {
  if (typeof id !== 'string') return '?';
  const o = lookup(kind, id);
  const name = o ? field(o, 'name') : undefined;
  return typeof name === 'string' ? name : id.slice(0, 8);
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
      const detail = f('interfaceName') || f('portAddress') || 'port';
      return `${device}:${detail}`;
    }
    case 'rule':
      return `${nameVia(lookup, 'chain', field(o, 'chainId'))} ${f('type')}`;
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
