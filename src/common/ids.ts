/**
 * Deterministic object ids. Every object the controller manages gets an id derived from its
 * name (or, for unnamed objects, a stable key), formatted as an RFC 9562 version-8 UUID.
 * Ids made any other way (random v4 from the API, by hand) never carry version 8 plus our
 * marker, so `isDerivedId` tells our objects from everybody else's without a lookup.
 * The hash is a fast non-cryptographic 128-bit mix (four 32-bit lanes): mapping derives
 * hundreds of thousands of ids per cycle, and SHA-1 (UUIDv5) costs about 10x more.
 */

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const DASH = 45;

/** Writes `n` as 8 lower-case hex digits into `buf` at `at`. */
function put32(buf: number[], n: number, at: number): void {
  for (let i = 7; i >= 0; i--) {
    buf[at + i] = HEX_CODES[n & 15]!;
    n >>>= 4;
  }
}

/** The hash state after a key prefix (`IdDeriver.prefix`). */
export interface IdPrefix {
  readonly h1: number;
  readonly h2: number;
  readonly h3: number;
  readonly h4: number;
}

/** The hash state of the empty key. */
const SEED: IdPrefix = Object.freeze({
  h1: 0x9e3779b9,
  h2: 0x243f6a88,
  h3: 0xb7e15162,
  h4: 0xdeadbeef,
});

/**
 * Derives ids as one flat string (built from char codes: a concatenation of nine parts would
 * be a tree of cons-strings that every Map lookup flattens again). Owns a scratch buffer, so
 * hot loops (mapping derives ~400k ids per pass on L) keep one deriver per pass.
 */
export class IdDeriver {
  private readonly buf: number[] = new Array<number>(36).fill(0);
  private readonly tmp: number[] = new Array<number>(8).fill(0);
  // the four hash lanes while a key is absorbed
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private h4 = 0;

  /** The id of the object with this key. */
  derive(key: string): string {
    return this.deriveAfter(SEED, key);
  }

  /** The hash state after `prefix`: `deriveAfter(prefix(p), s)` equals `derive(p + s)`
   * without building the key (a chain's rules share `rule:<chain name>:`). */
  prefix(prefix: string): IdPrefix {
    this.absorb(SEED, prefix);
    return { h1: this.h1, h2: this.h2, h3: this.h3, h4: this.h4 };
  }

  /** The id of the key `<prefix><suffix>` (see `prefix`). */
  deriveAfter(prefix: IdPrefix, suffix: string): string {
    this.absorb(prefix, suffix);
    return this.finish();
  }

  /** Hashes `s` on from the state `from` into the lanes. */
  private absorb(from: IdPrefix, s: string): void {
    let h1 = from.h1,
      h2 = from.h2,
      h3 = from.h3,
      h4 = from.h4;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = h2 ^ Math.imul(h1 ^ c, 597399067);
      h2 = h3 ^ Math.imul(h2 ^ c, 2869860233);
      h3 = h4 ^ Math.imul(h3 ^ c, 951274213);
      h4 = h1 ^ Math.imul(h4 ^ c, 2716044179);
    }
    this.h1 = h1;
    this.h2 = h2;
    this.h3 = h3;
    this.h4 = h4;
  }

  private finish(): string {
    let h1 = this.h1,
      h2 = this.h2,
      h3 = this.h3,
      h4 = this.h4;
    h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
    h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
    h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
    h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
    h1 ^= h2 ^ h3 ^ h4;
    h2 ^= h1;
    h3 ^= h1;
    h4 ^= h1;
    const buf = this.buf;
    const b = this.tmp;
    // layout: aaaaaaaa-bbbb-8bbb-wwww-cccccccce0ca: version 8, variant 10xx, marker e0ca
    put32(buf, h1, 0);
    buf[8] = DASH;
    put32(b, h2, 0);
    buf[9] = b[0]!;
    buf[10] = b[1]!;
    buf[11] = b[2]!;
    buf[12] = b[3]!;
    buf[13] = DASH;
    buf[14] = 56; // '8'
    buf[15] = b[5]!;
    buf[16] = b[6]!;
    buf[17] = b[7]!;
    buf[18] = DASH;
    const w = ((0x80 | ((h4 >>> 24) & 0x3f)) << 8) | ((h4 >>> 16) & 255);
    buf[19] = HEX_CODES[(w >>> 12) & 15]!;
    buf[20] = HEX_CODES[(w >>> 8) & 15]!;
    buf[21] = HEX_CODES[(w >>> 4) & 15]!;
    buf[22] = HEX_CODES[w & 15]!;
    buf[23] = DASH;
    put32(buf, h3, 24);
    buf[32] = 101; // e0ca marker
    buf[33] = 48;
    buf[34] = 99;
    buf[35] = 97;
    return String.fromCharCode.apply(null, buf);
  }
}

/** Derives the UUID of a managed object from a key such as `router:eucart`. */
export function derivedId(key: string): string {
  return new IdDeriver().derive(key);
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
