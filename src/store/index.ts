/**
 * Store: the embedded ZOOM-like topology store. Typed object kinds with declared two-way
 * bindings, atomic transactions with per-object versions and a global revision, a watch
 * stream, and backends behind one `TopologyStore` interface.
 * Invariants: a committed change is durable before it is acknowledged or announced; no
 * committed state ever holds a dangling bound reference.
 */
export * from './types.js';
export * from './errors.js';
