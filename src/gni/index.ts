/**
 * GNI: read and validate the Global Network Information document (XML or JSON) into an
 * immutable GlobalView plus a list of issues, and write a view back in canonical XML or JSON.
 * Invariants: pure (no I/O, no clock, no logging); never throws on input; the same document
 * in XML or JSON gives an equal view; rules are written down in docs/gni.md.
 */
export * from './types.js';
export { readGni, DEFAULT_MAX_BYTES, type ReadOptions } from './read.js';
export { readGniWithState, type GniReadState, type StatefulRead } from './read-incremental.js';
export { writeGniJson, writeGniXml, toGniDocument } from './write.js';
export { hasErrors, countIssues, formatIssue, MAX_ISSUES, DOCUMENT_PATH } from './issues.js';
