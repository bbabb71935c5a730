/**
 * The store part of a cold build's floor (bench-first-cycle; bench-build's floors of persisting): what a file store cannot skip when
 * it takes every object of a build as one commit. One entry per object in a fresh id table of
 * its kind (the state's tables); the snapshot's JSON of every object (`JSON.stringify` of
 * `OBJECTS_PER_SLICE` objects at a time, copied as latin1 into a reused buffer of
 * `SNAPSHOT_CHUNK_BYTES`, as the snapshot writer does for ASCII text) written chunk by chunk to a file; one fsync of that file. The writes and the
 * fsync are timed apart from the JSON (the daemon's snapshot writer overlaps them with the
 * encoding). No validation, no back-references, no indexes by name, no header or checksum.
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { OBJECTS_PER_SLICE, SNAPSHOT_CHUNK_BYTES } from '../../src/store/snapshot.js';

/** The store floor's parts, in ms, and the snapshot's size in bytes. */
export interface StoreFloor {
  readonly tables: number;
  /** Stringifying and copying into the buffer. */
  readonly json: number;
  /** Writing the buffers and the fsync. */
  readonly write: number;
  readonly bytes: number;
}

/**
 * Times the store floor: the entries of each of `byId` go into a fresh table; `objects` (per
 * kind, the objects a snapshot holds) are written as JSON to a file in a fresh directory under
 * `dir`, which is removed afterwards.
 */
export function storeFloor(
  byId: readonly ReadonlyMap<string, object>[],
  objects: readonly (readonly object[])[],
  dir: string,
): StoreFloor {
  let t = performance.now();
  const tables = byId.map((m) => {
    const table = new Map<string, object>();
    m.forEach((o, id) => table.set(id, o));
    return table;
  });
  const tablesMs = performance.now() - t;
  if (tables.length !== byId.length) throw new Error('store floor: lost a table');
  const where = mkdtempSync(join(dir, 'floor-store-'));
  try {
    const fd = openSync(join(where, 'snapshot.tmp'), 'w');
    try {
      const buf = Buffer.allocUnsafe(SNAPSHOT_CHUNK_BYTES);
      let used = 0;
      let bytes = 0;
      let write = 0;
      const flush = (): void => {
        const w = performance.now();
        writeSync(fd, buf, 0, used);
        write += performance.now() - w;
        bytes += used;
        used = 0;
      };
      t = performance.now();
      for (const list of objects) {
        for (let i = 0; i < list.length; i += OBJECTS_PER_SLICE) {
          const text = JSON.stringify(list.slice(i, i + OBJECTS_PER_SLICE));
          if (used + text.length * 3 > SNAPSHOT_CHUNK_BYTES) flush();
          used += buf.write(text, used, 'latin1');
        }
      }
      flush();
      const json = performance.now() - t - write;
      t = performance.now();
      fsyncSync(fd);
      write += performance.now() - t;
      return { tables: tablesMs, json, write, bytes };
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(where, { recursive: true, force: true });
  }
}
