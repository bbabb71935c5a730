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

/** Host-namespace Linux bridge that realizes a topology bridge. */
export function bridgeDev(bridgeId: string): string {
  return `eb-${idTag(bridgeId)}`;
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
export function linkAlias(kind: 'bridge' | 'rport', id: string): string {
  return `${ALIAS_PREFIX}${kind}:${id}`;
}

/** A deterministic conntrack zone (1..65535) for a bridge. */
export function conntrackZone(bridgeId: string): number {
  return (parseInt(shortHash(bridgeId), 16) % 65535) + 1;
}
