/**
 * Recovery of a refused file store, on the operator's word only (`eucanetd store recover`):
 * `planRecovery` reads whatever is still readable (the snapshot, the journal records that
 * follow it without a gap or damage, the manifest's committed revision) and says what keeping
 * revisions up to N would drop; `recoverStore` does it under the writer lock: it copies the
 * current files into `damaged-<time>/` beside them, then writes the state at N as a new
 * generation. Nothing here runs automatically.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/index.js';
import { StoreCorruptError, StoreError, StoreNotFoundError } from './errors.js';
import { loadDir } from './file-load.js';
import { fsyncDir, writeGeneration } from './file-write.js';
import { decodeJournalHeader, scanRecords, type JournalRecord } from './journal.js';
import { decodeSnapshot } from './snapshot.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from './layout.js';
import { acquireLock } from './lock.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';
import { StoreState } from './state.js';
import { resolveChanges, type Lookup } from './journal-delta.js';
import type { AnyObject, Change } from './types.js';
import { verifyState } from './verify.js';

/** One commit (or range of commits) a recovery would drop, for the operator. */
export interface Dropped {
  /** First revision (and last, for a range). */
  readonly revision: number;
  readonly last?: number;
  /** Where in journal.log, when it is there. */
  readonly offset?: number;
  readonly what: string;
}

/** What recovering to a revision would keep and drop. */
export interface RecoveryPlan {
  readonly dir: string;
  /** Why the store is refused now (undefined: it opens as it is). */
  readonly problem: string | undefined;
  /** Revision of the snapshot recovery starts from (0: rebuilt from the journal alone). */
  readonly snapshotRevision: number;
  /** The highest revision the readable files reach without a gap or damage. */
  readonly recoverable: number;
  /** The revision the manifest says was committed, when it is readable. */
  readonly committed: number | undefined;
  /** The revision the store would hold. */
  readonly toRevision: number;
  /** What would be dropped, in revision order. */
  readonly dropped: readonly Dropped[];
  /** The highest generation among the files (the recovered store gets the next). */
  readonly generation: number;
  /** The store's id, kept by the recovered store. */
  readonly store: number;
}

