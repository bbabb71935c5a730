/**
 * Turns a parsed JSON GNI document (§15) into the plain form the XML scanner produces:
 * scalars become trimmed strings, lists become arrays, unknown keys are reported and dropped.
 * After this step an XML document and its JSON form are indistinguishable.
 */
import { DOCUMENT_PATH, type IssueSink } from './issues.js';
import { ROOT, ROOT_NAME, type ObjSchema, type Plain } from './schema.js';
import type { ItemHook } from './xml-scanner.js';

/** Deepest object nesting followed (the schema itself needs about 8). */
const MAX_DEPTH = 64;

function isObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Normalizer {
  constructor(
    private readonly issues: IssueSink,
    private readonly onItem: ItemHook | undefined,
  ) {}

  scalar(v: unknown, path: string): string | undefined {
    if (typeof v === 'string') return v.trim();
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'boolean') return String(v);
    if (v !== null && v !== undefined) {
      this.issues.warn(
        path,
        'wrong-type',
        `expected a string or number, found ${kindOf(v)}; ignored`,
      );
    }
    return undefined;
  }

  scalars(v: unknown, path: string): string[] {
    const list = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    const out: string[] = [];
    for (let i = 0; i < list.length; i++) {
      const s = this.scalar(list[i], `${path}[${i}]`);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  objects(v: unknown, schema: ObjSchema, path: string, depth: number): Plain[] {
    const list = Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
    const out: Plain[] = [];
    for (let i = 0; i < list.length; i++) {
      const o = this.object(list[i], schema, `${path}[${i}]`, depth);
      if (o !== undefined) out.push(o);
    }
    return out;
  }

  object(v: unknown, schema: ObjSchema, path: string, depth: number): Plain | undefined {
    if (v === null || v === undefined) return undefined;
    if (!isObject(v)) {
      this.issues.warn(path, 'wrong-type', `expected an object, found ${kindOf(v)}; ignored`);
      return undefined;
    }
    if (depth > MAX_DEPTH) {
      this.issues.error(
        DOCUMENT_PATH,
        'too-deep',
        `objects nested deeper than ${MAX_DEPTH} levels`,
      );
      throw new TooDeep();
    }
    const out: Plain = {};
    for (const key of Object.keys(v)) {
      const value = v[key];
      const at = `${path}/${key}`;
      if (schema.attrs.has(key)) {
        const s = this.scalar(value, at);
        if (s !== undefined) out[key] = s;
        continue;
      }
      const spec = schema.children.get(key);
      if (spec === undefined) {
        this.issues.warn(
          at,
          'unknown-key',
          `unknown key ${JSON.stringify(key.slice(0, 64))} ignored`,
        );
        continue;
      }
      switch (spec.k) {
        case 'scalar': {
          const s = this.scalar(value, at);
          if (s !== undefined) out[key] = s;
          break;
        }
        case 'scalarList':
        case 'values':
          out[key] = this.scalars(value, at);
          break;
        case 'obj': {
          const o = this.object(value, spec.schema, at, depth + 1);
          if (o !== undefined) out[key] = o;
          break;
        }
        case 'objList':
          out[key] = this.objects(value, spec.schema, at, depth + 1);
          break;
        case 'wrapper': {
          const items: unknown[] = this.objects(value, spec.schema, at, depth + 1);
          const hook = this.onItem;
          if (depth === 0 && hook !== undefined) {
            for (let i = 0; i < items.length; i++) items[i] = hook(key, items[i] as Plain, i);
          }
          out[key] = items;
          break;
        }
        case 'ignore':
          break;
      }
    }
    return out;
  }
}

class TooDeep {}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

/**
 * Parses JSON text and normalizes it. Returns `undefined` after adding a document-level
 * error if the text is not JSON or not a GNI object.
 */
export function readJson(text: string, issues: IssueSink, onItem?: ItemHook): Plain | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // JSON.parse reports syntax errors (and RangeError on absurd nesting): both are input.
    const detail = e instanceof Error ? e.message : String(e);
    issues.error(DOCUMENT_PATH, 'invalid-json', `not valid JSON: ${detail.slice(0, 200)}`);
    return undefined;
  }
  if (isObject(parsed) && Object.keys(parsed).length === 1 && isObject(parsed[ROOT_NAME])) {
    parsed = parsed[ROOT_NAME];
  }
  if (!isObject(parsed)) {
    issues.error(
      DOCUMENT_PATH,
      'wrong-root',
      `expected a JSON object for ${ROOT_NAME}, found ${kindOf(parsed)}`,
    );
    return undefined;
  }
  try {
    return new Normalizer(issues, onItem).object(parsed, ROOT, ROOT_NAME, 0);
  } catch (e) {
    if (e instanceof TooDeep) return undefined; // already reported
    throw e;
  }
}
