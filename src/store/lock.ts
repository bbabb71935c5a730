/**
 * The exclusive lock of a store directory: a `LOCK` file created with O_EXCL holding the
 * owner's pid. A lock whose pid is no longer running is stale and is taken over; a live one
 * (including this very process, for a second writer on the same directory) is refused.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { StoreLockedError } from './errors.js';

/** The name of the lock file inside a store directory. */
export const LOCK_FILE = 'LOCK';

/** A held lock. */
export interface DirLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Takes the lock of `dir` or throws `StoreLockedError` naming the process that holds it. */
export function acquireLock(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = readPid(path);
      if (pid !== undefined && isAlive(pid)) {
        throw new StoreLockedError(`store ${dir} is in use by process ${pid}`);
      }
      if (pid === undefined && attempt < 2) {
        // An empty lock file may be one another opener has created but not yet written.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
      // Stale: its owner is gone. Remove it and race for a fresh O_EXCL create.
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return {
      release(): void {
        if (readPid(path) === process.pid) unlinkSync(path);
      },
    };
  }
  throw new StoreLockedError(`store ${dir}: could not take the lock ${path}`);
}
