/**
 * The nftables side of the plan: a desired model of the agent's tables, the observed state
 * parsed from `nft -j list table`, and the diff between them as one `nft -f` script (one
 * atomic transaction). Every rule carries a comment with a hash of its text, so a chain is
 * rewritten (flush + add, inside the transaction) only when its list of hashes differs; set
 * and map elements are diffed one by one.
 */
import { shortHash } from './names.js';

export type NftFamily = 'bridge' | 'inet' | 'ip';

/** A base chain's hook. */
export interface NftHook {
  readonly hook: 'prerouting' | 'forward' | 'postrouting';
  readonly priority: number;
  /** Chain type (default `filter`). */
  readonly type?: 'filter' | 'nat';
}

/** A chain with its rules (nft statements without comments). */
export interface NftChainSpec {
  readonly name: string;
  readonly hook?: NftHook;
  readonly rules: readonly string[];
}

/** A named set (`value` empty) or verdict map (`value` a verdict such as `jump x`). */
export interface NftSetSpec {
  readonly name: string;
  readonly type: 'ipv4_addr' | 'ifname';
  readonly isVerdictMap: boolean;
  readonly elements: ReadonlyMap<string, string>;
}

/** One table as the agent wants it. */
export interface NftTableSpec {
  readonly family: NftFamily;
  readonly name: string;
  readonly sets: readonly NftSetSpec[];
  readonly chains: readonly NftChainSpec[];
}

/** One table as found on the host (absent tables are simply missing from the list). */
export interface ObservedNftTable {
  readonly family: NftFamily;
  readonly name: string;
  readonly chains: ReadonlyMap<
    string,
    { readonly hook?: NftHook; readonly tags: readonly string[] }
  >;
  readonly sets: ReadonlyMap<
    string,
    {
      readonly type: string;
      readonly isVerdictMap: boolean;
      readonly elements: ReadonlyMap<string, string>;
    }
  >;
}

/** The comment tag of a rule text. */
export function ruleTag(text: string): string {
  return 'h' + shortHash(text);
}

function elementKey(type: NftSetSpec['type'], key: string): string {
  return type === 'ifname' ? JSON.stringify(key) : key;
}

function renderElements(set: NftSetSpec, keys: readonly string[], withValues: boolean): string[] {
  const lines: string[] = [];
  for (let i = 0; i < keys.length; i += 256) {
    const chunk = keys.slice(i, i + 256).map((k) => {
      const key = elementKey(set.type, k);
      return withValues && set.isVerdictMap ? `${key} : ${set.elements.get(k) ?? 'continue'}` : key;
    });
    lines.push(`{ ${chunk.join(', ')} }`);
  }
  return lines;
}

function hookText(hook: NftHook): string {
  return `{ type ${hook.type ?? 'filter'} hook ${hook.hook} priority ${hook.priority}; policy accept; }`;
}

/**
 * Diffs one desired table against what was observed; returns the nft script lines (empty when
 * nothing differs). Order inside the transaction: create chains and sets, rewrite chains,
 * update elements, then delete what is no longer wanted.
 */
