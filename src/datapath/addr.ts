/** IPv4 helpers (pure). */

/** The 32-bit value of a dotted IPv4 address. */
export function toInt(addr: string): number {
  return addr.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

function fromInt(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The netmask of a prefix length, dotted. */
export function netmask(len: number): string {
  return fromInt(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
}

/** The network address of `addr/len`. */
export function networkOf(addr: string, len: number): string {
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return fromInt((toInt(addr) & mask) >>> 0);
}
