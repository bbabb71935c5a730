/**
 * `derivedId` from src/common, computed the same way but returned as one flat string.
 * `derivedId` concatenates nine parts, which V8 keeps as a tree of cons-strings; every Map
 * lookup then flattens it (a second string per id, allocated in the hot path, and both kept
 * alive). Mapping derives ~400k ids per pass on the L document, and this alone halves the
 * cost of id-plus-insert. `fast-id.test.ts` checks equality with `derivedId` on many keys.
 */

const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const DASH = 45;

/** Writes `n` as 8 lower-case hex digits into `buf` at `at`. */
function put32(buf: number[], n: number, at: number): void {
  for (let i = 7; i >= 0; i--) {
    buf[at + i] = HEX[n & 15]!;
    n >>>= 4;
  }
}

/** Derives ids; owns a scratch buffer, so use one per mapping pass (no module state). */
export class IdDeriver {
  private readonly buf: number[] = new Array<number>(36).fill(0);
  private readonly tmp: number[] = new Array<number>(8).fill(0);

  /** Equal to `derivedId(key)`. */
  derive(key: string): string {
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
    const buf = this.buf;
    const b = this.tmp;
    // layout: aaaaaaaa-bbbb-8bbb-wwww-cccccccce0ca (see src/common/ids.ts)
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
    buf[19] = HEX[(w >>> 12) & 15]!;
    buf[20] = HEX[(w >>> 8) & 15]!;
    buf[21] = HEX[(w >>> 4) & 15]!;
    buf[22] = HEX[w & 15]!;
    buf[23] = DASH;
    put32(buf, h3, 24);
    buf[32] = 101; // e0ca marker
    buf[33] = 48;
    buf[34] = 99;
    buf[35] = 97;
    return String.fromCharCode.apply(null, buf);
  }
}
