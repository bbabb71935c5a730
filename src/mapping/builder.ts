/**
 * The mutable accumulator every per-kind mapper writes into: one map per kind keyed by id,
 * the issue list and the held owners. Ids come from `derivedId(<key>)`; when a key recorder
 * is given (golden tests), every id is remembered with its key so serialized output can show
 * readable references.
 *
 * Two modes. A full pass fills new maps. A patch pass (`patch` given) edits the maps of the
 * previous result in place: the caller removes the objects of units whose inputs changed or
 * vanished (`remove`), maps those units again, and the builder records what it put and removed
 * per kind (`delta`). Objects that every pass rebuilds (hosts, core, containers: the "base",
 * see `base`) are compared with last pass's and kept when equal; chain rule lists touched by a
 * changed unit are rebuilt from the unit records in mapping order (`rebuildChains`).
 */
import type { Issue } from '../common/index.js';
import { IdDeriver, type IdPrefix } from '../common/index.js';
import { KINDS, type Kind, type WritableOf } from '../store/index.js';
import { sameDesired, sameList } from './same.js';
import { SLOT_FIELDS } from './slots.js';
import type { DesiredOf, DesiredTopology, MappingConfig, TopologyDelta } from './types.js';

export { sameList };

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/** A chain under construction: `ruleIds` grows as rules are added. */
export type DraftChain = DesiredOf<'chain'> & { readonly ruleIds: string[] };

/** The fields of a rule that a mapper chooses (id, chain and owner are filled in). */
export type RuleFields = Mutable<Omit<WritableOf<'rule'>, 'id' | 'chainId' | 'owner'>>;

/** Rule fields that already end with `id`, `chainId` and `owner` (`TBD`, filled in by `rule`)
 * and the store's `version` slot (`version: 0`, slots.ts): a literal written so is the stored
 * rule's final shape, whereas each field added to a literal afterwards moves the four to a
 * separately allocated property list (the hot mappers' rules, most of the ~260,000 at L, are
 * written so). */
export type RuleDraft = RuleFields & {
  id: string;
  chainId: string;
  owner: string;
  version: number;
};

/** The placeholder of `RuleDraft`'s `id`, `chainId` and `owner`. */
export const TBD = '';

/** A shared empty list for list fields that mappers never fill in (saves one allocation per
 * object; desired objects are never mutated once mapping returns). */
export const NONE: readonly never[] = Object.freeze([]);

type DesiredMaps = { [K in Kind]: Map<string, DesiredOf<K>> };
type AnyMap = Map<string, { readonly id: string }>;

/** Kind → its position in KINDS. */
const KIND_INDEX: Readonly<Record<Kind, number>> = Object.fromEntries(
  KINDS.map((k, i) => [k, i]),
) as Record<Kind, number>;
const RULE = KIND_INDEX.rule;
const CHAIN = KIND_INDEX.chain;

/** A chain's name and id. */
export interface ChainRef {
  readonly name: string;
  readonly id: string;
}

/** A hold as recorded in a unit: owner, path, message. */
type HoldNote = readonly [string, string, string];

/** An issue or a hold, as recorded to be replayed in a later pass. */
export type Note = Issue | HoldNote;

/** A base object as kept between passes: kind index and object. */
export type BaseEntry = readonly [number, { readonly id: string }];

/**
 * What one unit of mapping work (one security group, one VPC tree, one interface) did: the
 * objects it put (`objects`: kind index, object, kind index, object, …, rules and chains
 * included), its issues and holds in order (`notes`), and the ids of the chains its rules were
 * appended to (`targets`, its own and other units').
 */
export interface UnitLog {
  readonly objects: unknown[];
  readonly notes: Note[];
  readonly targets: string[];
}

