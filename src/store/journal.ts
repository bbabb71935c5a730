/**
 * On-disk formats of the file backend (format version 1), as pure encode/decode functions.
 *
 * Journal (`journal.log`): a 24-byte header (`EUCAJRNL`, u32 format version, u32 zero,
 * u64 base revision = the snapshot it follows), then records:
 *   [u32 payload length][u32 crc32(revision ‖ payload)][u64 revision][u32 crc32(first 16 bytes)]
 *   [payload: JSON of the commit's changes]
 * The header checksum means a damaged length is reported, never mistaken for a torn tail.
 *
 * Snapshot (`snapshot.ndjson`): a header line, lines of `[kind, [object, …]]`, and a trailer
 * line with the object count and the crc32 of every byte before it.
 */
import { crc32 } from 'node:zlib';
import type { AnyObject, Change, Kind } from './types.js';

/** The on-disk format version this code reads and writes. */
export const FORMAT_VERSION = 1;
export const JOURNAL_MAGIC = 'EUCAJRNL';
export const JOURNAL_HEADER_SIZE = 24;
export const RECORD_HEADER_SIZE = 20;
/** Upper bound of one record's payload (a sanity check for damaged lengths). */
export const MAX_RECORD_SIZE = 1 << 30;

/** Encodes the journal file header. */
export function encodeJournalHeader(baseRevision: number): Buffer {
  const b = Buffer.alloc(JOURNAL_HEADER_SIZE);
  b.write(JOURNAL_MAGIC, 0, 'latin1');
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeBigUInt64LE(BigInt(baseRevision), 16);
  return b;
}

/** Decodes the journal header: the base revision, or an error text. */
export function decodeJournalHeader(b: Buffer): { baseRevision: number } | { error: string } {
  if (b.length < JOURNAL_HEADER_SIZE) return { error: 'journal header is truncated' };
  if (b.toString('latin1', 0, 8) !== JOURNAL_MAGIC)
    return { error: 'not a store journal (bad magic)' };
  const version = b.readUInt32LE(8);
  if (version !== FORMAT_VERSION) {
    return {
      error: `unsupported journal format version ${version} (this build reads ${FORMAT_VERSION})`,
    };
  }
  return { baseRevision: Number(b.readBigUInt64LE(16)) };
}

/** Encodes one commit record. */
export function encodeRecord(revision: number, changes: readonly Change[]): Buffer {
  const payload = Buffer.from(JSON.stringify(changes), 'utf8');
  const b = Buffer.allocUnsafe(RECORD_HEADER_SIZE + payload.length);
  b.writeUInt32LE(payload.length, 0);
  b.writeBigUInt64LE(BigInt(revision), 8);
  payload.copy(b, RECORD_HEADER_SIZE);
  const body = crc32(payload, crc32(b.subarray(8, 16)));
  b.writeUInt32LE(body, 4);
  b.writeUInt32LE(crc32(b.subarray(0, 16)), 16);
  return b;
}

/** One decoded record with its byte offset in the file. */
export interface JournalRecord {
  readonly offset: number;
  readonly revision: number;
  readonly changes: readonly Change[];
  /** Offset just after the record. */
  readonly end: number;
}

/** How a scan of journal bytes ended. */
export type ScanEnd =
  | { readonly kind: 'clean' }
  | { readonly kind: 'torn'; readonly offset: number; readonly reason: string }
  | {
      readonly kind: 'corrupt';
      readonly offset: number;
      readonly revision?: number;
      readonly reason: string;
    };

function allZero(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Decodes the records in `buf` (which starts at file offset `base`). Stops at the end, at an
 * incomplete (torn) last record, or at the first damaged record.
 */
export function scanRecords(buf: Buffer, base: number): { records: JournalRecord[]; end: ScanEnd } {
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const offset = base + pos;
    const left = buf.length - pos;
    if (left < RECORD_HEADER_SIZE) {
      return { records, end: { kind: 'torn', offset, reason: `${left} bytes of a record header` } };
    }
    const headerOk = buf.readUInt32LE(pos + 16) === crc32(buf.subarray(pos, pos + 16));
    if (!headerOk) {
      if (allZero(buf, pos, buf.length)) {
        return { records, end: { kind: 'torn', offset, reason: 'zero-filled tail' } };
      }
      return {
        records,
        end: { kind: 'corrupt', offset, reason: 'record header checksum mismatch' },
      };
    }
    const length = buf.readUInt32LE(pos);
    const revision = Number(buf.readBigUInt64LE(pos + 8));
    if (length > MAX_RECORD_SIZE) {
      return {
        records,
        end: { kind: 'corrupt', offset, revision, reason: `record length ${length} too large` },
      };
    }
    const end = pos + RECORD_HEADER_SIZE + length;
    if (end > buf.length) {
      return {
        records,
        end: {
          kind: 'torn',
          offset,
          reason: `record of ${length} bytes, ${left - RECORD_HEADER_SIZE} present`,
        },
      };
    }
    const payload = buf.subarray(pos + RECORD_HEADER_SIZE, end);
    const body = crc32(payload, crc32(buf.subarray(pos + 8, pos + 16)));
    if (body !== buf.readUInt32LE(pos + 4)) {
      // JSON never holds a NUL byte: NULs in the last record mean its data never reached disk.
      if (end === buf.length && payload.includes(0)) {
        return { records, end: { kind: 'torn', offset, reason: 'last record partly zero-filled' } };
      }
      return {
        records,
        end: { kind: 'corrupt', offset, revision, reason: 'record checksum mismatch' },
      };
    }
    let changes: Change[];
    try {
      changes = JSON.parse(payload.toString('utf8')) as Change[];
    } catch (e) {
      return {
        records,
        end: {
          kind: 'corrupt',
          offset,
          revision,
          reason: `record payload is not JSON: ${String(e)}`,
        },
      };
    }
    records.push({ offset, revision, changes, end: base + end });
    pos = end;
  }
  return { records, end: { kind: 'clean' } };
}

