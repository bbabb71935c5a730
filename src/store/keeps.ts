/**
 * Quick checks of "validation keeps this value as it is", compiled once per field spec: for a
 * field of spec `s`, `keeps(v)` is true only when validate.ts's `checkValue(s, v)` would
 * return `v` itself without a problem. False says nothing more: the caller then runs the full
 * check, which throws the field's error or returns what validation makes of the value. A cold
 * build checks about two million fields (mostly ids, addresses and small integers that are
 * already what the store keeps); a closure per spec with no switch on the spec's type, a table
 * instead of a regular expression for ids and addresses, and the last id or address checked
 * remembered (a chain's rules name the same chain, a router's routes the same router) make
 * that check several times cheaper than the general one.
 */
import type { Fields, Spec } from './fields.js';

/** Whether a value is kept as it is (see the header). */
export type Keeps = (v: unknown) => boolean;

/** Character classes of ids: 1 = may start an id, 2 = may follow ([A-Za-z0-9._:-]). */
const ID_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch)) ID_CHARS[c] = 3;
  else if (/[._:-]/.test(ch)) ID_CHARS[c] = 2;
}

/** The store's id rule (`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`) without a regular expression. */
export function isIdString(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 128) return false;
  const first = s.charCodeAt(0);
  if (first >= 128 || (ID_CHARS[first]! & 1) === 0) return false;
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ID_CHARS[c] === 0) return false;
  }
  return true;
}

/** The store's IPv4 rule (four decimal parts 0-255 without leading zeros, joined by dots:
 * `(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)` four times) without a regular expression. */
export function isIpv4String(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let i = 0;
  while (true) {
    const start = i;
    let value = 0;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      value = value * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || value > 255) return false;
    if (digits > 1 && s.charCodeAt(start) === 48) return false; // a leading zero
    parts++;
    if (i === n) return parts === 4;
    if (parts === 4 || s.charCodeAt(i) !== 46) return false; // '.'
    i++;
  }
}

const LOWER_MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const LOWER_MAC_DOTTED = /^[0-9a-f]{4}(\.[0-9a-f]{4}){2}$/;

/** A check that remembers the last string it accepted. */
function remembering(test: (s: string) => boolean): Keeps {
  let last = '';
  return (v) => {
    if (v === last) return last !== '';
    if (typeof v !== 'string' || !test(v)) return false;
    last = v;
    return true;
  };
}

/** The quick check of values of spec `spec` (see the header): a new one per field, so that
 * what it remembers is that field's last value. */
export function keepsOf(spec: Spec): Keeps {
  switch (spec.t) {
    case 'str':
      return (v) => typeof v === 'string';
    case 'bool':
      return (v) => typeof v === 'boolean';
    case 'ref':
      return remembering(isIdString);
    case 'ipv4':
      return remembering(isIpv4String);
    case 'int': {
      const min = spec.min!;
      const max = spec.max!;
      return (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
    }
    case 'mac':
      // a MAC is kept when it is lower case already (validation lower-cases it)
      return (v) => typeof v === 'string' && LOWER_MAC.test(v);
    case 'macmask':
      return (v) => typeof v === 'string' && (LOWER_MAC.test(v) || LOWER_MAC_DOTTED.test(v));
    case 'enum': {
      const values = new Set<unknown>(spec.values);
      return (v) => values.has(v);
    }
    case 'list': {
      const of = keepsOf(spec.of!);
      // a list is kept when frozen, a plain array, and every element kept; frozen, it stays
      // kept: the last one accepted is remembered (many objects share a list: a default `[]`,
      // a subnet's DNS servers)
      let last: unknown = NOTHING;
      return (v) => {
        if (v === last) return true;
        if (!Array.isArray(v) || !Object.isFrozen(v) || Object.getPrototypeOf(v) !== ARRAY)
          return false;
        for (let i = 0; i < v.length; i++) if (!of(v[i])) return false;
        last = v;
        return true;
      };
    }
    case 'obj': {
      // frozen, a nested object accepted stays kept (as a list, above)
      const keeps = keepsObject(spec.fields!);
      let last: unknown = NOTHING;
      return (v) => {
        if (v === last) return true;
        if (!keeps(v)) return false;
        last = v;
        return true;
      };
    }
    default:
      return () => false;
  }
}

/** `Object.prototype.__lookupGetter__` (see validate.ts). */
const lookupGetter = (
  Object.prototype as unknown as { __lookupGetter__: (this: object, name: string) => unknown }
).__lookupGetter__;

/**
 * A nested object is kept when frozen, plain, every field an own data property of a known name
 * whose value is kept, no required field missing and no default to add: then the full check
 * (`checkFields`) makes an object of the same fields and values, and keeps the input.
 */
function keepsObject(fields: Fields): Keeps {
  const keeps = keepsByField(fields);
  const names = Object.keys(fields);
  const required = names.filter((n) => fields[n]!.req && fields[n]!.def === undefined);
  const defaults = names.filter((n) => fields[n]!.def !== undefined);
  return (v) => {
    if (
      typeof v !== 'object' ||
      v === null ||
      !Object.isFrozen(v) ||
      Object.getPrototypeOf(v) !== Object.prototype
    )
      return false;
    const o = v as Record<string, unknown>;
    for (const name in o) {
      if (!Object.hasOwn(o, name) || lookupGetter.call(o, name) !== undefined) return false;
      const value = o[name];
      const k = keeps[name];
      if (k === undefined || value === undefined || value === null || !k(value)) return false;
    }
    for (let i = 0; i < required.length; i++) if (o[required[i]!] === undefined) return false;
    for (let i = 0; i < defaults.length; i++) if (o[defaults[i]!] === undefined) return false;
    return true;
  };
}

const ARRAY = Array.prototype;

/** What a check remembers before it has accepted anything (equal to no value). */
const NOTHING = Symbol('nothing');

/** Per field name, the quick check of its values (no prototype: an unknown name is
 * undefined). */
export function keepsByField(fields: Fields): Readonly<Record<string, Keeps>> {
  const out = Object.create(null) as Record<string, Keeps>;
  for (const name of Object.keys(fields)) out[name] = keepsOf(fields[name]!);
  return out;
}
