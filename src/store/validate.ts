/**
 * Field validation against the spec table of fields.ts. `normalizeObject`
 * builds a fresh object from client input (copying only known fields) whose nested values are
 * deeply frozen, or throws an `InvalidFieldError` naming `kind/id` and the field.
 *
 * Sharing: a nested list or object of the input that is already frozen, plain (an array or an
 * object of Object.prototype) and valid as it is, is kept, not copied: nobody can change it
 * any more, so the store and whoever made it (the mapping's desired objects, handed over
 * frozen by the reconciler) hold one copy. Anything else (JSON from the API, unfrozen input)
 * is copied and frozen, so a caller's later change never reaches the store.
 *
 * Adoption: a bulk create keeps a whole object the writer handed over (`handOver`) as the
 * stored object itself, when it is already exactly what validation makes of it: the store
 * then only writes `version` and its back-reference lists and freezes it (one copy instead of
 * two for the store and the mapping's desired topology). Slots: a handed-over object may hold
 * `version` (a number) and, for a kind with back-references, must hold every back-reference
 * field as `BACK_REFERENCE_SLOT`; the store writes into those fields in place, so adopting the
 * object reshapes nothing (adding a field to an object literal reallocates its property
 * storage). Without them an object of a kind with back-references is copied, and `version`
 * is added (docs/store.md, "Slots").
 */
import { InvalidFieldError } from './errors.js';
import { FIELDS, type Fields, type Spec } from './fields.js';
import { isIdString, isIpv4String, keepsByField, type Keeps } from './keeps.js';
import { BACK_REFERENCE_FIELDS, type Kind } from './types.js';

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const MAC_DOTTED = /^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4}){2}$/;

/** True for a dotted-quad IPv4 address. */
export function isIpv4(s: unknown): s is string {
  return typeof s === 'string' && isIpv4String(s);
}

/** True for an id the store accepts: 1–128 characters of `[A-Za-z0-9._:-]` (UUIDs fit). */
export function isValidId(s: unknown): s is string {
  return typeof s === 'string' && isIdString(s);
}

class FieldProblem extends Error {}

function checkScalar(spec: Spec, v: unknown): unknown {
  switch (spec.t) {
    case 'str':
      if (typeof v !== 'string') throw new FieldProblem('must be a string');
      return v;
    case 'ref':
      if (!isValidId(v)) throw new FieldProblem('must be an id (1-128 chars of A-Za-z0-9._:-)');
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new FieldProblem('must be a boolean');
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < spec.min! || v > spec.max!) {
        throw new FieldProblem(`must be an integer in ${spec.min}..${spec.max}`);
      }
      return v;
    case 'ipv4':
      if (!isIpv4(v)) throw new FieldProblem('must be an IPv4 address');
      return v;
    case 'mac':
      if (typeof v !== 'string' || !MAC.test(v)) throw new FieldProblem('must be a MAC address');
      return v.toLowerCase();
    case 'macmask':
      if (typeof v !== 'string' || !(MAC.test(v) || MAC_DOTTED.test(v))) {
        throw new FieldProblem('must be a MAC mask (aa:bb:cc:dd:ee:ff or ffff.ffff.ffff)');
      }
      return v.toLowerCase();
    case 'enum':
      if (typeof v !== 'string' || !spec.values!.includes(v)) {
        throw new FieldProblem(`must be one of ${spec.values!.join(', ')}`);
      }
      return v;
    default:
      throw new FieldProblem('bad spec');
  }
}

/** What validation makes of value `v` of a field of spec `spec` (`path` names it in the error);
 * throws the field's problem. Exported for the quick checks' tests (keeps.test.ts). */
