/**
 * Which files a store directory must hold, and how they must agree. A format-2 store holds
 * `MANIFEST`, `snapshot.ndjson` and `journal.log` of one generation; the only other accepted
 * state is a compaction interrupted between its renames (the snapshot, and maybe the journal,
 * one generation ahead of the manifest). Anything else — a file missing, from another
 * generation, older than the manifest, or of format 1 beside a manifest — is refused, naming
 * the file and what was expected. A directory with none of the files holds no store.
 */
import { StoreCorruptError, StoreNotFoundError } from './errors.js';
import type { JournalHeader } from './journal.js';
import type { SnapshotHeader } from './snapshot.js';
import { MANIFEST_FILE, type Manifest } from './manifest.js';

export const SNAPSHOT_FILE = 'snapshot.ndjson';
export const JOURNAL_FILE = 'journal.log';

/**
 * How the files of a loadable directory relate: `current` (one generation, as the manifest
 * says), `compacting` (a compaction stopped between its renames; the writer finishes it) or
 * `format-1` (written before manifests existed; the writer upgrades it at open).
 */
export type Layout = 'current' | 'compacting' | 'format-1';

/** What the loader found in the directory. */
export interface Found {
  readonly manifest: Manifest | undefined;
  readonly snapshot: SnapshotHeader | undefined;
  readonly journal: JournalHeader | undefined;
  /** Whether the journal holds any byte after its header. */
  readonly journalRecords: boolean;
}

const RECOVER = 'see `eucanetd store recover`';

function refuse(dir: string, what: string): never {
  throw new StoreCorruptError(`store ${dir}: ${what}; nothing was changed (${RECOVER})`);
}

/** A store id as operators see it (8 hex digits). */
function hex(id: number): string {
  return id.toString(16).padStart(8, '0');
}

function generationOf(s: SnapshotHeader): number {
  return s.version === 1 ? 0 : (s.generation ?? 0);
}

/** Checks the files against each other; returns the layout or throws naming the file. */
export function checkLayout(dir: string, found: Found): Layout {
  const { manifest, snapshot, journal } = found;
  if (!manifest) return withoutManifest(dir, found);
  const m = `${MANIFEST_FILE} (generation ${manifest.generation}, revisions ${manifest.baseRevision}..${manifest.revision})`;
  if (!snapshot && !journal) refuse(dir, `${SNAPSHOT_FILE} and ${JOURNAL_FILE} are missing, ${m}`);
  if (!snapshot) refuse(dir, `${SNAPSHOT_FILE} is missing, ${m}`);
  if (!journal) refuse(dir, `${JOURNAL_FILE} is missing, ${m}`);
  if (snapshot.version === 1) refuse(dir, `${SNAPSHOT_FILE} is format 1, older than ${m}`);
  if (journal.version === 1) refuse(dir, `${JOURNAL_FILE} is format 1, older than ${m}`);
  for (const [file, id] of [
    [SNAPSHOT_FILE, snapshot.store ?? 0],
    [JOURNAL_FILE, journal.store],
  ] as const) {
    if (id !== manifest.store)
      refuse(
        dir,
        `${file} is from store ${hex(id)}, ${MANIFEST_FILE} from store ${hex(manifest.store)}: a copy from another store`,
      );
  }
  const sg = generationOf(snapshot);
  const s = `${SNAPSHOT_FILE} is generation ${sg} at revision ${snapshot.revision}`;
  const j = `${JOURNAL_FILE} is generation ${journal.generation} from revision ${journal.baseRevision}`;
  if (sg === manifest.generation) {
    if (snapshot.revision !== manifest.baseRevision) refuse(dir, `${s}, ${m}`);
    if (journal.generation !== sg || journal.baseRevision !== snapshot.revision)
      refuse(dir, `${j}, ${m}`);
    return 'current';
  }
  // A compaction renames the snapshot, then the journal, then rewrites the manifest: the
  // snapshot (and maybe the journal) may be one generation ahead, holding every commit.
  if (sg === manifest.generation + 1 && snapshot.revision >= manifest.revision) {
    const oldJournal =
      journal.generation === manifest.generation && journal.baseRevision === manifest.baseRevision;
    const newJournal = journal.generation === sg && journal.baseRevision === snapshot.revision;
    if (!oldJournal && !newJournal) refuse(dir, `${j}, ${s}, ${m}`);
    return 'compacting';
  }
  return refuse(dir, `${s}, not what ${m} names: an older or foreign copy`);
}

function withoutManifest(dir: string, found: Found): Layout {
  const { snapshot, journal } = found;
  if (!snapshot && !journal) throw new StoreNotFoundError(`no store at ${dir}`);
  if (snapshot?.version === 1 || journal?.version === 1) return formatOne(dir, found);
  const s1 = snapshot && snapshot.generation === 1;
  const j1 = journal && journal.generation === 1 && !found.journalRecords;
  if (
    s1 &&
    j1 &&
    journal.baseRevision === snapshot.revision &&
    journal.store === (snapshot.store ?? 0)
  ) {
    // A new store writes its snapshot and journal (generation 1, revision 0), then the
    // manifest; an upgrade from format 1 does the same at the store's revision. Without the
    // manifest, those two hold no commit beyond the snapshot's.
    if (snapshot.revision === 0 && snapshot.count === 0)
      throw new StoreNotFoundError(`no store at ${dir} (an unfinished creation holds no commit)`);
    return 'compacting';
  }
  if (
    (s1 && !journal && snapshot.revision === 0) ||
    (j1 && !snapshot && journal.baseRevision === 0)
  )
    throw new StoreNotFoundError(`no store at ${dir} (an unfinished creation holds no commit)`);
  const present = [snapshot && SNAPSHOT_FILE, journal && JOURNAL_FILE]
    .filter(Boolean)
    .join(' and ');
  return refuse(dir, `${MANIFEST_FILE} is missing beside ${present}`);
}

/** A format-1 store (no generations, no manifest), or its upgrade stopped after the snapshot. */
function formatOne(dir: string, found: Found): Layout {
  const { snapshot, journal } = found;
  if (!journal) return refuse(dir, `${JOURNAL_FILE} is missing beside a format-1 ${SNAPSHOT_FILE}`);
  if (journal.version !== 1)
    return refuse(
      dir,
      `${SNAPSHOT_FILE} is format 1 but ${JOURNAL_FILE} is format ${journal.version}`,
    );
  if (snapshot && journal.baseRevision > snapshot.revision) {
    refuse(
      dir,
      `${JOURNAL_FILE} starts after revision ${journal.baseRevision} but ${SNAPSHOT_FILE} is at revision ${snapshot.revision}`,
    );
  }
  if (snapshot && snapshot.version !== 1) {
    // the upgrade renamed its generation-1 snapshot, then stopped before the new journal
    if (snapshot.generation !== 1)
      refuse(
        dir,
        `${SNAPSHOT_FILE} is generation ${String(snapshot.generation)} beside a format-1 ${JOURNAL_FILE}`,
      );
    return 'compacting';
  }
  return 'format-1';
}