/** Snapshot header line. */
export interface SnapshotHeader {
  readonly format: 'eucanetd-store-snapshot';
  readonly version: number;
  readonly revision: number;
  readonly count: number;
}

/** Objects per snapshot line: large lines parse several times faster than one per line. */
const OBJECTS_PER_LINE = 2000;

/**
 * Encodes a snapshot as buffers (written in order) from `[kind, object]` pairs: a header line,
 * lines of `[kind, [object, …]]` (one kind per line, up to 2,000 objects), a trailer line.
 */
export function* encodeSnapshot(
  revision: number,
  objects: Iterable<readonly [Kind, AnyObject]>,
  count: number,
): Generator<Buffer> {
  const header: SnapshotHeader = {
    format: 'eucanetd-store-snapshot',
    version: FORMAT_VERSION,
    revision,
    count,
  };
  let crc = 0;
  let n = 0;
  const emit = (text: string): Buffer => {
    const b = Buffer.from(text, 'utf8');
    crc = crc32(b, crc);
    return b;
  };
  yield emit(JSON.stringify(header) + '\n');
  let kind: Kind | undefined;
  let group: AnyObject[] = [];
  const line = (): Buffer => {
    const b = emit(JSON.stringify([kind, group]) + '\n');
    group = [];
    return b;
  };
  for (const [k, obj] of objects) {
    if ((k !== kind || group.length >= OBJECTS_PER_LINE) && group.length > 0) yield line();
    kind = k;
    group.push(obj);
    n++;
  }
  if (group.length > 0) yield line();
  if (n !== count) throw new Error(`snapshot: expected ${count} objects, wrote ${n}`);
  yield Buffer.from(JSON.stringify({ end: true, count: n, crc }) + '\n', 'utf8');
}

/** Decodes a snapshot file; throws an Error with a reason on damage. */
export function decodeSnapshot(
  buf: Buffer,
  onObject: (kind: Kind, obj: AnyObject) => void,
): SnapshotHeader {
  const lastNl = buf.lastIndexOf(10, buf.length - 2);
  if (buf.length === 0 || buf[buf.length - 1] !== 10 || lastNl < 0)
    throw new Error('snapshot is truncated');
  const trailer = JSON.parse(buf.toString('utf8', lastNl + 1, buf.length - 1)) as {
    end?: boolean;
    count?: number;
    crc?: number;
  };
  if (trailer.end !== true) throw new Error('snapshot is truncated (no trailer)');
  const actual = crc32(buf.subarray(0, lastNl + 1));
  if (actual !== trailer.crc)
    throw new Error(`snapshot checksum mismatch (${actual} != ${String(trailer.crc)})`);
  let nl = buf.indexOf(10);
  const header = JSON.parse(buf.toString('utf8', 0, nl)) as SnapshotHeader;
  if (header.format !== 'eucanetd-store-snapshot') throw new Error('not a store snapshot');
  if (header.version !== FORMAT_VERSION) {
    throw new Error(
      `unsupported snapshot format version ${header.version} (this build reads ${FORMAT_VERSION})`,
    );
  }
  let n = 0;
  let pos = nl + 1;
  while (pos <= lastNl) {
    nl = buf.indexOf(10, pos);
    const [kind, objects] = JSON.parse(buf.toString('utf8', pos, nl)) as [Kind, AnyObject[]];
    for (const obj of objects) onObject(kind, obj);
    n += objects.length;
    pos = nl + 1;
  }
  if (n !== header.count || n !== trailer.count)
    throw new Error(`snapshot holds ${n} objects, header says ${header.count}`);
  return header;
}
