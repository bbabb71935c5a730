/**
 * Discovery: read the actual topology from a store and keep only the objects the controller
 * manages (derived ids), as a snapshot (`discover`) or as a live view of an embedded store's
 * maps (`discoverLive`), and keep it current through the change stream (`refreshActual`).
 * Invariant: read-only; never writes, never returns an object that is not ours.
 */
export * from './discover.js';
export { discoverLive } from './live.js';
export * from './refresh.js';
