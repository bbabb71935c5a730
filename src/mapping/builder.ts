/**
 * The mutable accumulator every per-kind mapper writes into: one map per kind keyed by id,
 * the issue list and the held owners. Ids come from `derivedId(<key>)`; when a key recorder
 * is given (golden tests), every id is remembered with its key so serialized output can show
 * readable references.
 */
import type { Issue } from '../common/index.js';
import { IdDeriver } from '../common/index.js';
import { KINDS, type Kind, type WritableOf } from '../store/index.js';
import type { DesiredOf, DesiredTopology, FreshObjects, MappingConfig } from './types.js';

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/** A chain under construction: `ruleIds` grows as rules are added. */
export type DraftChain = DesiredOf<'chain'> & { readonly ruleIds: string[] };

/** The fields of a rule that a mapper chooses (id, chain and owner are filled in). */
export type RuleFields = Mutable<Omit<WritableOf<'rule'>, 'id' | 'chainId' | 'owner'>>;

/** A shared empty list for list fields that mappers never fill in (saves one allocation per
 * object; desired objects are never mutated once mapping returns). */
export const NONE: readonly never[] = Object.freeze([]);

type DesiredMaps = { [K in Kind]: Map<string, DesiredOf<K>> };

/** Kind → its position in KINDS (logs and staging use numbers, not keyed lookups). */
const KIND_INDEX: Readonly<Record<Kind, number>> = Object.fromEntries(
  KINDS.map((k, i) => [k, i]),
) as Record<Kind, number>;

const OP_PUT = 0;
const OP_CHAIN = 1;
const OP_RULE = 2;
const OP_ISSUE = 3;
const OP_HOLD = 4;

/**
 * What one unit of mapping work (one interface, one VPC tree, one security group) did to the
 * builder, in order: puts, chains, rules, issues and holds. When the unit's inputs are the same
 * next pass, `replay` redoes exactly these steps with the same (immutable) objects instead of
 * mapping again. `ops` holds opcodes; `args` their operands: put (kind index, object), chain
 * (chain), rule (rule, index of its chain among the unit's chains or -1 for another unit's
 * chain), issue (issue), hold (owner, path, message).
 */
export interface UnitLog {
  readonly ops: number[];
  readonly args: unknown[];
}

