/**
 * Discovery: read the actual topology from a store and keep only the objects the controller
 * manages (derived ids). Invariant: read-only; never writes, never returns an object that is
 * not ours.
 */
export * from './discover.js';
