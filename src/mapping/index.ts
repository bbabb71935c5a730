/**
 * Mapping: GlobalView + Allocations + config → DesiredTopology. Pure, deterministic.
 */
export * from './types.js';