/** Collects desired objects, issues and held owners for one mapping pass. */
export class TopologyBuilder {
  readonly maps: DesiredMaps;
  readonly issues: Issue[] = [];
  readonly held = new Set<string>();
  /** Why each held owner is held (the first reason given). */
  readonly heldReasons = new Map<string, string>();
  /** While true, objects are base objects: rebuilt every pass, not part of any unit. */
  base = false;
  /** The base objects of this pass (kind index, object, …). */
  readonly baseObjects: unknown[] = [];
  /** How many puts met an object with the same id (a patch pass is void when there are any;
   * a full pass with any is not recorded for patching). */
  duplicates = 0;
  /** Set when a unit appended a rule to a base chain (patching then cannot rebuild it). */
  crossBase = false;
  /** Every issue and hold of this pass, in order (to record stretches of them for replay). */
  readonly notes: Note[] = [];
  /** While set, issues and holds are only recorded here (not in the pass's issues and held
   * owners): for indexing an entity whose notes are replayed later in their place. */
  capture: Note[] | undefined;
  private readonly list: AnyMap[];
  private readonly hostIds = new Map<string, string>();
  private readonly ids = new IdDeriver();
  /** The chain `rule` last added to and the id hash state of `rule:<its name>:` (a chain's
   * rules are added one after the other, so one entry hits almost always). */
  private ruleChain: DraftChain | undefined;
  private rulePrefix: IdPrefix | undefined;
  /** `chainRef` results: name prefix → name suffix → name and id. */
  private readonly chainRefs = new Map<string, Map<string, ChainRef>>();
  /** The unit being recorded, if any: scratch lists reused from unit to unit (`objects` is
   * filled up to `logged`, not trimmed), copied to exact size by `end`. Growing a fresh list per
   * unit left two or three outgrown copies of it behind per interface. */
  private log: UnitLog | undefined;
  private readonly scratch: UnitLog = { objects: [], notes: [], targets: [] };
  private logged = 0;
  private readonly baseChains = new WeakSet<object>();
  /** Patch mode: what was put and removed, per kind index, and the chains to rebuild. */
  private readonly patching: boolean;
  private readonly puts: Map<string, unknown>[];
  private readonly removed: Set<string>[];
  private readonly affected = new Set<string>();

  /** A builder for a full pass, or, with `patch`, one that edits these maps in place. */
  constructor(
    readonly config: MappingConfig,
    private readonly keys?: Map<string, string>,
    patch?: DesiredTopology,
  ) {
    const maps = {} as Record<Kind, unknown>;
    for (const k of KINDS) maps[k] = patch === undefined ? new Map() : patch[k];
    this.maps = maps as DesiredMaps;
    this.list = KINDS.map((k) => this.maps[k] as unknown as AnyMap);
    this.patching = patch !== undefined;
    this.puts = this.patching ? KINDS.map(() => new Map()) : [];
    this.removed = this.patching ? KINDS.map(() => new Set()) : [];
  }

  /** Derives the id of the object with this key (and records the key when asked to). */
  id(key: string): string {
    const id = this.ids.derive(key);
    if (this.keys !== undefined) this.keys.set(id, key);
    return id;
  }

  /**
   * Adds an object. A second object with the same id is a duplicate: a warning, `false`, and
   * in a full pass it replaces the first (one hash lookup per insert instead of two: this is
   * the hot path); a patch pass with a duplicate is void.
   */
  put<K extends Kind>(kind: K, obj: DesiredOf<K>): boolean {
    return this.insert(KIND_INDEX[kind], obj as unknown as { readonly id: string });
  }

  private insert(k: number, obj: { readonly id: string; readonly owner?: string }): boolean {
    const log = this.log;
    if (log !== undefined) {
      const o = log.objects;
      o[this.logged++] = k;
      o[this.logged++] = obj;
    }
    if (this.base) {
      this.baseObjects.push(k, obj);
      if (this.patching) return true; // compared with last pass's in `settleBase`
    }
    const map = this.list[k]!;
    const id = obj.id;
    if (this.patching) {
      if (!map.has(id)) {
        map.set(id, obj);
        this.noted(k, id, obj);
        return true;
      }
    } else {
      const size = map.size;
      map.set(id, obj);
      if (map.size !== size) return true;
    }
    this.duplicate(k, id, obj.owner ?? '');
    return false;
  }

