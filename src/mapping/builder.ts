/**
 * The mutable accumulator every per-kind mapper writes into: one map per kind keyed by id,
 * the issue list and the held owners. Ids come from `derivedId(<key>)`; when a key recorder
 * is given (golden tests), every id is remembered with its key so serialized output can show
 * readable references.
 */
import { derivedId, type Issue } from '../common/index.js';
import { KINDS, type Kind, type WritableOf } from '../store/index.js';
import type { DesiredOf, DesiredTopology, MappingConfig } from './types.js';

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/** A chain under construction: `ruleIds` grows as rules are added. */
export type DraftChain = DesiredOf<'chain'> & { readonly ruleIds: string[] };

/** The fields of a rule that a mapper chooses (id, chain and owner are filled in). */
export type RuleFields = Mutable<Omit<WritableOf<'rule'>, 'id' | 'chainId' | 'owner'>>;

type DesiredMaps = { [K in Kind]: Map<string, DesiredOf<K>> };

/** Collects desired objects, issues and held owners for one mapping pass. */
export class TopologyBuilder {
  readonly maps: DesiredMaps;
  readonly issues: Issue[] = [];
  readonly held = new Set<string>();

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
    const id = derivedId(key);
    if (this.keys !== undefined) this.keys.set(id, key);
    return id;
  }

  /** Adds an object; a second object with the same id is dropped with a warning. */
  put<K extends Kind>(kind: K, obj: DesiredOf<K>): boolean {
    const map = this.maps[kind];
    const id = (obj as unknown as { readonly id: string }).id;
    if (map.has(id)) {
      const key = this.keys?.get(id) ?? id;
      this.warn('mapping.duplicate-object', obj.owner, `duplicate ${kind} ${key} dropped`);
      return false;
    }
    map.set(id, obj);
    return true;
  }

  /** Creates and adds a named chain with an empty rule list. */
  chain(name: string, owner: string): DraftChain {
    const chain: DraftChain = {
      id: this.id(`chain:${name}`),
      owner,
      name,
      tenantId: this.config.tenantId,
      metadata: [],
      ruleIds: [],
    };
    this.put('chain', chain);
    return chain;
  }

  /** Adds a rule at the end of `chain` with id `rule:<chain name>:<suffix>`; returns its id,
   * or `undefined` when a rule with that key already exists. */
  rule(chain: DraftChain, suffix: string, owner: string, fields: RuleFields): string | undefined {
    const id = this.id(`rule:${chain.name}:${suffix}`);
    const rule = { id, chainId: chain.id, owner, ...fields } as DesiredOf<'rule'>;
    if (!this.put('rule', rule)) return undefined;
    chain.ruleIds.push(id);
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
