/**
 * A text form of a desired topology for golden files and determinism checks: one JSON object
 * per line, kinds in `KINDS` order, objects in map order. With the id → key map from
 * `mapTopologyWithKeys`, every id (also inside references) is shown as `@<key>`.
 */
import { KINDS } from '../store/index.js';
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
    for (const obj of desired[kind].values()) {
      lines.push(JSON.stringify({ kind, ...obj }, replacer));
    }
  }
  return lines.join('\n') + '\n';
}
