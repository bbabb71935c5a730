/**
 * What a commit's fsync waits for right after the cloud controller replaced its document: a
 * document of `--mib` MiB (default 0, 16 and 39: none, L, 25k) is written to a temp file and
 * renamed over the last one, the way the controller writes it, then a 16 KiB record (a
 * one-instance commit's) is appended to a journal file in this directory and fdatasynced, as
 * the file store does. Interleaved rounds, the document once in this directory's file system and
 * once in `--shm-dir` (default /dev/shm, a tmpfs, as /var/run/eucalyptus is); medians.
 * ext4 starts writing a file renamed over another at once (auto_da_alloc), and a flush of the
 * device waits for those writes: on the same disk, the commit waits for the document. A third
 * variant starts the document's flush in the background at the rename, as the daemon does
 * (`flushDocument`, reconciler/read-document.ts): the commit waits only for what is left of it.
 * Usage: npx tsx scripts/bench-fsync-doc.ts [--rounds N] [--mib 0,16,39] [--shm-dir DIR]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, renameSync, rmSync } from 'node:fs';
import { writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flushDocument } from '../src/reconciler/read-document.js';
import { median } from './lib/daemon-driver.js';
import { arg, load } from './lib/bench-cli.js';

const rounds = Number(arg('rounds', '9'));
const sizes = arg('mib', '0,16,39').split(',').map(Number);
const shmDir = arg('shm-dir', '/dev/shm');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fsync-doc-'));
  const shm = mkdtempSync(join(shmDir, 'bench-fsync-doc-'));
  const record = Buffer.alloc(16 * 1024, 0x72);
  const times = new Map<string, number[]>();
  try {
    const fd = openSync(join(dir, 'journal.log'), 'a');
    for (let r = 0; r < rounds; r++) {
      for (const mib of sizes) {
        for (const where of mib === 0
          ? ['none']
          : ['disk', 'disk, flushed from the rename', 'tmpfs']) {
          const docDir = where === 'tmpfs' ? shm : dir;
          if (mib > 0) {
            writeFileSync(join(docDir, 'gni.xml.temp'), Buffer.alloc(mib * 2 ** 20, 0x78));
            await sleep(100); // the controller's own write settles, as in bench-reconcile
            renameSync(join(docDir, 'gni.xml.temp'), join(docDir, 'gni.xml'));
            if (where.includes('flushed')) void flushDocument(join(docDir, 'gni.xml'));
          } else await sleep(100);
          await sleep(30); // the daemon reads and maps before it commits
          const t = performance.now();
          writeSync(fd, record);
          fdatasyncSync(fd);
          const key = mib === 0 ? 'no document' : `${mib} MiB document on ${where}`;
          times.set(key, [...(times.get(key) ?? []), performance.now() - t]);
        }
      }
    }
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(shm, { recursive: true, force: true });
  }
  console.log(
    `fdatasync of a 16 KiB journal append 30 ms after the document's rename (load ${load()}):`,
  );
  for (const [key, xs] of times)
    console.log(
      `  ${key}: median ${median(xs).toFixed(1)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`,
    );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