  private duplicate(k: number, id: string, owner: string): void {
    this.duplicates++;
    const key = this.keys?.get(id) ?? id;
    this.warn(
      'mapping.duplicate-object',
      owner,
      `duplicate ${KINDS[k]} ${key}: the last one is kept`,
    );
  }

  /** Patch mode: records that `obj` is now the object with this id. */
  private noted(k: number, id: string, obj: unknown): void {
    this.removed[k]!.delete(id);
    this.puts[k]!.set(id, obj);
  }

  /** Creates and adds a named chain with an empty rule list. */
  chain(name: string, owner: string): DraftChain {
    const chain: DraftChain = {
      id: this.chainId(name),
      owner,
      name,
      tenantId: this.config.tenantId,
      metadata: NONE,
      ruleIds: [],
    };
    if (this.base) this.baseChains.add(chain);
    else if (this.patching) this.affected.add(chain.id); // its rules: see `rebuildChains`
    this.insert(CHAIN, chain);
    return chain;
  }

  /** Adds a rule at the end of `chain` with id `rule:<chain name>:<suffix>`; returns its id,
   * or `undefined` when a rule with that key already exists. */
  rule(
    chain: DraftChain,
    suffix: string,
    owner: string,
    fields: RuleFields | RuleDraft,
  ): string | undefined {
    if (chain !== this.ruleChain) {
      this.ruleChain = chain;
      this.rulePrefix = this.ids.prefix(`rule:${chain.name}:`);
    }
    const id = this.ids.deriveAfter(this.rulePrefix!, suffix);
    if (this.keys !== undefined) this.keys.set(id, `rule:${chain.name}:${suffix}`);
    // `fields` is always a fresh literal from the caller: completing it in place (rather than
    // spreading it into a new object) halves the allocations of the hottest path.
    const rule = fields as RuleDraft;
    rule.id = id;
    rule.chainId = chain.id;
    rule.owner = owner;
    rule.version = 0; // the store's slot (already in a draft's literal)
    const log = this.log;
    if (log !== undefined) {
      if (!log.targets.includes(chain.id)) log.targets.push(chain.id);
      if (this.baseChains.has(chain)) this.crossBase = true;
    }
    if (!this.insert(RULE, rule)) return undefined;
    // a patch pass rebuilds the rule lists of unit chains at the end (`rebuildChains`)
    if (this.patching && !this.base) this.affected.add(chain.id);
    else chain.ruleIds.push(id);
    return id;
  }

  /** The id of the host object of a node (cached per node). */
  hostId(name: string): string {
    let id = this.hostIds.get(name);
    if (id === undefined) {
      id = this.id(`host:${name}`);
      this.hostIds.set(name, id);
    }
    return id;
  }

  /** The id of the named chain. */
  chainId(name: string): string {
    return this.id(`chain:${name}`);
  }

  /** The name `<prefix><suffix>` and id of a chain that rules jump to, cached per pass (each
   * interface jumps to its security groups' chains: no name is built twice). */
  chainRef(prefix: string, suffix: string): ChainRef {
    let bySuffix = this.chainRefs.get(prefix);
    if (bySuffix === undefined) {
      bySuffix = new Map();
      this.chainRefs.set(prefix, bySuffix);
    }
    let ref = bySuffix.get(suffix);
    if (ref === undefined) {
      const name = prefix + suffix;
      ref = { name, id: this.chainId(name) };
      bySuffix.set(suffix, ref);
    }
    return ref;
  }

  /** Records a warning about `path`. */
  warn(code: string, path: string, message: string): void {
    this.issue({ path, code, message, severity: 'warning' });
  }

  /** Records an error about `path`. */
  error(code: string, path: string, message: string): void {
    this.issue({ path, code, message, severity: 'error' });
  }