interface Readable {
  readonly plan: RecoveryPlan;
  readonly state: StoreState;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describe(r: JournalRecord): string {
  const names = r.changes.map((c) => `${c.type} ${c.kind}/${c.id}`);
  const shown = names.slice(0, 4).join(', ');
  return `${r.changes.length} change(s): ${shown}${names.length > 4 ? ', …' : ''}`;
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The state of the snapshot, or an empty one when the journal starts at revision 0. */
function baseState(dir: string, snapshot: Buffer | undefined, journalBase: number | undefined) {
  const state = new StoreState();
  let generation = 0;
  let store = 0;
  let problem = snapshot ? undefined : 'missing';
  if (snapshot) {
    try {
      const h = decodeSnapshot(snapshot, (kind, obj) => state.put(kind, obj as AnyObject));
      state.revision = h.revision;
      generation = h.generation ?? 0;
      store = h.store ?? 0;
    } catch (e) {
      problem = errorText(e);
    }
  }
  if (problem === undefined) return { state, generation, store };
  if (journalBase === 0) return { state: new StoreState(), generation, store };
  throw new StoreCorruptError(
    `store ${dir}: cannot recover: ${SNAPSHOT_FILE} is unreadable (${problem}) and ${JOURNAL_FILE} does not start at revision 0; restore the directory from a backup`,
  );
}

/** Reads what is readable and plans a recovery to `toRevision` (default: the most). */
async function readable(dir: string, toRevision?: number): Promise<Readable> {
  let problem: string | undefined;
  try {
    const loaded = await loadDir(dir);
    await loaded.journal.handle.close();
  } catch (e) {
    if (e instanceof StoreNotFoundError) throw e;
    if (!(e instanceof StoreCorruptError)) throw e;
    problem = e.message;
  }
  const manifest = await readManifest(dir).catch(() => undefined);
  const journalBuf = await readOptional(join(dir, JOURNAL_FILE));
  const header = journalBuf ? decodeJournalHeader(journalBuf) : undefined;
  const jh = header && !('error' in header) ? header : undefined;
  const snap = await readOptional(join(dir, SNAPSHOT_FILE));
  const { state, generation, store } = baseState(dir, snap, jh?.baseRevision);
  const snapshotRevision = state.revision;
  const dropped: Dropped[] = [];
  const usable: { readonly r: JournalRecord; readonly changes: Change[] }[] = [];
  // the objects as the usable records leave them (list edits apply to these), over the snapshot
  const touched = new Map<string, AnyObject | null>();
  const previous: Lookup = (kind, id) => {
    const hit = touched.get(`${kind}/${id}`);
    return hit === undefined ? state.get(kind, id) : (hit ?? undefined);
  };
  let last = snapshotRevision;
  if (!journalBuf) dropped.push({ revision: last + 1, what: `${JOURNAL_FILE} is missing` });
  else if (!jh) {
    const why = header && 'error' in header ? header.error : 'unreadable';
    dropped.push({ revision: last + 1, what: `${JOURNAL_FILE} header: ${why}` });
  } else {
    const scan = scanRecords(journalBuf.subarray(jh.size), jh.size);
    let stopped: string | undefined;
    for (const r of scan.records) {
      if (!stopped && r.revision <= last) continue;
      if (!stopped && r.revision === last + 1) {
        try {
          const changes = resolveChanges(r.changes, previous);
          for (const c of changes) touched.set(`${c.kind}/${c.id}`, c.object ?? null);
          usable.push({ r, changes });
          last = r.revision;
        } catch (e) {
          stopped = 'after a damaged record';
          dropped.push({
            revision: r.revision,
            offset: r.offset,
            what: `damaged: ${errorText(e)}`,
          });
        }
        continue;
      }
      if (!stopped)
        dropped.push({
          revision: last + 1,
          offset: r.offset,
          what: `missing: the record at this offset has revision ${r.revision}`,
        });
      stopped ??= 'after a gap';
      dropped.push({ revision: r.revision, offset: r.offset, what: `${stopped}: ${describe(r)}` });
    }
    if (scan.end.kind !== 'clean' && !stopped) {
      const rev = scan.end.revision ?? last + 1;
      const kind = scan.end.kind === 'torn' ? 'cut short' : 'damaged';
      dropped.push({
        revision: rev,
        offset: scan.end.offset,
        what: `${kind}: ${scan.end.reason}`,
      });
    }
  }
  const recoverable = last;
  const to = toRevision ?? recoverable;
  if (!Number.isInteger(to) || to < snapshotRevision || to > recoverable) {
    throw new StoreError(
      `store ${dir}: --to-revision ${to} is outside the recoverable range ${snapshotRevision}..${recoverable}`,
    );
  }
  const kept: Dropped[] = usable
    .filter(({ r }) => r.revision > to)
    .map(({ r }) => ({ revision: r.revision, offset: r.offset, what: describe(r) }));
  const highest = Math.max(recoverable, ...dropped.map((d) => d.revision));
  const committed = manifest?.revision;
  const missing: Dropped[] =
    committed !== undefined && committed > highest
      ? [{ revision: highest + 1, last: committed, what: `missing from ${JOURNAL_FILE}` }]
      : [];
  for (const { r, changes } of usable) if (r.revision <= to) state.apply(changes, r.revision);
  const plan: RecoveryPlan = {
    dir,
    problem,
    snapshotRevision,
    recoverable,
    committed,
    toRevision: to,
    dropped: [...kept, ...dropped, ...missing],
    generation: Math.max(generation, jh?.generation ?? 0, manifest?.generation ?? 0),
    store: manifest?.store || store || jh?.store || 0,
  };
  return { plan, state };
}

/** Plans a recovery of `dir` to `toRevision` (default: the highest recoverable). */
export async function planRecovery(dir: string, toRevision?: number): Promise<RecoveryPlan> {
  return (await readable(dir, toRevision)).plan;
}

/**
 * Recovers `dir` to `toRevision` under the writer lock: checks the state's bindings, copies the
 * current files into `damaged-<time>/`, then writes the state as the next generation. Logs
 * `store recovered` (warn) with what was dropped. Returns the plan and where the old files are.
 */
export async function recoverStore(
  dir: string,
  toRevision: number,
  logger: Logger,
): Promise<{ plan: RecoveryPlan; savedTo: string }> {
  const lock = acquireLock(dir);
  try {
    const { plan, state } = await readable(dir, toRevision);
    const problems = verifyState(state, 20);
    if (problems.length > 0) {
      throw new StoreCorruptError(
        `store ${dir}: revision ${toRevision} has broken bindings, not recovered: ${problems.map((p) => p.message).join('; ')}`,
      );
    }
    const savedTo = join(dir, `damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`);
    await mkdir(savedTo);
    for (const f of [MANIFEST_FILE, SNAPSHOT_FILE, JOURNAL_FILE]) {
      await copyFile(join(dir, f), join(savedTo, f)).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    await fsyncDir(savedTo);
    const journal = await writeGeneration(dir, state, {
      store: plan.store,
      generation: plan.generation + 1,
    });
    await journal.close();
    logger.warn('store recovered', {
      dir,
      to_revision: toRevision,
      generation: plan.generation + 1,
      dropped: plan.dropped.map((d) => (d.last ? `${d.revision}..${d.last}` : String(d.revision))),
      saved_to: savedTo,
      problem: plan.problem,
    });
    return { plan, savedTo };
  } finally {
    lock.release();
  }
}
