/**
 * Reading the GNI document into reused buffers. A 16 MiB document read every cycle into a
 * fresh buffer is 16 MiB of new external memory per cycle, freed only by a full GC of a heap of
 * hundreds of MiB; here the daemon keeps two buffers, the one holding the last document it
 * parsed and a spare that the next read goes to, and each read is one positional read per call
 * instead of fs.readFile's 512 KiB chunks.
 */
import { open } from 'node:fs/promises';

/**
 * Starts writing a new document's data to disk in the background, without waiting: its
 * promise settles when done, with whether it worked, and never rejects. Why: the CLC writes the
 * document and renames it onto the path, mostly without an fsync, and on ext4 (data=ordered,
 * auto_da_alloc) the rename makes the next journal commit of the filesystem write the new
 * file's data first. The store's own fsync at the end of the cycle then waited for the whole
 * document (30-45 ms for 39 MiB at 25k); started here, that write overlaps the read, parse and
 * mapping. Harmless elsewhere (a document already on disk syncs at once).
 */
export async function flushDocument(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'r');
    try {
      await fh.datasync();
      return true;
    } finally {
      await fh.close();
    }
  } catch {
    return false; // gone, or a filesystem that cannot sync: the read reports what matters
  }
}

/** Room a new buffer gets above the document's size, so a slowly growing document does not
 * need a new buffer every cycle. */
const HEADROOM = 1 / 8;

/** Two buffers in turn: `read` fills the spare one; `keep`/`release` decide which one stays. */
export class DocumentBuffers {
  private spare: Buffer | undefined;

  /**
   * Makes sure a spare buffer for a document of `size` bytes exists, with its memory touched
   * (faulted in), so the next read does not pay for that. A read into fresh memory took ~50 ms
   * for 16 MiB here (the page faults of 18 MiB), ~3 ms into a buffer read before: after a full
   * read (a cold build) there is no spare yet, and the first change paid it. Call it off the
   * critical path (after a cycle's commit). A spare big enough already is kept.
   */
  prepare(size: number): void {
    if (this.spare !== undefined && this.spare.length >= size + 1) return;
    this.spare = Buffer.allocUnsafeSlow(Math.ceil((size + 1) * (1 + HEADROOM))).fill(0);
  }

  /** Reads the whole file into the spare buffer (a new one when it is too small) and returns
   * the bytes read (a view of that buffer; it stays the caller's until given back with
   * `release`). */
  async read(path: string): Promise<Buffer> {
    const fh = await open(path, 'r');
    try {
      const size = (await fh.stat()).size;
      let buf = this.spare;
      this.spare = undefined;
      // one byte more than the size: a read that fills the buffer may have more to come
      if (buf === undefined || buf.length < size + 1)
        buf = Buffer.allocUnsafeSlow(Math.ceil((size + 1) * (1 + HEADROOM)));
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          // the file grew since its stat: continue in a bigger buffer
          const bigger = Buffer.allocUnsafeSlow(Math.ceil(buf.length * (1 + HEADROOM)) + 1);
          buf.copy(bigger, 0, 0, n);
          buf = bigger;
        }
        const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      return buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  }

  /**
   * Gives back the buffer under `bytes` (bytes the caller no longer holds), to be the next
   * read's, unless something still uses it: `inUse` lists bytes that must stay untouched (the
   * document the reader's state keeps).
   */
  release(bytes: Uint8Array | undefined, ...inUse: (Uint8Array | undefined)[]): void {
    if (bytes === undefined) return;
    if (inUse.some((u) => u !== undefined && u.buffer === bytes.buffer)) return;
    const whole = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
    if (this.spare === undefined || this.spare.length < whole.length) this.spare = whole;
  }
}