  private issue(issue: Issue): void {
    if (this.capture !== undefined) {
      this.capture.push(issue);
      return;
    }
    this.log?.notes.push(issue);
    this.notes.push(issue);
    this.issues.push(issue);
  }

  /** Holds an owner: the reconciler keeps whatever exists for it; records why. */
  hold(owner: string, path: string, message: string): void {
    const note: HoldNote = [owner, path, message];
    if (this.capture !== undefined) {
      this.capture.push(note);
      return;
    }
    this.log?.notes.push(note);
    this.notes.push(note);
    if (this.held.has(owner)) return;
    this.held.add(owner);
    this.heldReasons.set(owner, message);
    this.issues.push({
      path,
      code: 'mapping.held',
      message: `${owner} held: ${message}`,
      severity: 'warning',
    });
  }

  /** Starts recording a unit (`end` returns its log). Units do not nest. */
  begin(): void {
    const s = this.scratch;
    s.notes.length = 0;
    s.targets.length = 0;
    this.logged = 0;
    this.log = s;
  }

  /** Stops recording and returns what the unit did. */
  end(): UnitLog {
    const s = this.scratch;
    this.log = undefined;
    return {
      objects: s.objects.slice(0, this.logged),
      notes: s.notes.length === 0 ? [] : s.notes.slice(),
      targets: s.targets.slice(),
    };
  }

  /** Records a unit's issues and holds again (its objects are still in the maps). */
  replayNotes(log: UnitLog): void {
    if (log.notes.length > 0) this.replay(log.notes);
  }

  /** Records issues and holds again, in order. */
  replay(notes: readonly Note[]): void {
    for (const note of notes) {
      if (Array.isArray(note)) this.hold(note[0]!, note[1]!, note[2]!);
      else {
        this.notes.push(note as Issue);
        this.issues.push(note as Issue);
      }
    }
  }

  /** Patch mode: takes a unit's objects out of the maps; the chains its rules were appended
   * to get their rule lists rebuilt. */
  remove(log: UnitLog): void {
    const o = log.objects;
    for (let i = 0; i < o.length; i += 2) {
      const k = o[i] as number;
      const id = (o[i + 1] as { readonly id: string }).id;
      if (this.list[k]!.delete(id)) {
        this.puts[k]!.delete(id);
        this.removed[k]!.add(id);
      }
    }
    for (const t of log.targets) this.affected.add(t);
  }

  /**
   * Patch mode: puts this pass's base objects into the maps. One equal to last pass's object
   * with its id keeps that object (so it is not reported as changed); last pass's base objects
   * not rebuilt are removed. A base object whose id is a unit's counts as a duplicate. Returns
   * this pass's base objects by id.
   */
  settleBase(previous: ReadonlyMap<string, BaseEntry>): Map<string, BaseEntry> {
    const seen = new Map<string, BaseEntry>();
    const now = this.baseObjects;
    for (let i = 0; i < now.length; i += 2) {
      const k = now[i] as number;
      const obj = now[i + 1] as { readonly id: string; readonly owner: string };
      if (seen.has(obj.id)) {
        this.duplicate(k, obj.id, obj.owner);
        continue;
      }
      seen.set(obj.id, [k, this.settleOne(k, obj, previous.get(obj.id))]);
    }
    for (const [id, [k, o]] of previous) {
      if (seen.has(id) || this.list[k]!.get(id) !== o) continue;
      this.list[k]!.delete(id);
      this.puts[k]!.delete(id);
      this.removed[k]!.add(id);
    }
    return seen;
  }

  /**
   * Patch mode: puts the base objects built since the last call (only some containers were
   * rebuilt) into the maps and into `base` (last pass's base objects by id, updated), keeping
   * last pass's object where equal.
   */
  settleSome(base: Map<string, BaseEntry>): void {
    const now = this.baseObjects;
    for (let i = 0; i < now.length; i += 2) {
      const k = now[i] as number;
      const obj = now[i + 1] as { readonly id: string; readonly owner: string };
      base.set(obj.id, [k, this.settleOne(k, obj, base.get(obj.id))]);
    }
    now.length = 0;
  }