export function checkValue(spec: Spec, v: unknown, path: string): unknown {
  if (spec.t === 'list') {
    if (!Array.isArray(v)) throw new FieldProblem(`${path} must be a list`);
    // kept as it is while every element checks as itself (see the header); copied otherwise
    let out: unknown[] | undefined = isSharable(v, Array.prototype) ? undefined : [];
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      const c = checkValue(spec.of!, e, `${path}[${i}]`);
      if (out !== undefined) out.push(c);
      else if (c !== e) (out = v.slice(0, i)).push(c);
    }
    return out === undefined ? v : Object.freeze(out);
  }
  if (spec.t === 'obj') {
    const out = checkFields(spec.fields!, v, path, false);
    return isSharable(v as object, Object.prototype) &&
      sameFields(v as Record<string, unknown>, out)
      ? v
      : out;
  }
  try {
    return checkScalar(spec, v);
  } catch (e) {
    if (e instanceof FieldProblem) throw new FieldProblem(`${path} ${e.message}`);
    throw e;
  }
}

/** Frozen, with the plain prototype `proto`: a value the store can keep instead of a copy. */
function isSharable(v: object, proto: object): boolean {
  return Object.isFrozen(v) && Object.getPrototypeOf(v) === proto;
}

/** Whether `checked` (what validation made of `input`) has exactly `input`'s own fields, as
 * data properties with the same values. */
function sameFields(input: Record<string, unknown>, checked: Record<string, unknown>): boolean {
  const names = Object.keys(input);
  if (names.length !== Object.keys(checked).length) return false;
  for (const n of names) {
    const d = Object.getOwnPropertyDescriptor(input, n);
    if (d === undefined || !('value' in d) || d.value !== checked[n]) return false;
  }
  return true;
}

interface Compiled {
  readonly required: readonly string[];
  readonly defaults: readonly (readonly [string, unknown])[];
}
const compiled = new WeakMap<Fields, Compiled>();

function compile(fields: Fields): Compiled {
  let c = compiled.get(fields);
  if (!c) {
    const names = Object.keys(fields);
    c = {
      required: names.filter((n) => fields[n]!.req && fields[n]!.def === undefined),
      defaults: names
        .filter((n) => fields[n]!.def !== undefined)
        .map((n) => [n, fields[n]!.def] as const),
    };
    compiled.set(fields, c);
  }
  return c;
}

/** Copies and checks the fields present in the input (in input order), then applies required
 * and default fields: work is proportional to the fields given, not to the kind's field count. */
function checkFields(
  fields: Fields,
  v: unknown,
  path: string,
  topLevel: boolean,
  ignore?: ReadonlySet<string>,
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new FieldProblem(`${path || 'object'} must be an object`);
  }
  const input = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const name in input) {
    const value = input[name];
    if (value === undefined || value === null) continue;
    const spec = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (spec === undefined) {
      if (topLevel && (name === 'version' || ignore?.has(name))) continue;
      throw new FieldProblem(`${path ? `${path}.${name}` : name} is not a field`);
    }
    out[name] = checkValue(spec, value, path ? `${path}.${name}` : name);
  }
  const c = compile(fields);
  for (const name of c.required) {
    if (out[name] === undefined)
      throw new FieldProblem(`${path ? `${path}.${name}` : name} is required`);
  }
  for (const [name, d] of c.defaults) if (out[name] === undefined) out[name] = d;
  return topLevel ? out : Object.freeze(out);
}

/** Objects their writer gave to the store (see `handOver`). */
const handedOver = new WeakSet<object>();

/**
 * Hands `object` (the object of a create op) over to the store: its writer promises never to
 * change it again. A bulk create may then keep this very object as the stored one, writing
 * `version` and its back-reference lists and freezing it, when it is plain, extensible,
 * already exactly what validation makes of it (every field valid as it is, nested values
 * frozen and kept, no default to add) and holds every back-reference field of its kind as
 * `BACK_REFERENCE_SLOT` (a `version` field holding a number is written in place, else added);
 * otherwise it is copied as usual. The reconciler hands over its desired objects
 * (reconciler/share.ts); API input is never handed over.
 */
export function handOver(object: object): void {
  handedOver.add(object);
}

/** Lists of create ops whose every object was handed over at once (see `handOverBatch`). */
const handedOverBatches = new WeakSet<object>();

/**
 * Hands over the object of every create op in `ops` (see `handOver`) in one step: a bulk
 * create given this very list treats each of its objects as handed over, without an entry per
 * object (at 416,742 objects the weak set's entries cost more than the checks they save).
 */
