/**
 * Strict parsers for the address formats of the GNI (IPv4 dotted quad, CIDR, MAC, integers).
 * They return `undefined` on malformed input instead of throwing.
 */

/**
 * Parses a dotted-quad IPv4 address into an unsigned 32-bit number; `undefined` if malformed.
 * An octet with a leading zero (`010`) is malformed: C's `inet_aton` reads it as octal (8),
 * a decimal reading gives 10, and the store accepts neither spelling.
 */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 3 || octet === 0) return undefined;
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      digits++;
    } else if (c === 46) {
      if (octet < 0 || octet > 255 || dots === 3) return undefined;
      value = value * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || octet < 0 || octet > 255) return undefined;
  return value * 256 + octet;
}

/** A parsed CIDR block: network address (host bits as written) and prefix length. */
export interface Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n` with 0 <= n <= 32 (no leading zeros); `undefined` if malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIpv4(text.slice(0, slash));
  const len = text.length - slash - 1;
  if (address === undefined || len < 1 || len > 2) return undefined;
  if (len === 2 && text.charCodeAt(slash + 1) === 48) return undefined; // `/08`
  const prefix = parseUint(text.slice(slash + 1));
  if (prefix === undefined || prefix > 32) return undefined;
  return { address, prefix };
}

/** The mask of a prefix length as an unsigned 32-bit number. */
function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True if `ip` lies inside `cidr`. */
export function cidrContainsIp(cidr: Cidr, ip: number): boolean {
  const mask = maskOf(cidr.prefix);
  return (ip & mask) >>> 0 === (cidr.address & mask) >>> 0;
}

/** True if `inner` is entirely inside `outer`. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContainsIp(outer, inner.address);
}

/** Validates a MAC (six colon-separated hex pairs, any case) and returns it lower-cased. */
export function normalizeMac(text: string): string | undefined {
  if (text.length !== 17) return undefined;
  for (let i = 0; i < 17; i++) {
    const c = text.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return undefined;
    } else if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) {
      return undefined;
    }
  }
  return text.toLowerCase();
}

/** Parses an unsigned decimal integer made only of digits (at most 10); `undefined` otherwise. */
export function parseUint(text: string): number | undefined {
  if (text.length === 0 || text.length > 10) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Parses a decimal integer with an optional sign (`-1`, `+5`); `undefined` otherwise. */
export function parseInteger(text: string): number | undefined {
  const c = text.charCodeAt(0);
  if (c === 45 || c === 43) {
    const n = parseUint(text.slice(1));
    return n === undefined ? undefined : c === 45 ? -n : n;
  }
  return parseUint(text);
}
