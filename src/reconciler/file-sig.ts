/**
 * What the controller remembers of the GNI file it read last (device, inode, size, mtime), to
 * skip an unchanged file and to tell a file renamed onto the path from one written in place.
 */
import { statSync } from 'node:fs';

/** The identity and shape of a file, as `stat` gives them. */
export interface FileSig {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Whether `b` is the file `a` describes, unchanged. */
export const sameSig = (a: FileSig | undefined, b: FileSig): boolean =>
  a !== undefined &&
  a.dev === b.dev &&
  a.ino === b.ino &&
  a.size === b.size &&
  a.mtimeMs === b.mtimeMs;

/** Whether the file at `path` is another file than `last` (renamed onto the path since). */
export function isOtherFile(path: string, last: FileSig | undefined): boolean {
  try {
    const st = statSync(path);
    return last !== undefined && (st.ino !== last.ino || st.dev !== last.dev);
  } catch {
    return false; // gone: the debounced cycle reports it
  }
}
