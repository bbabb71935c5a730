/**
 * Deterministic object ids. Every object the controller manages gets an id derived from its
 * name (or, for unnamed objects, a stable key), formatted as an RFC 9562 version-8 UUID.
 * Ids made any other way (random v4 from the API, by hand) never carry version 8 plus our
 * marker, so `isDerivedId` tells our objects from everybody else's without a lookup.
 * The hash is a fast non-cryptographic 128-bit mix (four 32-bit lanes): mapping derives
 * hundreds of thousands of ids per cycle, and SHA-1 (UUIDv5) costs about 10x more.
 */

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Marker in the last 16 bits of the node field: 0xe0ca ("euca"). */
const MARKER = 0xe0ca;

function hex32(n: number): string {
  return HEX[(n >>> 24) & 255]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}

/** Derives the UUID of a managed object from a key such as `router:eucart`. */
export function derivedId(key: string): string {
  let h1 = 0x9e3779b9,
    h2 = 0x243f6a88,
    h3 = 0xb7e15162,
    h4 = 0xdeadbeef;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const a = hex32(h1);
  const b = hex32(h2);
  const c = hex32(h3);
  // version 8 in the 13th hex digit, variant 10xx in the 17th, marker in the last 4 digits
  const v = '8' + b.slice(5, 8);
  const w = HEX[0x80 | ((h4 >>> 24) & 0x3f)]! + HEX[(h4 >>> 16) & 255]!;
  return `${a}-${b.slice(0, 4)}-${v}-${w}-${c}${HEX[(MARKER >>> 8) & 255]!}${HEX[MARKER & 255]!}`;
}

const DERIVED_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{8}e0ca$/;

/** Returns true when the id was made by `derivedId` (so the controller manages the object). */
export function isDerivedId(id: string): boolean {
  return id.length === 36 && id.endsWith('e0ca') && DERIVED_RE.test(id);
}

/** The id of the host object for a node or gateway host name (shared by controller and agent). */
export function hostId(name: string): string {
  return derivedId(`host:${name}`);
}
