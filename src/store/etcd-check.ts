/**
 * The etcd backend's check of a loaded root: every commit puts the `rev` key (store revision
 * + 1, starting at 1) in the same etcd transaction as its objects, so the key's value equals
 * its etcd version (how often it was put since it was created), and no object key is newer
 * than it. A root that breaks this was written or rolled back outside the store (a `rev` put
 * or deleted by hand, an object put by hand): it is refused with `StoreCorruptError`, naming
 * the key, instead of being served from a revision that disagrees with the objects.
 */
import { StoreCorruptError } from './errors.js';

/** The `rev` key as read. */
export interface RevKey {
  readonly value: string;
  /** etcd version: puts since the key was created. */
  readonly version: number;
  readonly modRevision: number;
}

/** Throws `StoreCorruptError` when the `rev` key disagrees with the objects of `root`. */
export function checkRevKey(
  root: string,
  rev: RevKey | undefined,
  objects: readonly { kind: string; id: string; modRevision: number }[],
): void {
  const where = `etcd store ${root}`;
  if (!rev) {
    if (objects.length === 0) return; // an empty root: no store written yet
    const o = objects[0]!;
    throw new StoreCorruptError(
      `${where}: ${objects.length} object key(s) (${o.kind}/${o.id}, …) but no ${root}/rev key: the revision was deleted outside the store`,
    );
  }
  const revision = Number(rev.value);
  if (!Number.isSafeInteger(revision) || revision < 1 || String(revision) !== rev.value) {
    throw new StoreCorruptError(
      `${where}: ${root}/rev holds ${JSON.stringify(rev.value)}, not a revision`,
    );
  }
  if (revision !== rev.version) {
    throw new StoreCorruptError(
      `${where}: ${root}/rev says revision ${revision} but was put ${rev.version} time(s) since it was created: it was written outside the store`,
    );
  }
  for (const o of objects) {
    if (o.modRevision > rev.modRevision) {
      throw new StoreCorruptError(
        `${where}: ${o.kind}/${o.id} was written (etcd revision ${o.modRevision}) after the last commit (etcd revision ${rev.modRevision}): it was written outside the store`,
      );
    }
  }
}
