/**
 * The mutable accumulator every per-kind mapper writes into: one map per kind keyed by id,
 * the issue list and the held owners. Ids come from `derivedId(<key>)`; when a key recorder
 * is given (golden tests), every id is remembered with its key so serialized output can show
 * readable references.
 */
import type { Issue } from '../common/index.js';
import { IdDeriver } from './fast-id.js';
import { KINDS, type Kind, type WritableOf } from '../store/index.js';
import type { DesiredOf, DesiredTopology, MappingConfig } from './types.js';

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/** A chain under construction: `ruleIds` grows as rules are added. */
export type DraftChain = DesiredOf<'chain'> & { readonly ruleIds: string[] };

/** The fields of a rule that a mapper chooses (id, chain and owner are filled in). */
export type RuleFields = Mutable<Omit<WritableOf<'rule'>, 'id' | 'chainId' | 'owner'>>;

/** A shared empty list for list fields that mappers never fill in (saves one allocation per
 * object; desired objects are never mutated once mapping returns). */
export const NONE: readonly never[] = Object.freeze([]);

type DesiredMaps = { [K in Kind]: Map<string, DesiredOf<K>> };

/** Collects desired objects, issues and held owners for one mapping pass. */
export class TopologyBuilder {
  readonly maps: DesiredMaps;
  readonly issues: Issue[] = [];
  readonly held = new Set<string>();
  private readonly chainIds = new Map<string, string>();
  private readonly hostIds = new Map<string, string>();
  private readonly ids = new IdDeriver();

  constructor(
    readonly config: MappingConfig,
    private readonly keys?: Map<string, string>,
  ) {
    const maps = {} as Record<Kind, Map<string, unknown>>;
    for (const k of KINDS) maps[k] = new Map();
    this.maps = maps as DesiredMaps;
  }

  /** Derives the id of the object with this key (and records the key when asked to). */
  id(key: string): string {
    const id = this.ids.derive(key);
    if (this.keys !== undefined) this.keys.set(id, key);
    return id;
  }

  /**
   * Adds an object. A second object with the same id replaces the first, with a warning, and
   * `false` is returned (one hash lookup per insert instead of two: this is the hot path).
   */
  put<K extends Kind>(kind: K, obj: DesiredOf<K>): boolean {
    const map = this.maps[kind];
    const id = (obj as unknown as { readonly id: string }).id;
    const size = map.size;
    map.set(id, obj);
    if (map.size !== size) return true;
    const key = this.keys?.get(id) ?? id;
    this.warn(
      'mapping.duplicate-object',
      obj.owner,
      `duplicate ${kind} ${key}: the last one is kept`,
    );
    return false;
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
    this.put('chain', chain);
    return chain;
  }

  /** Adds a rule at the end of `chain` with id `rule:<chain name>:<suffix>`; returns its id,
   * or `undefined` when a rule with that key already exists. */
  rule(chain: DraftChain, suffix: string, owner: string, fields: RuleFields): string | undefined {
    const id = this.id(`rule:${chain.name}:${suffix}`);
    // `fields` is always a fresh literal from the caller: completing it in place (rather than
    // spreading it into a new object) halves the allocations of the hottest path.
    const rule = fields as RuleFields & { id: string; chainId: string; owner: string };
    rule.id = id;
    rule.chainId = chain.id;
    rule.owner = owner;
    if (!this.put('rule', rule as unknown as DesiredOf<'rule'>)) return undefined;
    chain.ruleIds.push(id);
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

  /** The id of the named chain (cached: interfaces jump to the same SG chains many times). */
  chainId(name: string): string {
    let id = this.chainIds.get(name);
    if (id === undefined) {
      id = this.id(`chain:${name}`);
      this.chainIds.set(name, id);
    }
    return id;
  }

  /** Records a warning about `path`. */
  warn(code: string, path: string, message: string): void {
    this.issues.push({ path, code, message, severity: 'warning' });
  }

  /** Records an error about `path`. */
  error(code: string, path: string, message: string): void {
    this.issues.push({ path, code, message, severity: 'error' });
  }

  /** Holds an owner: the reconciler keeps whatever exists for it; records why. */
  hold(owner: string, path: string, message: string): void {
    if (this.held.has(owner)) return;
    this.held.add(owner);
    this.warn('mapping.held', path, `${owner} held: ${message}`);
  }

  /** The finished topology (the builder must not be used afterwards). */
  topology(): DesiredTopology {
    return this.maps;
  }
}
