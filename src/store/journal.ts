/**
 * On-disk formats of the file backend, as pure encode/decode functions. This build writes
 * format 2 (manifest, snapshot) with journal format 3, and reads formats 1 to 3 (format 1 has
 * no generation and no manifest; a writer upgrades it at open, see file.ts).
 *
 * Journal (`journal.log`): a header, then records:
 *   [u32 payload length][u32 crc32(revision ‖ payload)][u64 revision][u32 crc32(first 16 bytes)]
 *   [payload: JSON of the commit's changes]
 * In a format-3 journal an update's long lists may be written as edits of the object's previous
 * version (journal-delta.ts); format 2 holds every changed object whole. Builds that read
 * journal format 2 only refuse a format-3 journal ("unsupported journal format version 3")
 * instead of misreading its edits.
 * Header, formats 2 and 3 (40 bytes): `EUCAJRNL`, u32 format version, u32 store id, u64 base
 * revision (the snapshot it follows), u64 generation, u32 crc32 of the previous 32 bytes, u32 0.
 * Header, format 1 (24 bytes): `EUCAJRNL`, u32 1, u32 zero, u64 base revision.
 * The record header checksum means a damaged length is reported, never mistaken for a torn
 * tail. Only a record cut short by the end of the file is torn; a complete record whose
 * checksum fails is damage, wherever it is.
 *
 * Snapshot (`snapshot.ndjson`): a header line (format 2 adds the generation), lines of
 * `[kind, [object, …]]`, and a trailer line with the object count and the crc32 of every byte
 * before it.
 */
import { crc32 } from 'node:zlib';
import { encodeChanges, type Lookup, type RecordChange } from './journal-delta.js';
import type { Change } from './types.js';

/** The on-disk format version this code writes (manifest and snapshot). */
export const FORMAT_VERSION = 2;
/** The journal format version this code writes (3: records may hold list edits). */
export const JOURNAL_FORMAT_VERSION = 3;
/** The oldest format version this code reads (and upgrades when it opens it for writing). */
export const OLDEST_FORMAT_VERSION = 1;
export const JOURNAL_MAGIC = 'EUCAJRNL';
/** Size of the journal header this code writes (format 2). */
export const JOURNAL_HEADER_SIZE = 40;
/** Size of a format-1 journal header. */
export const JOURNAL_HEADER_SIZE_V1 = 24;
export const RECORD_HEADER_SIZE = 20;
/** Upper bound of one record's payload (a sanity check for damaged lengths). */
export const MAX_RECORD_SIZE = 1 << 30;

/** A decoded journal header. `generation` and `store` are 0 for format 1. */
export interface JournalHeader {
  readonly version: number;
  readonly baseRevision: number;
  readonly generation: number;
  /** The store's id (random, fixed at creation; 0 when none was given). */
  readonly store: number;
  /** Where the first record starts. */
  readonly size: number;
}

/** Encodes the journal file header (format 3, or 2 for tests of older journals). */
export function encodeJournalHeader(
  baseRevision: number,
  generation: number,
  store = 0,
  version = JOURNAL_FORMAT_VERSION,
): Buffer {
  const b = Buffer.alloc(JOURNAL_HEADER_SIZE);
  b.write(JOURNAL_MAGIC, 0, 'latin1');
  b.writeUInt32LE(version, 8);
  b.writeUInt32LE(store, 12);
  b.writeBigUInt64LE(BigInt(baseRevision), 16);
  b.writeBigUInt64LE(BigInt(generation), 24);
  b.writeUInt32LE(crc32(b.subarray(0, 32)), 32);
  return b;
}

/** Decodes a journal header (format 1, 2 or 3), or returns an error text. */
export function decodeJournalHeader(b: Buffer): JournalHeader | { error: string } {
  if (b.length < JOURNAL_HEADER_SIZE_V1) return { error: 'journal header is truncated' };
  if (b.toString('latin1', 0, 8) !== JOURNAL_MAGIC)
    return { error: 'not a store journal (bad magic)' };
  const version = b.readUInt32LE(8);
  const baseRevision = Number(b.readBigUInt64LE(16));
  if (version === 1)
    return { version, baseRevision, generation: 0, store: 0, size: JOURNAL_HEADER_SIZE_V1 };
  if (version !== 2 && version !== JOURNAL_FORMAT_VERSION) {
    return {
      error: `unsupported journal format version ${version} (this build reads ${OLDEST_FORMAT_VERSION} to ${JOURNAL_FORMAT_VERSION})`,
    };
  }
  if (b.length < JOURNAL_HEADER_SIZE) return { error: 'journal header is truncated' };
  if (b.readUInt32LE(32) !== crc32(b.subarray(0, 32)))
    return { error: 'journal header checksum mismatch' };
  if (b.readUInt32LE(36) !== 0) return { error: 'journal header reserved bytes are not zero' };
  const generation = Number(b.readBigUInt64LE(24));
  const store = b.readUInt32LE(12);
  return { version, baseRevision, generation, store, size: JOURNAL_HEADER_SIZE };
}

