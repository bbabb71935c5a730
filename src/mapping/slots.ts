/**
 * The store's slots in the mappers' object literals (docs/store.md, "Slots"): a desired object
 * that carries `version` (a number) and, for a kind with back-references, each back-reference
 * field holding `SLOT`, is adopted by a bulk create (cold build, rebuild after a flush) as the
 * stored object itself: the store writes version 1 and its lists into those fields in place.
 * Without them it adds `version` to each of the ~264,000 rules at 10,000 instances (a new
 * property list per rule) and copies each of the ~100,000 objects of kinds with back-references.
 * The slots mean nothing to the mapping: serializing and comparing desired objects skip them
 * (`SLOT_FIELDS`), and the reconciler's diff ignores `version` and back-references.
 */
import { BACK_REFERENCE_FIELDS, BACK_REFERENCE_SLOT, KINDS, type Kind } from '../store/index.js';

/** The placeholder of a back-reference field (the store's `BACK_REFERENCE_SLOT`). */
export const SLOT: readonly string[] = BACK_REFERENCE_SLOT;

/** Per kind, the fields that are slots in a desired object: `version` and the back-references
 * (a chain's `ruleIds` excepted: in a desired chain it is the desired rule order). */
export const SLOT_FIELDS: { readonly [K in Kind]: ReadonlySet<string> } = Object.fromEntries(
  KINDS.map((k) => [
    k,
    new Set<string>([
      'version',
      ...(BACK_REFERENCE_FIELDS[k] as readonly string[]).filter(
        (f) => k !== 'chain' || f !== 'ruleIds',
      ),
    ]),
  ]),
) as unknown as { readonly [K in Kind]: ReadonlySet<string> };