export function diffTable(desired: NftTableSpec, observed: ObservedNftTable | undefined): string[] {
  const t = `${desired.family} ${desired.name}`;
  const head: string[] = [];
  const body: string[] = [];
  const tail: string[] = [];
  if (!observed) head.push(`add table ${t}`);
  const obsChains = observed?.chains ?? new Map();
  const obsSets = observed?.sets ?? new Map();
  for (const set of desired.sets) {
    const found = obsSets.get(set.name);
    const kind = set.isVerdictMap ? 'map' : 'set';
    const type = set.isVerdictMap ? `${set.type} : verdict` : set.type;
    if (found && (found.type !== set.type || found.isVerdictMap !== set.isVerdictMap)) {
      head.push(`delete ${found.isVerdictMap ? 'map' : 'set'} ${t} ${set.name}`);
    }
    const exists =
      found !== undefined && found.type === set.type && found.isVerdictMap === set.isVerdictMap;
    if (!exists) head.push(`add ${kind} ${t} ${set.name} { type ${type}; }`);
  }
  for (const chain of desired.chains) {
    const found = obsChains.get(chain.name);
    const sameHook =
      found !== undefined &&
      found.hook?.hook === chain.hook?.hook &&
      found.hook?.priority === chain.hook?.priority &&
      (found.hook?.type ?? 'filter') === (chain.hook?.type ?? 'filter');
    if (found && !sameHook) {
      head.push(`flush chain ${t} ${chain.name}`, `delete chain ${t} ${chain.name}`);
    }
    if (!found || !sameHook) {
      head.push(`add chain ${t} ${chain.name}${chain.hook ? ' ' + hookText(chain.hook) : ''}`);
    }
    const tags = chain.rules.map(ruleTag);
    const same = found !== undefined && sameHook && arraysEqual(found.tags, tags);
    if (same) continue;
    if (found && sameHook) body.push(`flush chain ${t} ${chain.name}`);
    chain.rules.forEach((r, i) =>
      body.push(`add rule ${t} ${chain.name} ${r} comment "${tags[i]!}"`),
    );
  }
  const wantedChains = new Set(desired.chains.map((c) => c.name));
  const stale = [...obsChains.keys()].filter((n) => !wantedChains.has(n)).sort();
  for (const name of stale) head.push(`flush chain ${t} ${name}`);
  for (const set of desired.sets) {
    const found = obsSets.get(set.name);
    const exists =
      found !== undefined && found.type === set.type && found.isVerdictMap === set.isVerdictMap;
    const current = exists ? found.elements : new Map<string, string>();
    const removed = [...current.keys()].filter(
      (k) => !set.elements.has(k) || (set.isVerdictMap && set.elements.get(k) !== current.get(k)),
    );
    const added = [...set.elements.keys()].filter(
      (k) => !current.has(k) || (set.isVerdictMap && set.elements.get(k) !== current.get(k)),
    );
    for (const e of renderElements(set, removed, false))
      body.push(`delete element ${t} ${set.name} ${e}`);
    for (const e of renderElements(set, added, true))
      body.push(`add element ${t} ${set.name} ${e}`);
  }
  const wantedSets = new Set(desired.sets.map((s) => s.name));
  for (const [name, s] of obsSets) {
    if (!wantedSets.has(name)) tail.push(`delete ${s.isVerdictMap ? 'map' : 'set'} ${t} ${name}`);
  }
  for (const name of stale) tail.push(`delete chain ${t} ${name}`);
  return [...head, ...body, ...tail];
}

function arraysEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses `nft -j list table <family> <name>` output (undefined when the table is absent). */
export function parseNftJson(
  json: string,
  family: NftFamily,
  name: string,
): ObservedNftTable | undefined {
  const doc = JSON.parse(json) as { nftables?: unknown[] };
  let found = false;
  const chains = new Map<string, { hook?: NftHook; tags: string[] }>();
  const sets = new Map<
    string,
    { type: string; isVerdictMap: boolean; elements: Map<string, string> }
  >();
  for (const item of doc.nftables ?? []) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, Record<string, unknown> | undefined>;
    const table = o['table'];
    if (table && table['family'] === family && table['name'] === name) found = true;
    const chain = o['chain'];
    if (chain && chain['family'] === family && chain['table'] === name) {
      const c = chains.get(String(chain['name'])) ?? { tags: [] };
      if (typeof chain['hook'] === 'string') {
        c.hook = {
          hook: chain['hook'] as NftHook['hook'],
          priority: Number(chain['prio']),
          ...(chain['type'] === 'nat' ? { type: 'nat' as const } : {}),
        };
      }
      chains.set(String(chain['name']), c);
    }
    const rule = o['rule'];
    if (rule && rule['family'] === family && rule['table'] === name) {
      const cname = String(rule['chain']);
      const c = chains.get(cname) ?? { tags: [] };
      c.tags.push(typeof rule['comment'] === 'string' ? rule['comment'] : '');
      chains.set(cname, c);
    }
    const set = o['set'] ?? o['map'];
    if (set && set['family'] === family && set['table'] === name) {
      const isVerdictMap = o['map'] !== undefined;
      const elements = new Map<string, string>();
      for (const e of (set['elem'] as unknown[] | undefined) ?? []) {
        if (isVerdictMap && Array.isArray(e)) elements.set(String(e[0]), verdictText(e[1]));
        else elements.set(String(e), '');
      }
      sets.set(String(set['name']), { type: String(set['type']), isVerdictMap, elements });
    }
  }
  return found ? { family, name, chains, sets } : undefined;
}

function verdictText(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(v);
  const [[verb, arg]] = Object.entries(v as Record<string, unknown>) as [[string, unknown]];
  if (arg && typeof arg === 'object' && 'target' in arg) {
    return `${verb} ${String((arg as { target: unknown }).target)}`;
  }
  return verb;
}

/** The observed form of a table once `spec` is applied (the event-pass cache). */
export function appliedTable(spec: NftTableSpec): ObservedNftTable {
  return {
    family: spec.family,
    name: spec.name,
    chains: new Map(
      spec.chains.map((c) => [
        c.name,
        { ...(c.hook ? { hook: c.hook } : {}), tags: c.rules.map(ruleTag) },
      ]),
    ),
    sets: new Map(
      spec.sets.map((s) => [
        s.name,
        { type: s.type, isVerdictMap: s.isVerdictMap, elements: s.elements },
      ]),
    ),
  };
}
