/**
 * The snapshot file of the file backend (`snapshot.ndjson`), as pure encode/decode functions:
 * a header line (format 2 adds the generation and the store id), lines of
 * `[kind, [object, …]]` (one kind per line, up to 2,000 objects), and a trailer line with the
 * object count and the crc32 of every byte before it. This build writes format 2 and reads
 * formats 1 and 2 (journal.ts holds the version constants and the journal format).
 *
 * Encoding writes each line straight into chunk buffers of about 4 MiB instead of making a
 * string and a Buffer per line. A line's objects are stringified in slices of 128 and each
 * slice's JSON is UTF-8 written where it belongs: JSON.stringify builds a large result as a
 * tree of parts that must be copied flat before it can be encoded (for a 500 KiB line, a
 * fresh large-object allocation each time), while a slice's result stays small. The bytes
 * are exactly those of `JSON.stringify([kind, objects]) + '\n'` in UTF-8 (the slices' JSON
 * joined by commas, which is what JSON.stringify writes between array elements).
 */
import { crc32 } from 'node:zlib';
import { FORMAT_VERSION, OLDEST_FORMAT_VERSION } from './journal.js';
import type { AnyObject, Kind } from './types.js';

/** Snapshot header line. */
export interface SnapshotHeader {
  readonly format: 'eucanetd-store-snapshot';
  readonly version: number;
  /** Absent in format 1 (read as 0). */
  readonly generation?: number;
  /** The store's id (absent in format 1 and in stores written before ids: read as 0). */
  readonly store?: number;
  readonly revision: number;
  readonly count: number;
}

/** Objects per snapshot line: large lines parse several times faster than one per line. */
const OBJECTS_PER_LINE = 2000;

/** Size of the buffers a snapshot is encoded into (a longer line gets a buffer of its own). */
export const SNAPSHOT_CHUNK_BYTES = 4 << 20;

/** Objects per JSON.stringify call within a line (see the header). */
const OBJECTS_PER_SLICE = 128;

/** Writes UTF-8 text into chunk buffers; keeps the running crc of the chunks it emitted. */
class ChunkWriter {
  private buf: Buffer;
  private used = 0;
  crc = 0;

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Makes room for `text` (the chunk's bytes so far are returned, to be emitted first, when
   * it would not fit) and writes it. `join`: `text` is a JSON array to append to the one just
   * written (its `[` replaces that one's `]` and becomes a comma). */
  write(text: string, join = false): Buffer | undefined {
    // a UTF-16 code unit is at most 3 bytes of UTF-8
    const room = text.length * 3;
    let full: Buffer | undefined;
    if (this.used + room > this.buf.length) {
      if (join) this.used--; // that `]` is not emitted: this text's `[` takes its place
      full = this.take();
      this.buf = Buffer.allocUnsafe(Math.max(this.chunkBytes, room));
      if (join) this.used = 1; // the place of that `]`, at the start of the new chunk
    }
    if (join) {
      const at = this.used - 1;
      this.used = at + this.buf.write(text, at, 'utf8');
      this.buf[at] = 44; // ,
    } else this.used += this.buf.write(text, this.used, 'utf8');
    return full;
  }

  /** Writes one byte (an ASCII character code). */
  byte(code: number): Buffer | undefined {
    let full: Buffer | undefined;
    if (this.used + 1 > this.buf.length) {
      full = this.take();
      this.buf = Buffer.allocUnsafe(this.chunkBytes);
    }
    this.buf[this.used++] = code;
    return full;
  }

  /** The bytes written since the last chunk (crc updated), or undefined if none. */
  take(): Buffer | undefined {
    if (this.used === 0) return undefined;
    const chunk = this.buf.subarray(0, this.used);
    this.crc = crc32(chunk, this.crc);
    this.buf = this.buf.subarray(this.used);
    this.used = 0;
    return chunk;
  }
}

/**
 * Encodes a snapshot as buffers (written in order) from `[kind, object]` pairs: a header line,
 * lines of `[kind, [object, …]]` (one kind per line, up to 2,000 objects), a trailer line.
 */
export function encodeSnapshot(
  revision: number,
  objects: Iterable<readonly [Kind, AnyObject]>,
  count: number,
  generation = 1,
  store = 0,
): Generator<Buffer> {
  return encodeSnapshotKinds(revision, byKind(objects), count, generation, store);
}

/** `[kind, object]` pairs as runs of one kind. */
function* byKind(
  objects: Iterable<readonly [Kind, AnyObject]>,
): Generator<readonly [Kind, Iterable<AnyObject>]> {
  let kind: Kind | undefined;
  let run: AnyObject[] = [];
  for (const [k, obj] of objects) {
    if (k !== kind && run.length > 0) {
      yield [kind!, run];
      run = [];
    }
    kind = k;
    run.push(obj);
  }
  if (run.length > 0) yield [kind!, run];
}

/**
 * `encodeSnapshot` from the objects of each kind in turn (what the file backend writes from
 * its state): the same bytes, without a pair per object. Chunks are about
 * `chunkBytes` (default `SNAPSHOT_CHUNK_BYTES`) each, every one a buffer of its own.
 */
export function* encodeSnapshotKinds(
  revision: number,
  kinds: Iterable<readonly [Kind, Iterable<AnyObject>]>,
  count: number,
  generation = 1,
  store = 0,
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): Generator<Buffer> {
  const header: SnapshotHeader = {
    format: 'eucanetd-store-snapshot',
    version: FORMAT_VERSION,
    store,
    generation,
    revision,
    count,
  };
  const out = new ChunkWriter(chunkBytes);
  let n = 0;
  const chunks: Buffer[] = [];
  const emit = (full: Buffer | undefined): void => {
    if (full) chunks.push(full);
  };
  /** Writes the line `[kind, objects]` (objects: 1 to OBJECTS_PER_LINE of them). */
  const line = (kind: Kind, objects: AnyObject[]): void => {
    emit(out.write(`[${JSON.stringify(kind)},`));
    for (let i = 0; i < objects.length; i += OBJECTS_PER_SLICE)
      emit(out.write(JSON.stringify(objects.slice(i, i + OBJECTS_PER_SLICE)), i > 0));
    emit(out.byte(93)); // ]
    emit(out.byte(10));
    n += objects.length;
  };
  emit(out.write(JSON.stringify(header)));
  emit(out.byte(10));
  for (const [kind, objects] of kinds) {
    let group: AnyObject[] = [];
    for (const obj of objects) {
      group.push(obj);
      if (group.length < OBJECTS_PER_LINE) continue;
      line(kind, group);
      group = [];
      yield* chunks.splice(0);
    }
    if (group.length > 0) line(kind, group);
    yield* chunks.splice(0);
  }
  if (n !== count) throw new Error(`snapshot: expected ${count} objects, wrote ${n}`);
  const last = out.take();
  if (last) yield last;
  yield Buffer.from(JSON.stringify({ end: true, count: n, crc: out.crc }) + '\n', 'utf8');
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
  if (header.version !== FORMAT_VERSION && header.version !== 1) {
    throw new Error(
      `unsupported snapshot format version ${header.version} (this build reads ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION})`,
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
