/**
 * Loading a store directory: the snapshot, then the journal records after it. Used by the
 * writer at open (recovery) and by read-only followers (initial load and reloads).
 * The journal is opened before the snapshot is read: the writer renames a new snapshot before
 * it renames the new journal, so the snapshot read is never older than the journal's base.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreCorruptError } from './errors.js';
import {
  decodeJournalHeader,
  decodeSnapshot,
  JOURNAL_HEADER_SIZE,
  scanRecords,
  type JournalRecord,
  type ScanEnd,
} from './journal.js';
import { StoreState } from './state.js';
import type { AnyObject, Change, ChangeEvent } from './types.js';

export const SNAPSHOT_FILE = 'snapshot.ndjson';
export const JOURNAL_FILE = 'journal.log';

/** A loaded directory. */
export interface Loaded {
  readonly state: StoreState;
  /** The journal commits replayed after the snapshot (the watch history). */
  readonly events: ChangeEvent[];
  readonly snapshotRevision: number;
  /** The open journal (absent when the directory has none yet). */
  readonly journal?: {
    readonly handle: FileHandle;
    readonly ino: number;
    readonly baseRevision: number;
    /** End of the last complete record. */
    readonly offset: number;
    /** Set when the journal ends with an incomplete record. */
    readonly torn?: Extract<ScanEnd, { kind: 'torn' }>;
  };
}

/** Freezes a decoded (plain JSON) value and everything inside it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (const e of v) if (typeof e === 'object' && e !== null) deepFreeze(e);
  } else {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const e = o[k];
      if (typeof e === 'object' && e !== null) deepFreeze(e);
    }
  }
  return Object.freeze(v);
}

function freezeChanges(changes: readonly Change[]): readonly Change[] {
  for (const c of changes) if (c.object) deepFreeze(c.object);
  return deepFreeze(changes);
}

/** Describes a damaged record for the operator (byte offset and revision). */
export function corruptMessage(dir: string, end: Extract<ScanEnd, { kind: 'corrupt' }>): string {
  const rev = end.revision !== undefined ? ` (revision ${end.revision})` : '';
  return `store ${dir}: ${JOURNAL_FILE} record at byte offset ${end.offset}${rev} is damaged: ${end.reason}`;
}

/**
 * Replays journal records onto `state`: records at or below its revision are skipped; the
 * next must be exactly one higher. Returns the events applied.
 */
export function replay(
  dir: string,
  state: StoreState,
  records: readonly JournalRecord[],
): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  for (const r of records) {
    if (r.revision <= state.revision) continue;
    if (r.revision !== state.revision + 1) {
      throw new StoreCorruptError(
        `store ${dir}: ${JOURNAL_FILE} record at byte offset ${r.offset} has revision ${r.revision}, expected ${state.revision + 1}`,
      );
    }
    const changes = freezeChanges(r.changes);
    state.apply(changes, r.revision);
    events.push({ revision: r.revision, changes });
  }
  return events;
}

async function openJournal(dir: string): Promise<FileHandle | undefined> {
  try {
    return await open(join(dir, JOURNAL_FILE), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function loadSnapshot(dir: string, state: StoreState): Promise<void> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, SNAPSHOT_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    const header = decodeSnapshot(buf, (kind, obj) =>
      state.put(kind, deepFreeze(obj) as AnyObject),
    );
    state.revision = header.revision;
  } catch (e) {
    throw new StoreCorruptError(`store ${dir}: ${SNAPSHOT_FILE}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** Loads `dir`; throws `StoreCorruptError` on a damaged file. The caller owns the handle. */
export async function loadDir(dir: string): Promise<Loaded> {
  const handle = await openJournal(dir);
  try {
    const journalBuf = handle ? await handle.readFile() : undefined;
    const ino = handle ? (await handle.stat()).ino : 0;
    const state = new StoreState();
    await loadSnapshot(dir, state);
    const snapshotRevision = state.revision;
    if (!handle || !journalBuf) return { state, events: [], snapshotRevision };
    const header = decodeJournalHeader(journalBuf);
    if ('error' in header)
      throw new StoreCorruptError(`store ${dir}: ${JOURNAL_FILE}: ${header.error}`);
    if (header.baseRevision > snapshotRevision) {
      throw new StoreCorruptError(
        `store ${dir}: ${JOURNAL_FILE} starts after revision ${header.baseRevision} but ${SNAPSHOT_FILE} is at revision ${snapshotRevision}`,
      );
    }
    const scan = scanRecords(journalBuf.subarray(JOURNAL_HEADER_SIZE), JOURNAL_HEADER_SIZE);
    if (scan.end.kind === 'corrupt') throw new StoreCorruptError(corruptMessage(dir, scan.end));
    const events = replay(dir, state, scan.records);
    const offset =
      scan.records.length > 0 ? scan.records[scan.records.length - 1]!.end : JOURNAL_HEADER_SIZE;
    const journal = { handle, ino, baseRevision: header.baseRevision, offset };
    return {
      state,
      events,
      snapshotRevision,
      journal: scan.end.kind === 'torn' ? { ...journal, torn: scan.end } : journal,
    };
  } catch (e) {
    await handle?.close();
    throw e;
  }
}
