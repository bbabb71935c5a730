/**
 * What the parts of the store conformance suite share: the context that hands each part the
 * store of the running test, and the typed-rejection assertion.
 */
import { expect } from 'chai';
import type { Kind, TopologyStore } from '../../src/store/index.js';
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
