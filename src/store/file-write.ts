/**
 * Writing the files of a store directory: whole files atomically (temp file, fsync, rename,
 * fsync the directory) and a new generation (snapshot, then journal, then manifest), shared by
 * the writer's compaction, store creation and `store recover`.
 */
import { randomInt } from 'node:crypto';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeJournalHeader } from './journal.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from './layout.js';
import { encodeManifest, MANIFEST_FILE, type Manifest } from './manifest.js';
import { encodeSnapshotKinds } from './snapshot.js';
import { KINDS, type AnyObject, type Kind } from './types.js';

/** What a snapshot is written from: a `StoreState`, or the state a bulk commit leads to. */
export interface SnapshotSource {
  readonly revision: number;
  count(): number;
  objects(kind: Kind): { values(): Iterable<AnyObject> };
}

/** fsyncs a directory (makes its renames durable). */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes all of `buf` at `position` (or at the file position). */
export async function writeAll(h: FileHandle, buf: Buffer, position?: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await h.write(
      buf,
      off,
      buf.length - off,
      position === undefined ? null : position + off,
    );
    off += bytesWritten;
  }
}

/** Bytes written to a temp file between two syncs started in the background (see
 * `writeTemp`). */
const SYNC_EVERY_BYTES = 16 << 20;

/** Writes `chunks` to `dir/name.tmp` and fsyncs it (not yet renamed). The next chunk is made
 * (a snapshot's chunks are serialized as they are asked for) while the last one is written;
 * the write of chunk k is over before chunk k + 2 is asked for (so a generator may reuse its
 * buffer then: `encodeSnapshotKinds`'s `reuse`). Every 16 MiB a datasync of what is written
 * so far starts in the background (one at a time), so the disk writes a large file while the
 * rest is made and the final fsync waits only for the tail (at 10,000 instances a 117 MiB
 * snapshot's fsync went from about 100 ms to 20-30 ms). The file counts as written only after
 * that final fsync, as before; a failed background sync fails the write. */
async function writeTemp(dir: string, name: string, chunks: Iterable<Buffer>): Promise<string> {
  const tmp = join(dir, `${name}.tmp`);
  const h = await open(tmp, 'w', 0o644);
  let writing: Promise<void> | undefined;
  let syncing: Promise<void> | undefined;
  let syncFailure: { error: unknown } | undefined;
  try {
    let offset = 0;
    let unsynced = 0;
    for (const c of chunks) {
      await writing;
      if (syncFailure) throw syncFailure.error;
      writing = writeAll(h, c, offset);
      offset += c.length;
      unsynced += c.length;
      if (unsynced >= SYNC_EVERY_BYTES && syncing === undefined) {
        unsynced = 0;
        // after the write just started (a failed write is thrown by the await above)
        syncing = writing.then(
          () =>
            h.datasync().then(
              () => (syncing = undefined),
              (error: unknown) => void (syncFailure ??= { error }),
            ),
          () => undefined,
        );
      }
    }
    await writing;
    await syncing;
    if (syncFailure) throw syncFailure.error;
    await h.sync();
  } finally {
    // a failed chunk leaves no write or sync running on a closed handle
    await writing?.catch(() => undefined);
    await syncing;
    await h.close();
  }
  return tmp;
}

/** Writes `chunks` to `dir/name` atomically: temp file, fsync, rename, fsync directory. */
export async function replaceFile(
  dir: string,
  name: string,
  chunks: Iterable<Buffer>,
): Promise<void> {
  const tmp = await writeTemp(dir, name, chunks);
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
}

/** The objects of `state`, kind by kind. */
function* objectsByKind(state: SnapshotSource): Generator<readonly [Kind, Iterable<AnyObject>]> {
  for (const kind of KINDS) yield [kind, state.objects(kind).values()];
}

/** Where a generation switch got to when it failed (see `writeGeneration`). */
export class GenerationWriteError extends Error {
  override readonly name = 'GenerationWriteError';
  constructor(
    message: string,
    /** True once the new snapshot replaced the old one: the old journal must not grow. */
    readonly snapshotReplaced: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/** A new store id: random, never 0 (0 marks files written before ids existed). */
export function newStoreId(): number {
  return randomInt(1, 2 ** 32 - 1);
}

/**
 * Writes generation `generation` of store `store` from `state` into `dir`: the snapshot and a fresh journal to
 * temp files (fsynced), renames the snapshot, then the journal, fsyncs the directory, and
 * finally writes the manifest (in place through `manifest` when given, else atomically).
 * Returns the new journal, open for appending. Every crash point leaves a loadable directory
 * (layout.ts: `current` or `compacting`).
 */
export async function writeGeneration(
  dir: string,
  state: SnapshotSource,
  id: { readonly store: number; readonly generation: number },
  writeManifest?: (m: Manifest) => Promise<void>,
): Promise<FileHandle> {
  const { store, generation } = id;
  const revision = state.revision;
  const snap = await writeTemp(
    dir,
    SNAPSHOT_FILE,
    encodeSnapshotKinds(revision, objectsByKind(state), state.count(), generation, store, {
      reuse: true, // writeTemp is done with chunk k before it asks for chunk k + 2
    }),
  );
  const tmp = join(dir, `${JOURNAL_FILE}.tmp`);
  const fresh = await open(tmp, 'w+', 0o644);
  let snapshotReplaced = false;
  try {
    await writeAll(fresh, encodeJournalHeader(revision, generation, store), 0);
    await fresh.sync();
    await rename(snap, join(dir, SNAPSHOT_FILE));
    snapshotReplaced = true;
    // The handle is opened before the rename, so it always names the file at the path.
    await rename(tmp, join(dir, JOURNAL_FILE));
    await fsyncDir(dir);
    const m: Manifest = { store, generation, baseRevision: revision, revision };
    if (writeManifest) await writeManifest(m);
    else await replaceFile(dir, MANIFEST_FILE, [encodeManifest(m)]);
    return fresh;
  } catch (e) {
    await fresh.close();
    throw new GenerationWriteError(
      `store ${dir}: writing generation ${generation} failed`,
      snapshotReplaced,
      {
        cause: e,
      },
    );
  }
}
