/**
 * Names of the Linux objects the agent creates. Interface names are limited to 15 bytes, so
 * they carry a short hash of the topology id; the full id is kept in the link alias
 * (`eucanetd:<kind>:<id>`), which is also how the agent recognizes what it created.
 */

/** Link alias prefix that marks a link as created by the agent. */
export const ALIAS_PREFIX = 'eucanetd:';

/** Route protocol number the agent stamps on the routes it adds (so it only touches those). */
export const ROUTE_PROTO = 186;

/** Names of the agent's nftables tables (one per family). */
export const NFT_TABLE = 'eucanetd';

/** FNV-1a 32-bit hash, as 8 hex digits. */
export function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A 10-hex tag of a topology id (40 bits: collisions are negligible on one host). */
export function idTag(id: string): string {
  return (shortHash(id) + shortHash('x' + id)).slice(0, 10);
}

/** Name prefix of the agent's Linux bridges. */
export const BRIDGE_PREFIX = 'eb-';

/** Host-namespace Linux bridge that realizes a topology bridge. */
export function bridgeDev(bridgeId: string): string {
  return `${BRIDGE_PREFIX}${idTag(bridgeId)}`;
}

/** Host end of the veth that links a subnet bridge to a router port. */
export function routerLinkHostDev(routerPortId: string): string {
  return `er-${idTag(routerPortId)}`;
}

/** Router-namespace end of that veth (holds the router port address and MAC). */
export function routerLinkNsDev(routerPortId: string): string {
  return `rp-${idTag(routerPortId)}`;
}

/** The helper namespace of a router. */
export function routerNamespace(prefix: string, routerId: string): string {
  return `${prefix}r-${idTag(routerId)}`;
}

/** The alias stamped on a link the agent created. */
export function linkAlias(kind: 'bridge' | 'rport' | 'vxlan', id: string): string {
  return `${ALIAS_PREFIX}${kind}:${id}`;
}

/** A deterministic conntrack zone (1..65535) for a bridge. */
export function conntrackZone(bridgeId: string): number {
  return (parseInt(shortHash(bridgeId), 16) % 65535) + 1;
}

/** VXLAN device that carries a spanning bridge between hosts. */
export function vxlanDev(bridgeId: string): string {
  return `vx-${idTag(bridgeId)}`;
}

/** Transit device of a router copy (a VXLAN device inside the router namespace). */
export function transitDev(routerId: string): string {
  return `tr-${idTag(routerId)}`;
}

/** The metadata endpoint namespace (holds 169.254.169.254 and the metadata proxy). */
export function metadataNamespace(prefix: string): string {
  return `${prefix}r-md`;
}

/** UDP port of the agent's VXLAN devices (IANA). */
export const VXLAN_PORT = 4789;

/** A deterministic VNI (2^23..2^24-1) for the transit link of a router: the mapping's bridge
 * VNIs are small integers, so the two ranges do not meet in practice. */
export function transitVni(routerId: string): number {
  return 0x800000 | (parseInt(shortHash(`transit:${routerId}`), 16) & 0x7fffff);
}

/** A deterministic locally administered unicast MAC for `key`. */
export function derivedMac(key: string): string {
  const h = shortHash(key) + shortHash(`m${key}`);
  return ['02', h.slice(0, 2), h.slice(2, 4), h.slice(4, 6), h.slice(6, 8), h.slice(8, 10)].join(
    ':',
  );
}

/** Addresses of the transit link (/31): the router host's copy holds `.8`, every other copy
 * `.9` (they only send to the router host; nothing is ever routed back over the link). */
export const TRANSIT_GW = '192.0.0.8';
export const TRANSIT_LOCAL = '192.0.0.9';

/** Files of the metadata endpoint in the state directory. */
export const MD_PROXY_PID = 'md-proxy.pid';
export const MD_PROXY_LOG = 'md-proxy.log';
export const MD_MAP = 'metadata-map.json';

/** MAC of a gateway's transit device of a router: each gateway has its own, so a compute
 * host's copy can address every gateway over the one transit device (ECMP next hops). */
export function transitGwMac(routerId: string, gatewayHostId: string): string {
  return derivedMac(`transit-gw:${routerId}:${gatewayHostId}`);
}

/** The next-hop address (`onlink`, on the transit device) of the gateway at `index` in the
 * gateway list: only a key of the permanent neighbor entry that holds the gateway's MAC. */
export function transitHop(index: number): string {
  return `192.0.0.${16 + (index % 224)}`;
}

/** Nexthop object ids in a router namespace: two per gateway (`index + 1` and its twin
 * `index + 1 + TRANSIT_TWIN_OFFSET`, same address) and the resilient group over the live ones. */
export const TRANSIT_GROUP_ID = 1000;
export const TRANSIT_TWIN_OFFSET = 500;
