/**
 * Hand-made store directories for tests: the files a store of format 2 holds (snapshot,
 * journal, manifest of generation 1) around objects the test chooses, so a test can load a
 * state the store itself would never commit (broken bindings).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeJournalHeader } from '../../src/store/journal.js';
import { encodeSnapshot } from '../../src/store/snapshot.js';
import { encodeManifest } from '../../src/store/manifest.js';
import type { AnyObject, Kind } from '../../src/store/index.js';

/** Writes a generation-1 store at `revision` holding `objects` (and no journal record). */
export async function writeStoreFiles(
  dir: string,
  revision: number,
  objects: readonly (readonly [Kind, AnyObject])[],
): Promise<void> {
  await writeFile(
    join(dir, 'snapshot.ndjson'),
    Buffer.concat([...encodeSnapshot(revision, objects, objects.length, 1)]),
  );
  await writeFile(join(dir, 'journal.log'), encodeJournalHeader(revision, 1));
  await writeFile(
    join(dir, 'MANIFEST'),
    encodeManifest({ store: 0, generation: 1, baseRevision: revision, revision }),
  );
}
