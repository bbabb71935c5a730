/**
 * What the parts of the store conformance suite share: the context that hands each part the
 * store of the running test, the typed-rejection assertion, and a store's contents to compare.
 */
import { expect } from 'chai';
import { KINDS, type Kind, type TopologyStore } from '../../src/store/index.js';
import type { Obj } from './store-conformance-ops.js';

/**
 * The store under test, as `runStoreConformance` hands it to the parts of the suite: `store` is a
 * fresh store for each test (read it inside a hook or test, not when the cases are declared).
 */
export interface ConformanceContext {
  /** The store of the running test. */
  readonly store: TopologyStore;
  /** Gets an object of the running test's store, typed loosely. */
  get(kind: Kind, id: string): Promise<Obj | undefined>;
}

/** Awaits `p`, expecting it to reject with an instance of `type` whose message includes `parts`. */
export async function expectReject(
  p: Promise<unknown>,
  type: abstract new (...a: never[]) => Error,
  ...parts: string[]
): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(type);
    for (const part of parts) expect((e as Error).message).to.include(part);
    return e as Error;
  }
  expect.fail(`expected ${type.name}`);
}

/** Every object of the store, per kind in id order, without versions (to compare two stores). */
export async function storeContents(store: TopologyStore): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const kind of KINDS) {
    out[kind] = (await store.list(kind)).map((o) => {
      const { version: _v, ...rest } = o as unknown as Record<string, unknown>;
      return rest;
    });
  }
  return out;
}
