/**
 * Common: the error hierarchy and deterministic ids shared by every module.
 * Invariant: nothing here does I/O or keeps state.
 */
export * from './errors.js';
export * from './ids.js';
export * from './log.js';
export * from './suggest.js';
