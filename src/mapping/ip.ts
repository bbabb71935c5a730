/**
 * IPv4 helpers for the address plan: parse and format dotted quads and CIDRs as unsigned
 * 32-bit numbers. Pure; parse failures return `undefined`, never throw.
 */

/** A parsed IPv4 network: `addr` is the network address (host bits cleared). */
export interface Cidr {
  readonly addr: number;
  readonly len: number;
}

/** Parses `a.b.c.d` into an unsigned 32-bit number, or `undefined` when malformed. */
export function parseIp(s: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255 || digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return n * 256 + part;
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The netmask of a prefix length as an unsigned number. */
function mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Parses `a.b.c.d/n` (host bits are cleared), or `undefined` when malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIp(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (addr === undefined || !/^\d{1,2}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > 32) return undefined;
  return { addr: (addr & mask(len)) >>> 0, len };
}

/** The address `offset` after the network address of `cidr`, formatted. */
export function hostAddress(cidr: Cidr, offset: number): string {
  return formatIp((cidr.addr + offset) >>> 0);
}

/** Formats a network as `a.b.c.d/n`. */
export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr.addr)}/${cidr.len}`;
}

/** True when the address lies inside the network. */
export function cidrContains(cidr: Cidr, ip: number): boolean {
  return (ip & mask(cidr.len)) >>> 0 === cidr.addr;
}
