/**
 * The snapshot file of the file backend (`snapshot.ndjson`), as pure encode/decode functions:
 * a header line (format 2 adds the generation and the store id), lines of
 * `[kind, [object, …]]` (one kind per line, up to 2,000 objects), and a trailer line with the
 * object count and the crc32 of every byte before it. This build writes format 2 and reads
 * formats 1 and 2 (journal.ts holds the version constants and the journal format).
 *
 * Encoding writes each line straight into chunk buffers of about 4 MiB instead of making a
 * string and a Buffer per line: a line's objects are stringified in slices of 128 and each
 * slice's JSON is written where it belongs (JSON.stringify builds a large result as a tree of
 * parts that must be copied flat before it can be encoded, for a 500 KiB line into a fresh
 * large-object allocation, while a slice's result stays small); an ASCII slice (the store's
 * objects almost always are) is copied as latin1, the same bytes several times faster than
 * UTF-8 encoding. The file backend reuses two chunk buffers (`reuse`): writing 117 MiB into
 * freshly allocated memory costs a page fault per 4 KiB, about 0.3 s at 10,000 instances. The
 * bytes are exactly those of `JSON.stringify(line) + '\n'` per line, in UTF-8 (the slices'
 * JSON joined by commas, which is what JSON.stringify writes between array elements).
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
export const OBJECTS_PER_SLICE = 128;

/** Writes text into chunk buffers; keeps the running crc of the chunks taken. */
class ChunkWriter {
  /** The buffer being filled, whole. */
  private buf: Buffer;
  /** The buffer of the chunk taken before the last one (reused when `reuse`). */
  private spare: Buffer | undefined;
  /** The buffer of the chunk taken last. */
  private last: Buffer | undefined;
  private used = 0;
  crc = 0;

  constructor(
    private readonly chunkBytes: number,
    private readonly reuse: boolean,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Whether `text` fits beside what the chunk holds. */
  fits(text: string): boolean {
    // a UTF-16 code unit is at most 3 bytes of UTF-8
    return this.used + text.length * 3 + 1 <= this.buf.length;
  }

  /** Writes `text`, which must fit. `join`: `text` is a JSON array to append to the one just
   * written (its `[` replaces that one's `]` and becomes a comma). */
  write(text: string, join = false): void {
    // the UTF-8 length is the string's length exactly when every character is ASCII, and
    // then its latin1 bytes (a plain copy) are the same bytes
    const encoding = Buffer.byteLength(text, 'utf8') === text.length ? 'latin1' : 'utf8';
    if (join) {
      const at = this.used - 1;
      this.used = at + this.buf.write(text, at, encoding);
      this.buf[at] = 44; // ,
    } else this.used += this.buf.write(text, this.used, encoding);
  }

  /** The bytes written since the last chunk (crc updated), or undefined if none. `join`:
   * the next text joins the array written last, whose `]` is left for it to replace. */
  take(join = false): Buffer | undefined {
    const end = join ? this.used - 1 : this.used;
    if (end === 0) return undefined;
    const chunk = this.buf.subarray(0, end);
    this.crc = crc32(chunk, this.crc);
    this.spare = this.last;
    this.last = this.buf;
    this.used = 0;
    return chunk;
  }

  /** Continues in an empty buffer with room for `text` (after `take`). */
  renew(text: string, join = false): void {
    const room = text.length * 3 + 2;
    const spare = this.reuse ? this.spare : undefined;
    this.spare = undefined;
    this.buf =
      spare !== undefined && spare.length >= room
        ? spare
        : Buffer.allocUnsafe(Math.max(this.chunkBytes, room));
    if (join) this.used = 1; // the place of the `]` that text replaces
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

/** How `encodeSnapshotKinds` makes its chunks. */
export interface ChunkOptions {
  /** Bytes per chunk (a longer slice gets a chunk of its own; default 4 MiB). */
  readonly chunkBytes?: number;
  /**
   * Reuse chunk buffers (default false: every chunk is a buffer of its own). A chunk then stays
   * valid only until the second `next()` after the one that returned it: the consumer must be
   * done with chunk k before it asks for chunk k + 2 (the file backend's writer awaits the
   * write of chunk k before it asks for chunk k + 2).
   */
  readonly reuse?: boolean;
}

/**
 * `encodeSnapshot` from the objects of each kind in turn (what the file backend writes from
 * its state): the same bytes, without a pair per object.
 */
export function* encodeSnapshotKinds(
  revision: number,
  kinds: Iterable<readonly [Kind, Iterable<AnyObject>]>,
  count: number,
  generation = 1,
  store = 0,
  options: ChunkOptions = {},
): Generator<Buffer> {
  const header: SnapshotHeader = {
    format: 'eucanetd-store-snapshot',
    version: FORMAT_VERSION,
    store,
    generation,
    revision,
    count,
  };
  const out = new ChunkWriter(options.chunkBytes ?? SNAPSHOT_CHUNK_BYTES, options.reuse ?? false);
  /** Writes `text` (see `ChunkWriter.write`), first yielding the chunk when it is full. The
   * buffer is renewed only when the generator resumes: the consumer has had the chunk. */
  function* put(text: string, join = false): Generator<Buffer> {
    if (!out.fits(text)) {
      const full = out.take(join);
      if (full) yield full;
      out.renew(text, join);
    }
    out.write(text, join);
  }
  /** The line `[kind, objects]` (1 to OBJECTS_PER_LINE objects). */
  function* line(kind: Kind, objects: readonly AnyObject[]): Generator<Buffer> {
    yield* put(`[${JSON.stringify(kind)},`);
    for (let i = 0; i < objects.length; i += OBJECTS_PER_SLICE)
      yield* put(JSON.stringify(objects.slice(i, i + OBJECTS_PER_SLICE)), i > 0);
    yield* put(']\n');
  }
  let n = 0;
  yield* put(JSON.stringify(header) + '\n');
  for (const [kind, objects] of kinds) {
    let group: AnyObject[] = [];
    for (const obj of objects) {
      group.push(obj);
      if (group.length < OBJECTS_PER_LINE) continue;
      yield* line(kind, group);
      n += group.length;
      group = [];
    }
    if (group.length === 0) continue;
    yield* line(kind, group);
    n += group.length;
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
