/**
 * Store: the embedded ZOOM-like topology store. Typed object kinds with declared two-way
 * bindings, atomic transactions with per-object versions and a global revision, a watch
 * stream, and backends behind one `TopologyStore` interface.
 * Invariants: a committed change is durable before it is acknowledged or announced; no
 * committed state ever holds a dangling bound reference; objects handed to readers are frozen
 * and never change (a write replaces them).
 */
export * from './types.js';
export * from './errors.js';
export {
  SCHEMA,
  NAMED_KINDS,
  UNBOUND_REFERENCES,
  type Binding,
  type BindingEnd,
  type DeleteAction,
} from './schema.js';
export { createMemoryStore, type MemoryStoreOptions } from './memory.js';
export { openFileStore, type FileStoreOptions } from './file.js';
export { openEtcdStore, type EtcdStoreOptions } from './etcd.js';
export { openStore, verifyStore } from './open.js';
export { planRecovery, recoverStore, type Dropped, type RecoveryPlan } from './recover.js';
export type { StoreProblem } from './verify.js';
export { BACK_REFERENCE_SLOT, handOver, handOverBatch, isValidId, isIpv4 } from './validate.js';
export { NESTED_FIELDS } from './fields.js';