/**
 * Encodes one commit record. With `previous` (the state the commit follows; format-3 journals
 * only), updates' long lists are written as edits of their previous version (journal-delta.ts).
 */
export function encodeRecord(
  revision: number,
  changes: readonly Change[],
  previous?: Lookup,
): Buffer {
  const body = previous === undefined ? changes : encodeChanges(changes, previous);
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload.length);
  b.writeUInt32LE(payload.length, 0);
  b.writeBigUInt64LE(BigInt(revision), 8);
  payload.copy(b, RECORD_HEADER_SIZE);
  b.writeUInt32LE(crc32(payload, crc32(b.subarray(8, 16))), 4);
  b.writeUInt32LE(crc32(b.subarray(0, 16)), 16);
  return b;
}

/**
 * One decoded record with its byte offset in the file. Its changes are as written: updates
 * may hold list edits, which `resolveChanges` (journal-delta.ts) applies to the state the
 * record follows.
 */
export interface JournalRecord {
  readonly offset: number;
  readonly revision: number;
  readonly changes: readonly RecordChange[];
  /** Offset just after the record. */
  readonly end: number;
}

/** How a scan of journal bytes ended. */
export type ScanEnd =
  | { readonly kind: 'clean' }
  | {
      readonly kind: 'torn';
      readonly offset: number;
      /** The torn record's revision, when its header is whole. */
      readonly revision?: number;
      readonly reason: string;
    }
  | {
      readonly kind: 'corrupt';
      readonly offset: number;
      readonly revision?: number;
      readonly reason: string;
    };

/**
 * Decodes the records in `buf` (which starts at file offset `base`). Stops at the end, at a
 * record cut short by the end of `buf` (torn), or at the first complete record that fails a
 * check (corrupt) — zero bytes included: a complete record is never taken for a torn one.
 */
export function scanRecords(buf: Buffer, base: number): { records: JournalRecord[]; end: ScanEnd } {
  const records: JournalRecord[] = [];
  const stop = (end: ScanEnd): { records: JournalRecord[]; end: ScanEnd } => ({ records, end });
  const corrupt = (offset: number, revision: number | undefined, reason: string) =>
    stop(
      revision === undefined
        ? { kind: 'corrupt', offset, reason }
        : { kind: 'corrupt', offset, revision, reason },
    );
  let pos = 0;
  while (pos < buf.length) {
    const offset = base + pos;
    const left = buf.length - pos;
    if (left < RECORD_HEADER_SIZE) {
      return stop({ kind: 'torn', offset, reason: `${left} bytes of a record header` });
    }
    const headerOk = buf.readUInt32LE(pos + 16) === crc32(buf.subarray(pos, pos + 16));
    if (!headerOk) return corrupt(offset, undefined, 'record header checksum mismatch');
    const length = buf.readUInt32LE(pos);
    const revision = Number(buf.readBigUInt64LE(pos + 8));
    if (length > MAX_RECORD_SIZE) {
      return corrupt(offset, revision, `record length ${length} too large`);
    }
    const end = pos + RECORD_HEADER_SIZE + length;
    if (end > buf.length) {
      return stop({
        kind: 'torn',
        offset,
        revision,
        reason: `record of ${length} bytes, ${left - RECORD_HEADER_SIZE} present`,
      });
    }
    const payload = buf.subarray(pos + RECORD_HEADER_SIZE, end);
    const body = crc32(payload, crc32(buf.subarray(pos + 8, pos + 16)));
    if (body !== buf.readUInt32LE(pos + 4)) {
      return corrupt(offset, revision, 'record checksum mismatch');
    }
    let changes: RecordChange[];
    try {
      changes = JSON.parse(payload.toString('utf8')) as RecordChange[];
    } catch (e) {
      return corrupt(offset, revision, `record payload is not JSON: ${String(e)}`);
    }
    if (!Array.isArray(changes)) {
      return corrupt(offset, revision, 'record payload is not a list of changes');
    }
    records.push({ offset, revision, changes, end: base + end });
    pos = end;
  }
  return stop({ kind: 'clean' });
}
