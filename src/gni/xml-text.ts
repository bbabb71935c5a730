/**
 * Text-level pieces of the XML scanner: the `Fatal` signal that stops a scan, positions for
 * messages and the decoding of the five predefined entities and numeric character references
 * (no other entity is ever expanded).
 */

/** Thrown inside the scanner to stop at a fatal problem; caught in `scanXml`. */
export class Fatal {
  constructor(
    readonly code: string,
    readonly message: string,
    readonly pos: number,
  ) {}
}

/** Line and column (1-based) of a character offset, for messages. */
export function lineColumn(s: string, pos: number): string {
  let line = 1;
  let last = -1;
  for (let i = s.indexOf('\n'); i >= 0 && i < pos; i = s.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return `line ${line}, column ${pos - last}`;
}

const PREDEFINED: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** Decodes the predefined entities and character references; `undefined` on any other `&`. */
export function decodeEntities(text: string): string | undefined {
  let out = '';
  let from = 0;
  for (let amp = text.indexOf('&'); amp >= 0; amp = text.indexOf('&', from)) {
    const semi = text.indexOf(';', amp + 1);
    if (semi < 0 || semi - amp > 12) return undefined;
    const ref = text.slice(amp + 1, semi);
    let decoded: string | undefined;
    if (ref.charCodeAt(0) === 35) {
      const hex = ref.charCodeAt(1) === 120;
      const digits = ref.slice(hex ? 2 : 1);
      const valid = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits);
      const cp = valid ? parseInt(digits, hex ? 16 : 10) : NaN;
      const allowed =
        cp === 9 ||
        cp === 10 ||
        cp === 13 ||
        (cp >= 32 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff));
      if (!allowed) return undefined;
      decoded = String.fromCodePoint(cp);
    } else {
      decoded = Object.hasOwn(PREDEFINED, ref) ? PREDEFINED[ref] : undefined;
    }
    if (decoded === undefined) return undefined;
    out += text.slice(from, amp) + decoded;
    from = semi + 1;
  }
  return out + text.slice(from);
}
