/**
 * Loading a store directory: the manifest, the snapshot, then the journal records after it.
 * Used by the writer at open (recovery), by read-only followers (initial load and reloads) and
 * by `store recover`. Every file is checked against the others (layout.ts): a missing, damaged,
 * older or foreign file is refused with `StoreCorruptError` naming it, never loaded partly.
 * The journal is opened before the snapshot is read: the writer renames a new snapshot before
 * it renames the new journal, so the snapshot read is never older than the journal's base.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreCorruptError, StoreNotFoundError } from './errors.js';
import {
  decodeJournalHeader,
  scanRecords,
  type JournalHeader,
  type JournalRecord,
  type ScanEnd,
} from './journal.js';
import { resolveChanges, type Lookup } from './journal-delta.js';
import { checkLayout, JOURNAL_FILE, SNAPSHOT_FILE, type Layout } from './layout.js';
import { MANIFEST_FILE, readManifest, type Manifest } from './manifest.js';
import { decodeSnapshot, type SnapshotHeader } from './snapshot.js';
import { StoreState } from './state.js';
import type { AnyObject, Change, ChangeEvent } from './types.js';

export { JOURNAL_FILE, SNAPSHOT_FILE } from './layout.js';

/** A loaded directory. */
export interface Loaded {
  readonly state: StoreState;
  /** The journal commits replayed after the snapshot (the watch history). */
  readonly events: ChangeEvent[];
  readonly snapshotRevision: number;
  /** How the files relate (current, format 1, interrupted compaction); see layout.ts. */
  readonly layout: Layout;
  /** The manifest read (absent for a format-1 store). */
  readonly manifest?: Manifest;
  /** The highest generation among the files (0 for format 1). */
  readonly generation: number;
  /** The store's id (0 for format 1 and for stores written before ids). */
  readonly store: number;
  /** The open journal. */
  readonly journal: {
    readonly handle: FileHandle;
    readonly ino: number;
    readonly header: JournalHeader;
    /** End of the last complete record. */
    readonly offset: number;
    /** Set when the journal ends with a record cut short by the end of the file. */
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
 * The changes of record `r`, its list edits applied to `state` (the state it follows); a record
 * that does not fit that state is damaged: `StoreCorruptError` naming its offset and revision.
 */
export function resolveRecord(
  dir: string,
  state: StoreState,
  r: JournalRecord,
  previous: Lookup = (kind, id) => state.get(kind, id),
): Change[] {
  try {
    return resolveChanges(r.changes, previous);
  } catch (e) {
    const end = { kind: 'corrupt', offset: r.offset, revision: r.revision } as const;
    throw new StoreCorruptError(corruptMessage(dir, { ...end, reason: (e as Error).message }), {
      cause: e,
    });
  }
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
    const changes = freezeChanges(resolveRecord(dir, state, r));
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

async function loadSnapshot(dir: string, state: StoreState): Promise<SnapshotHeader | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, SNAPSHOT_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const header = decodeSnapshot(buf, (kind, obj) =>
      state.put(kind, deepFreeze(obj) as AnyObject),
    );
    state.revision = header.revision;
    return header;
  } catch (e) {
    throw new StoreCorruptError(`store ${dir}: ${SNAPSHOT_FILE}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Loads `dir`; throws `StoreNotFoundError` when it holds no store and `StoreCorruptError`
 * naming the file (and offset and revision) when a file is missing, damaged, older or
 * foreign. The caller owns the journal handle.
 */
export async function loadDir(dir: string): Promise<Loaded> {
  const manifest = await readManifest(dir);
  const handle = await openJournal(dir);
  try {
    const journalBuf = handle ? await handle.readFile() : undefined;
    const ino = handle ? (await handle.stat()).ino : 0;
    const state = new StoreState();
    const snapshot = await loadSnapshot(dir, state);
    const snapshotRevision = state.revision;
    let header: JournalHeader | undefined;
    if (journalBuf) {
      const h = decodeJournalHeader(journalBuf);
      if ('error' in h) throw new StoreCorruptError(`store ${dir}: ${JOURNAL_FILE}: ${h.error}`);
      header = h;
    }
    const layout = checkLayout(dir, {
      manifest,
      snapshot,
      journal: header,
      journalRecords: !!header && journalBuf!.length > header.size,
    });
    if (!handle || !header) throw new StoreNotFoundError(`no store at ${dir}`); // checkLayout refused any other case
    const scan = scanRecords(journalBuf!.subarray(header.size), header.size);
    if (scan.end.kind === 'corrupt') {
      // a record whose header is damaged is the one after the last good one
      const last = scan.records[scan.records.length - 1]?.revision ?? header.baseRevision;
      const end = { ...scan.end, revision: scan.end.revision ?? last + 1 };
      throw new StoreCorruptError(corruptMessage(dir, end));
    }
    const events = replay(dir, state, scan.records);
    const offset =
      scan.records.length > 0 ? scan.records[scan.records.length - 1]!.end : header.size;
    if (manifest && state.revision < manifest.revision) {
      const cut =
        scan.end.kind === 'torn'
          ? `, then a record cut short at byte offset ${scan.end.offset}`
          : '';
      throw new StoreCorruptError(
        `store ${dir}: ${JOURNAL_FILE} ends at revision ${state.revision} (byte offset ${offset}${cut}) but ${MANIFEST_FILE} says revision ${manifest.revision} was committed: acknowledged commits are missing`,
      );
    }
    const journal = { handle, ino, header, offset };
    return {
      state,
      events,
      snapshotRevision,
      layout,
      store: manifest?.store ?? snapshot?.store ?? header.store,
      generation: Math.max(manifest?.generation ?? 0, snapshot?.generation ?? 0, header.generation),
      ...(manifest ? { manifest } : {}),
      journal: scan.end.kind === 'torn' ? { ...journal, torn: scan.end } : journal,
    };
  } catch (e) {
    await handle?.close();
    throw e;
  }
}

/**
 * `loadDir` for readers that do not hold the lock: a load that fails while the manifest
 * changes under it (a writer compacting meanwhile) is retried; damage that stays is thrown.
 */
export async function loadDirUnlocked(dir: string): Promise<Loaded> {
  for (let attempt = 0; ; attempt++) {
    const before = await readManifestBytes(dir);
    try {
      return await loadDir(dir);
    } catch (e) {
      if (!(e instanceof StoreCorruptError) || attempt >= 50) throw e;
      const after = await readManifestBytes(dir);
      if (before.equals(after)) throw e;
    }
  }
}

async function readManifestBytes(dir: string): Promise<Buffer> {
  return readFile(join(dir, MANIFEST_FILE)).catch(() => Buffer.alloc(0));
}
