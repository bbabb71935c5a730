/**
 * Shared state and field readers of the view builder: every reader turns a plain-form value
 * into a typed one, reporting a malformed value as an entity-level error (the entity goes into
 * `invalid`) or, for the §11 requirements, as a document-level rejection.
 */
import type { IssueSink } from './issues.js';
import { normalizeMac, parseCidr, parseInteger, parseIpv4, type Cidr } from './net.js';
import type { Plain } from './schema.js';
import type { Lookups } from './references.js';

/** Removes `readonly` so the builder can fill objects before handing them out. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Quotes a value for a message, shortened so hostile values cannot bloat the issue list. */
export function quote(v: string): string {
  return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
}

/** The builder's state: issues, the invalid set and whether the document is rejected. */
export class BuildContext {
  rejected = false;
  readonly invalid = new Set<string>();
  /** The lookups of the whole-view check, once `finishView` ran it (see `buildCheckState`). */
  lookups: Lookups | undefined;

  constructor(readonly issues: IssueSink) {}

  /** A document-level error (§11): the document is rejected. */
  reject(path: string, code: string, message: string): void {
    this.rejected = true;
    this.issues.error(path, code, message);
  }

  /** An entity-level error: `key` becomes invalid. */
  bad(key: string, path: string, code: string, message: string): void {
    this.invalid.add(key);
    this.issues.error(path, code, message);
  }

  warn(path: string, code: string, message: string): void {
    this.issues.warn(path, code, message);
  }

  /** A required scalar (§11): missing or empty rejects the document. */
  required(o: Plain, field: string, path: string, what: string): string | undefined {
    const v = str(o, field);
    if (v === undefined)
      this.reject(`${path}/${field}`, 'missing-required', `${what} has no ${field}`);
    return v;
  }

  /** An optional IPv4 field; malformed marks `key` invalid. */
  ip(key: string, o: Plain, field: string, path: string): string | undefined {
    const v = str(o, field);
    if (v !== undefined && parseIpv4(v) === undefined) {
      this.bad(
        key,
        `${path}/${field}`,
        'invalid-ip',
        `${field} ${quote(v)} is not an IPv4 address`,
      );
    }
    return v;
  }

  /** An IPv4 field that §11 requires to be present and non-zero. */
  requiredIp(key: string, o: Plain, field: string, path: string, what: string): string | undefined {
    const v = this.required(o, field, path, what);
    if (v === '0.0.0.0')
      this.reject(`${path}/${field}`, 'missing-required', `${what} has ${field} 0.0.0.0`);
    else if (v !== undefined) this.ip(key, o, field, path);
    return v;
  }

  /** An optional CIDR field; malformed marks `key` invalid. Returns the text and the parse. */
  cidr(key: string, o: Plain, field: string, path: string): [string | undefined, Cidr | undefined] {
    const v = str(o, field);
    if (v === undefined) return [undefined, undefined];
    const parsed = parseCidr(v);
    if (parsed === undefined) {
      this.bad(
        key,
        `${path}/${field}`,
        'invalid-cidr',
        `${field} ${quote(v)} is not a CIDR block (a.b.c.d/n)`,
      );
    }
    return [v, parsed];
  }

  /** An optional MAC field, lower-cased; malformed marks `key` invalid and yields the raw text. */
  mac(key: string, o: Plain, field: string, path: string): string | undefined {
    const v = str(o, field);
    if (v === undefined) return undefined;
    const m = normalizeMac(v);
    if (m === undefined) {
      this.bad(key, `${path}/${field}`, 'invalid-mac', `${field} ${quote(v)} is not a MAC address`);
      return v;
    }
    return m;
  }

  /** An optional integer within [min, max]; malformed marks `key` invalid. */
  int(
    key: string,
    o: Plain,
    field: string,
    path: string,
    min: number,
    max: number,
  ): number | undefined {
    const v = str(o, field);
    if (v === undefined) return undefined;
    const n = parseInteger(v);
    if (n === undefined || n < min || n > max) {
      this.bad(
        key,
        `${path}/${field}`,
        'invalid-integer',
        `${field} ${quote(v)} is not an integer in ${min}..${max}`,
      );
      return undefined;
    }
    return n;
  }
}

/** A non-empty string field of a plain object (empty = absent). */
export function str(o: Plain, field: string): string | undefined {
  const v = o[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A list of strings (absent = empty), keeping empty entries for the caller to judge. */
export function strList(o: Plain, field: string): string[] {
  const v = o[field];
  return Array.isArray(v) ? (v as string[]) : [];
}

/** A list of plain objects (absent = empty). */
export function objList(o: Plain, field: string): Plain[] {
  const v = o[field];
  return Array.isArray(v) ? (v as Plain[]) : [];
}

/** A nested plain object, if present. */
export function objOf(o: Plain, field: string): Plain | undefined {
  const v = o[field];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Plain) : undefined;
}

/** The `property` children of an object as [name, property] pairs; later names win. */
export function propertyMap(o: Plain, ctx: BuildContext, path: string): Map<string, Plain> {
  const map = new Map<string, Plain>();
  for (const p of objList(o, 'property')) {
    const name = str(p, 'name');
    if (name === undefined) {
      ctx.warn(`${path}/property`, 'missing-name', 'property without a name ignored');
      continue;
    }
    if (map.has(name))
      ctx.warn(
        `${path}/${name}`,
        'duplicate-property',
        `property ${name} appears more than once; the last one wins`,
      );
    map.set(name, p);
  }
  return map;
}

/** The non-empty values of a property. */
export function values(p: Plain | undefined): string[] {
  if (p === undefined) return [];
  return strList(p, 'value').filter((v) => v !== '');
}
