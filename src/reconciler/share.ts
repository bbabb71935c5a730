/**
 * The handover of desired objects to the store. The store keeps a frozen nested value (a list
 * or an object) of a written object as it is instead of copying it (see store/validate.ts), so
 * freezing the nested values of what the reconciler writes lets the store and the mapping's
 * desired objects hold the topology's lists once. Freezing also makes the promise the mapping
 * already keeps (its results are never mutated) one the runtime enforces, for those values.
 *
 * The objects of creates are handed over too (`handOver`): a bulk create (cold build, rebuild
 * after a flush) keeps such an object, when validation would not change it and its kind has no
 * back-references, as the stored object itself, adding `version` and freezing it. The mapping's
 * desired object and the stored one are then one object; frozen, so nothing changes either.
 */
import { handOverBatch, NESTED_FIELDS } from '../store/index.js';
import type { Op } from '../store/index.js';

/** Deep-freezes the nested values of the writable fields the store keeps (lists and objects;
 * not back-references, which the store owns: a desired chain's rule list, say) of every create
 * and update in `ops`, visiting only the fields that can hold such a value, and hands the
 * objects of the creates over to the store, the list whole (`handOverBatch`: a bulk create of
 * this very list may keep them). */
export function freezeForStore(ops: readonly Op[]): void {
  handOverBatch(ops);
  for (const op of ops) {
    if (op.op === 'delete') continue;
    const o = op.object as unknown as Readonly<Record<string, unknown>>;
    for (const k of NESTED_FIELDS[op.kind]) {
      const v = o[k];
      if (typeof v === 'object' && v !== null) deepFreeze(v);
    }
  }
}

function deepFreeze(v: object): void {
  if (Object.isFrozen(v)) return;
  if (Array.isArray(v)) {
    for (const e of v as unknown[]) if (typeof e === 'object' && e !== null) deepFreeze(e);
  } else {
    for (const e of Object.values(v)) if (typeof e === 'object' && e !== null) deepFreeze(e);
  }
  Object.freeze(v);
}
