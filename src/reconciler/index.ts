/**
 * Reconciler: the controller. One cycle = read the GNI → parse → discover the managed
 * topology → map → diff → apply, then report.
 *
 * Invariants:
 * - Full recompute every cycle: the plan is always computed from the whole desired topology and
 *   the whole actual one, so it is correct whatever happened before (drift, restarts, crashes).
 * - A second cycle over the same inputs plans nothing (idempotent).
 * - Creates and updates go parents first, deletes children first, rule reorders last.
 * - A rejected document changes nothing; invalid entities are held (neither changed nor deleted).
 * - Objects that are not ours (no derived id) are never read as ours and never written.
 */
export * from './plan.js';
export * from './diff.js';
export * from './equal.js';
export * from './apply.js';
export * from './build.js';
export * from './cycle.js';
export * from './flush.js';
export * from './settings.js';
export * from './controller.js';
export { describeObject } from './describe.js';
export * from './plan-report.js';
export * from './plan-text.js';
export { ruleSummary, rulePosition } from './describe.js';
export type { Lookup } from './describe.js';
export * from './metrics.js';
export * from './heap.js';