export function handOverBatch(ops: readonly { readonly op: string }[]): void {
  handedOverBatches.add(ops);
}

/** Whether `ops` was handed over whole (`handOverBatch`). */
export function isHandedOverBatch(ops: readonly object[]): boolean {
  return handedOverBatches.has(ops);
}

const BACK_FIELD_SETS = new Map<Kind, ReadonlySet<string>>(
  Object.entries(BACK_REFERENCE_FIELDS).map(([k, v]) => [k as Kind, new Set<string>(v)]),
);

/**
 * The placeholder of a back-reference field in an object handed over to a bulk create (see
 * `handOver` and docs/store.md, "Slots"): a frozen empty list, the very
 * value the store keeps for an empty back-reference list. A handed-over object whose every
 * back-reference field holds it (and which is otherwise kept as it is) is adopted, the store
 * writing its lists into those fields in place.
 */
export const BACK_REFERENCE_SLOT: readonly string[] = Object.freeze([]);

/** Per kind, its back-reference fields as a list (in `BACK_REFERENCE_FIELDS` order). */
const BACK_FIELD_LISTS = new Map<Kind, readonly string[]>(
  Object.entries(BACK_REFERENCE_FIELDS).map(([k, v]) => [k as Kind, v as readonly string[]]),
);

/** Whether `kind` is a kind this store knows. */
export function isKind(kind: unknown): kind is Kind {
  return typeof kind === 'string' && BACK_FIELD_SETS.has(kind as Kind);
}

/**
 * Validates client input for `kind` and returns a new object holding only writable fields
 * (defaults applied, MACs lower-cased; nested values frozen, the object itself not yet, so the
 * store can add its own fields). Back-reference fields and `version` in the input are ignored.
 * Throws `InvalidFieldError` naming `kind/id` and the field. With `adopt` (the bulk-create
 * engine, which changes nothing of a new object but its slots: `version`, back-references),
 * an object handed over that validation would not change and whose back-reference fields
 * are all `BACK_REFERENCE_SLOT` is returned itself; `'batch'` when the caller's list of ops was
 * handed over whole (`handOverBatch`). With `adopt`, a quick copy keeps the input's `version`
 * and back-reference fields (the engine overwrites them), in the input's order.
 * `first`: fields a copy starts with, before the input's (the bulk engine's empty
 * back-reference lists), unless the input holds every back-reference field; an object
 * validation does not copy, or copies the careful way (input that is not plain, or holds a
 * field that is not writable), does not get them.
 */
