/**
 * A text form of a desired topology for golden files and determinism checks: one JSON object
 * per line, kinds in `KINDS` order, objects in map order. With the id → key map from
 * `mapTopologyWithKeys`, every id (also inside references) is shown as `@<key>`. The store's
 * slots (slots.ts) are left out.
 */
import { KINDS } from '../store/index.js';
import { SLOT_FIELDS } from './slots.js';
import type { DesiredTopology } from './types.js';

/** Serializes a desired topology; byte-identical for equal topologies. */
export function serializeDesired(
  desired: DesiredTopology,
  keys?: ReadonlyMap<string, string>,
): string {
  const replacer =
    keys === undefined
      ? undefined
      : (_k: string, v: unknown): unknown => {
          if (typeof v !== 'string') return v;
          const key = keys.get(v);
          return key === undefined ? v : `@${key}`;
        };
  const lines: string[] = [];
  for (const kind of KINDS) {
    // without the store's slots, which mean nothing to the mapping (and hold the store's
    // values once a bulk create adopted the object)
    const skip = SLOT_FIELDS[kind];
    for (const obj of desired[kind].values()) {
      const line: Record<string, unknown> = { kind };
      for (const [k, v] of Object.entries(obj)) if (!skip.has(k)) line[k] = v;
      lines.push(JSON.stringify(line, replacer));
    }
  }
  return lines.join('\n') + '\n';
}