/** Collects desired objects, issues and held owners for one mapping pass. */
export class TopologyBuilder {
  readonly maps: DesiredMaps;
  readonly issues: Issue[] = [];
  readonly held = new Set<string>();
  private readonly chainIds = new Map<string, string>();
  private readonly hostIds = new Map<string, string>();
  private readonly ids = new IdDeriver();
  /** The unit being recorded, if any. */
  private log: UnitLog | undefined;
  /** The chains the unit being recorded has created, in order. */
  private logChains: DraftChain[] = [];
  /** Replay scratch: the new copies of a unit's chains, by their index in the unit. */
  private clones: DraftChain[] = [];
  /** How many puts replaced an object with the same id (an incremental pass is only exact
   * when there are none). */
  duplicates = 0;
  /** Staged mode (`stage`): objects per kind, put into the maps by `commit`. */
  private staged: unknown[][] | undefined;
  /** Staged mode: chains by id (rules of replayed units find their chain here). */
  private readonly chainIndex = new Map<string, DraftChain>();
  /** Objects built anew this pass, per kind index (replays and `commit` do not count). */
  private readonly freshLists: unknown[][] = KINDS.map(() => []);
  /** Set while replaying or committing: inserts then move existing objects, not new ones. */
  private reusing = false;

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
    const log = this.log;
    if (log !== undefined) {
      log.ops.push(OP_PUT);
      log.args.push(KIND_INDEX[kind], obj);
    }
    return this.insert(kind, obj);
  }

  private insert<K extends Kind>(kind: K, obj: DesiredOf<K>): boolean {
    if (!this.reusing && kind !== 'chain') this.freshLists[KIND_INDEX[kind]]!.push(obj);
    const staged = this.staged;
    if (staged !== undefined) {
      staged[KIND_INDEX[kind]]!.push(obj);
      return true;
    }
    const map = this.maps[kind];
    const id = (obj as unknown as { readonly id: string }).id;
    const size = map.size;
    map.set(id, obj);
    if (map.size !== size) return true;
    this.duplicates++;
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
    const log = this.log;
    if (log !== undefined) {
      log.ops.push(OP_CHAIN);
      log.args.push(chain);
      this.logChains.push(chain);
    }
    this.insert('chain', chain);
    if (this.staged !== undefined) this.chainIndex.set(chain.id, chain);
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
    const log = this.log;
    if (log !== undefined) {
      log.ops.push(OP_RULE);
      log.args.push(rule, this.logChains.indexOf(chain));
    }
    if (!this.insert('rule', rule as unknown as DesiredOf<'rule'>)) return undefined;
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
    this.issue({ path, code, message, severity: 'warning' });
  }

  /** Records an error about `path`. */
  error(code: string, path: string, message: string): void {
    this.issue({ path, code, message, severity: 'error' });
  }

  private issue(issue: Issue): void {
    const log = this.log;
    if (log !== undefined) {
      log.ops.push(OP_ISSUE);
      log.args.push(issue);
    }
    this.issues.push(issue);
  }

  /** Holds an owner: the reconciler keeps whatever exists for it; records why. */
  hold(owner: string, path: string, message: string): void {
    const log = this.log;
    if (log !== undefined) {
      log.ops.push(OP_HOLD);
      log.args.push(owner, path, message);
    }
    if (this.held.has(owner)) return;
    this.held.add(owner);
    this.warnUnlogged('mapping.held', path, `${owner} held: ${message}`);
  }

  private warnUnlogged(code: string, path: string, message: string): void {
    this.issues.push({ path, code, message, severity: 'warning' });
  }

  /** Starts recording a unit (`end` returns its log). Units do not nest. */
  begin(): void {
    this.log = { ops: [], args: [] };
    this.logChains = [];
  }

  /** Stops recording and returns what the unit did. */
  end(): UnitLog {
    const log = this.log!;
    this.log = undefined;
    return log;
  }

  /**
   * Redoes a recorded unit: the same objects are put in the same order (chains as fresh
   * copies with their rule lists rebuilt, since later units append to some of them), the same
   * issues and holds are recorded. With `chains`, records each old chain's new copy there.
   */
  replay(log: UnitLog, chains?: Map<DraftChain, DraftChain>): void {
    this.reusing = true;
    try {
      this.replayOps(log, chains);
    } finally {
      this.reusing = false;
    }
  }

  private replayOps(log: UnitLog, chains?: Map<DraftChain, DraftChain>): void {
    const { ops, args } = log;
    const clones = this.clones;
    const staged = this.staged;
    let nChains = 0;
    let a = 0;
    for (let i = 0; i < ops.length; i++) {
      switch (ops[i]) {
        case OP_PUT: {
          const k = args[a] as number;
          if (staged !== undefined) staged[k]!.push(args[a + 1]);
          else this.insert(KINDS[k]!, args[a + 1] as DesiredOf<Kind>);
          a += 2;
          break;
        }
        case OP_CHAIN: {
          const old = args[a++] as DraftChain;
          const chain: DraftChain = { ...old, ruleIds: [] };
          clones[nChains++] = chain;
          chains?.set(old, chain);
          this.insert('chain', chain);
          if (staged !== undefined) this.chainIndex.set(chain.id, chain);
          break;
        }
        case OP_RULE: {
          const rule = args[a] as DesiredOf<'rule'>;
          const c = args[a + 1] as number;
          a += 2;
          if (!this.insert('rule', rule)) break;
          const chain =
            c >= 0
              ? clones[c]
              : staged !== undefined
                ? this.chainIndex.get(rule.chainId)
                : (this.maps.chain.get(rule.chainId) as DraftChain | undefined);
          chain?.ruleIds.push(rule.id);
          break;
        }
        case OP_ISSUE:
          this.issues.push(args[a++] as Issue);
          break;
        case OP_HOLD:
          this.hold(args[a] as string, args[a + 1] as string, args[a + 2] as string);
          a += 3;
          break;
      }
    }
  }

  /**
   * From now on, objects are collected per kind and put into the maps by `commit`: filling one
   * map at a time is about twice as fast as interleaving fifteen. In this mode a duplicate id
   * is only seen at `commit` (counted in `duplicates`; `rule` always appends), so a staged pass
   * is exact only when `duplicates` is 0 afterwards.
   */
  stage(): void {
    this.staged = KINDS.map(() => []);
  }

  /** Puts the staged objects into the maps, kind by kind, in the order they were staged. */
  commit(): void {
    const staged = this.staged;
    if (staged === undefined) return;
    this.staged = undefined;
    this.reusing = true; // already counted when staged
    KINDS.forEach((k, n) => {
      const list = staged[n] as DesiredOf<Kind>[];
      for (let i = 0; i < list.length; i++) this.insert(k, list[i]!);
    });
    this.reusing = false;
  }

  /** Per kind, the objects built anew (not replayed) in this pass; chains not included. */
  fresh(): FreshObjects {
    const out = {} as Record<Kind, unknown[]>;
    KINDS.forEach((k, n) => (out[k] = this.freshLists[n]!));
    return out as unknown as FreshObjects;
  }

  /** The finished topology (the builder must not be used afterwards). */
  topology(): DesiredTopology {
    return this.maps;
  }
}