export function normalizeObject(
  kind: Kind,
  input: unknown,
  adopt: boolean | 'batch' = false,
  first?: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  try {
    if (adopt !== false && keepsAsIs(kind, input, adopt === 'batch'))
      return input as Record<string, unknown>;
    const out =
      sharedCopy(FIELDS[kind], input, first, adopt !== false ? kind : undefined) ??
      checkFields(FIELDS[kind], input, '', true, BACK_FIELD_SETS.get(kind));
    checkKind(kind, out);
    return out;
  } catch (e) {
    if (e instanceof FieldProblem) {
      const rawId = (input as { id?: unknown } | null)?.id;
      const label = `${kind}/${typeof rawId === 'string' ? rawId : '?'}`;
      throw new InvalidFieldError(`invalid ${label}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/**
 * The quick way for input that is already what the store keeps (the reconciler's desired
 * objects: plain, only writable fields, nested values frozen): one shallow copy, every field
 * checked on the copy (so a getter of the input is read once), a value replaced only where
 * checking changes it. Returns undefined, having checked nothing for sure, when the input
 * needs the careful way (`checkFields`): not a plain object, or a field that is unknown,
 * ignored, undefined or null. A bad value throws the `FieldProblem` `checkFields` would.
 */
function sharedCopy(
  fields: Fields,
  input: unknown,
  first: Readonly<Record<string, unknown>> | undefined,
  bulkKind: Kind | undefined,
): Record<string, unknown> | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== OBJECT)
    return undefined;
  // fields that come first are copied first too: V8 adds fields to a copy far faster (a
  // known shape) than it adds them to an object made by copying another; an input that holds
  // every back-reference field already (slots) is copied in its own order, the order its
  // adoption would keep
  const out: Record<string, unknown> =
    first === undefined || (bulkKind !== undefined && holdsBackFields(bulkKind, input))
      ? { ...input }
      : { ...first, ...input };
  const keeps = KEEPS.get(fields)!;
  for (const name in input) {
    const value = out[name];
    const k = keeps[name];
    // a bulk create's slots: `version` and back-references, whose values it ignores (as
    // `checkFields` does) and overwrites in place
    if (k === undefined && bulkKind !== undefined && isSlot(bulkKind, name)) continue;
    if (k === undefined || value === undefined || value === null) return undefined;
    if (k(value)) continue;
    const checked = checkValue(fields[name]!, value, name);
    if (checked !== value) out[name] = checked;
  }
  const c = compile(fields);
  for (let i = 0; i < c.required.length; i++) {
    const name = c.required[i]!;
    if (out[name] === undefined) throw new FieldProblem(`${name} is required`);
  }
  for (let i = 0; i < c.defaults.length; i++) {
    const [name, d] = c.defaults[i]!;
    if (out[name] === undefined) out[name] = d;
  }
  return out;
}

const OBJECT = Object.prototype;

/** Per kind's fields, the quick checks of its fields (keeps.ts). */
const KEEPS = new Map<Fields, Readonly<Record<string, Keeps>>>(
  Object.values(FIELDS).map((f) => [f, keepsByField(f)]),
);
/** `Object.prototype.__lookupGetter__` (not in TypeScript's lib): the getter of a property, or
 * undefined for a data property (or a property with only a setter, whose value reads as
 * undefined and is refused as such). */
const lookupGetter = (
  OBJECT as unknown as { __lookupGetter__: (this: object, name: string) => unknown }
).__lookupGetter__;

/**
 * Whether `input` can be kept as the stored object (see `handOver`), checked on the input
 * itself without making a copy (the only test of adoption): handed over, plain, extensible,
 * every field a data property whose value validation keeps as it is or a writable slot
 * (`version`, a back-reference field holding `BACK_REFERENCE_SLOT`, every one of them
 * present), no default to add. False sends the input the copying way (which then gives an object of other fields or values, or
 * the error); a bad value throws the `FieldProblem` `checkFields` would.
 */
function keepsAsIs(kind: Kind, input: unknown, batch: boolean): boolean {
  if (
    typeof input !== 'object' ||
    input === null ||
    !(batch || handedOver.has(input)) ||
    !Object.isExtensible(input) ||
    Object.getPrototypeOf(input) !== OBJECT
  )
    return false;
  const info = INFO.get(kind)!;
  const keeps = info.keeps;
  const o = input as Record<string, unknown>;
  let backSlots = 0;
  for (const name in o) {
    // an own data property (its getter looked up without allocating a descriptor: a cold
    // build checks 2 million fields)
    if (!Object.hasOwn(o, name) || lookupGetter.call(o, name) !== undefined) return false;
    const value: unknown = o[name];
    const k = keeps[name];
    if (k === undefined) {
      // a slot the store writes in place: `version` holding a number, a back-reference field
      // holding the placeholder
      if (name === 'version') {
        if (typeof value !== 'number' || !isWritableSlot(o, name)) return false;
      } else if (value !== BACK_REFERENCE_SLOT || !info.backs[name] || !isWritableSlot(o, name))
        return false;
      else backSlots++;
      continue;
    }
    if (value === undefined || value === null) return false;
    // the quick check, else the full one (its error, or a value it would change)
    if (!k(value) && checkValue(info.fields[name]!, value, name) !== value) return false;
  }
  const required = info.required;
  for (let i = 0; i < required.length; i++) {
    const name = required[i]!;
    if (o[name] === undefined) throw new FieldProblem(`${name} is required`);
  }
  const defaults = info.defaults;
  for (let i = 0; i < defaults.length; i++) if (o[defaults[i]![0]] === undefined) return false;
  // every back-reference field is a slot (none to add: that would reshape the object); a
  // `version` slot holds a number (so it is no accessor: a getter was refused above, a
  // property with only a setter reads as undefined)
  if (backSlots !== info.backCount) return false;
  checkKind(kind, o);
  return true;
}

/** What `keepsAsIs` needs of a kind, found with one lookup. */
interface KindInfo {
  readonly fields: Fields;
  readonly keeps: Readonly<Record<string, Keeps>>;
  readonly required: readonly string[];
  readonly defaults: readonly (readonly [string, unknown])[];
  /** The back-reference fields (no prototype). */
  readonly backs: Readonly<Record<string, true>>;
  readonly backCount: number;
}

const INFO = new Map<Kind, KindInfo>(
  [...BACK_FIELD_LISTS].map(([kind, backs]) => {
    const fields = FIELDS[kind];
    const c = compile(fields);
    const set = Object.create(null) as Record<string, true>;
    for (const b of backs) set[b] = true;
    const info: KindInfo = {
      fields,
      keeps: KEEPS.get(fields)!,
      required: c.required,
      defaults: c.defaults,
      backs: set,
      backCount: backs.length,
    };
    return [kind, info];
  }),
);

/** Whether own data property `name` of `o` is writable (a store of its own value is refused
 * otherwise). */
function isWritableSlot(o: Record<string, unknown>, name: string): boolean {
  try {
    o[name] = o[name]; // the same value: changes nothing, throws when read-only
    return true;
  } catch {
    return false;
  }
}

/** Whether `input` has an own property for every back-reference field of `kind`. */
function holdsBackFields(kind: Kind, input: object): boolean {
  const backs = BACK_FIELD_LISTS.get(kind)!;
  for (let i = 0; i < backs.length; i++) if (!Object.hasOwn(input, backs[i]!)) return false;
  return true;
}

/** Whether `name` is a field a bulk create fills in itself: `version`, a back-reference. */
function isSlot(kind: Kind, name: string): boolean {
  return name === 'version' || BACK_FIELD_SETS.get(kind)!.has(name);
}

const NAT_TYPES = new Set(['dnat', 'snat']);
const RANGES = ['tpSrc', 'tpDst'] as const;

/** Cross-field rules of a kind. */
function checkKind(kind: Kind, o: Readonly<Record<string, unknown>>): void {
  if (kind === 'port') {
    if (o['type'] === 'Router' && (o['routerId'] === undefined || o['bridgeId'] !== undefined)) {
      throw new FieldProblem('routerId is required (and bridgeId not allowed) on a Router port');
    }
    if (o['type'] === 'Bridge' && (o['bridgeId'] === undefined || o['routerId'] !== undefined)) {
      throw new FieldProblem('bridgeId is required (and routerId not allowed) on a Bridge port');
    }
    if (o['peerId'] !== undefined && o['peerId'] === o['id']) {
      throw new FieldProblem('peerId cannot name the port itself');
    }
  } else if (kind === 'rule') {
    const type = o['type'] as string;
    if (type === 'jump' && o['jumpChainId'] === undefined) {
      throw new FieldProblem('jumpChainId is required on a jump rule');
    }
    if (type !== 'jump' && o['jumpChainId'] !== undefined) {
      throw new FieldProblem('jumpChainId is only allowed on a jump rule');
    }
    const targets = o['natTargets'] as readonly unknown[] | undefined;
    if (NAT_TYPES.has(type) && (targets === undefined || targets.length === 0)) {
      throw new FieldProblem(`natTargets is required on a ${type} rule`);
    }
    if (!NAT_TYPES.has(type) && targets !== undefined && targets.length > 0) {
      throw new FieldProblem(`natTargets is not allowed on a ${type} rule`);
    }
    for (let i = 0; i < RANGES.length; i++) {
      const r = RANGES[i]!;
      const range = o[r] as { start: number; end: number } | undefined;
      if (range && range.start > range.end) throw new FieldProblem(`${r}.start must be <= end`);
    }
  } else if (kind === 'route') {
    if (o['type'] === 'Normal' && o['nextHopPort'] === undefined) {
      throw new FieldProblem('nextHopPort is required on a Normal route');
    }
  }
}
