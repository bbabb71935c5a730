/**
 * GNI: read and validate the Global Network Information document (XML or JSON) into an
 * immutable GlobalView plus a list of issues. Pure: never throws on input, does no I/O.
 */
export * from './types.js';