  /** Patch mode: removes the base object with this id (a container gone with its entity). */
  dropBase(base: Map<string, BaseEntry>, id: string): void {
    const entry = base.get(id);
    if (entry === undefined) return;
    base.delete(id);
    const [k, o] = entry;
    if (this.list[k]!.get(id) !== o) return;
    this.list[k]!.delete(id);
    this.puts[k]!.delete(id);
    this.removed[k]!.add(id);
  }

  /** Puts one base object (see `settleBase`); returns the object now in the map. */
  private settleOne(
    k: number,
    obj: { readonly id: string; readonly owner: string },
    before: BaseEntry | undefined,
  ): { readonly id: string } {
    const map = this.list[k]!;
    const id = obj.id;
    const old = map.get(id);
    if (old !== undefined) {
      if (before?.[1] !== old) {
        this.duplicate(k, id, obj.owner);
        return obj;
      }
      if (sameDesired(old, obj, SLOT_FIELDS[KINDS[k]!])) return old;
    }
    map.set(id, obj);
    this.noted(k, id, obj);
    return obj;
  }

  /**
   * Patch mode: rebuilds the rule list of every chain a changed, new or removed unit appended
   * to, from the unit records in mapping order (`units`: every live unit, in the order a full
   * pass maps them), so the order is the one a full pass gives. A chain whose list changes is
   * replaced by a copy.
   */
  rebuildChains(units: Iterable<UnitLog>): void {
    const affected = this.affected;
    if (affected.size === 0) return;
    const lists = new Map<string, string[]>();
    for (const id of affected) lists.set(id, []);
    for (const log of units) {
      let hit = false;
      for (const t of log.targets) if (affected.has(t)) hit = true;
      if (!hit) continue;
      const o = log.objects;
      for (let i = 0; i < o.length; i += 2) {
        if (o[i] !== RULE) continue;
        const rule = o[i + 1] as { readonly id: string; readonly chainId: string };
        lists.get(rule.chainId)?.push(rule.id);
      }
    }
    for (const [id, ruleIds] of lists) this.setRuleIds(id, ruleIds);
  }

  /**
   * Patch mode: rebuilds the rule list of every chain a changed, new or removed unit appended
   * to, as `rebuildChains`, from the units that append to it (`unitsOf`: their records in the
   * order a full pass maps them).
   */
  rebuildChainsOf(unitsOf: (chainId: string) => readonly UnitLog[]): void {
    for (const id of this.affected) {
      const ruleIds: string[] = [];
      for (const log of unitsOf(id)) {
        const o = log.objects;
        for (let i = 0; i < o.length; i += 2) {
          if (o[i] !== RULE) continue;
          const rule = o[i + 1] as { readonly id: string; readonly chainId: string };
          if (rule.chainId === id) ruleIds.push(rule.id);
        }
      }
      this.setRuleIds(id, ruleIds);
    }
  }

  private setRuleIds(id: string, ruleIds: string[]): void {
    const chains = this.maps.chain;
    const chain = chains.get(id);
    if (chain === undefined) return;
    if (sameList(chain.ruleIds ?? NONE, ruleIds)) return;
    const copy = { ...chain, ruleIds };
    chains.set(id, copy);
    this.noted(CHAIN, id, copy);
  }

  /** Patch mode: what this pass put (new or replaced objects) and removed, per kind. */
  delta(): TopologyDelta {
    const out = {} as Record<Kind, { put: unknown[]; removed: string[] }>;
    KINDS.forEach((k, n) => {
      out[k] = { put: [...this.puts[n]!.values()], removed: [...this.removed[n]!] };
    });
    return out as unknown as TopologyDelta;
  }

  /** The finished topology (the builder must not be used afterwards). */
  topology(): DesiredTopology {
    return this.maps;
  }
}
