/**
 * The manifest of a file store (`MANIFEST`, format 2): what the directory must hold. It names
 * the generation (bumped by every compaction), the revision of the generation's snapshot (which
 * is also its journal's base) and the last committed revision. The writer rewrites it in place
 * after each commit's journal record is synced, and syncs it before acknowledging the commit,
 * so a journal that ends before the manifest's revision has lost acknowledged commits.
 *
 * Layout (64 bytes): `EUCAMNFT`, u32 format version, u32 store id, u64 generation, u64 base
 * revision, u64 committed revision, u32 crc32 of the previous 40 bytes, 20 zero bytes.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreCorruptError } from './errors.js';
import { FORMAT_VERSION } from './journal.js';

/** The manifest's file name inside a store directory. */
export const MANIFEST_FILE = 'MANIFEST';
const MAGIC = 'EUCAMNFT';
/** Size of the manifest file. */
export const MANIFEST_SIZE = 64;

/** The decoded manifest. */
export interface Manifest {
  /** The store's id: random, fixed at creation, carried by every file (0: none given). */
  readonly store: number;
  /** Bumped by each compaction; the snapshot and journal of this generation carry it. */
  readonly generation: number;
  /** Revision of this generation's snapshot, and base revision of its journal. */
  readonly baseRevision: number;
  /** The last committed (acknowledged) revision. */
  readonly revision: number;
}

/** Encodes a manifest. */
export function encodeManifest(m: Manifest): Buffer {
  const b = Buffer.alloc(MANIFEST_SIZE);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeUInt32LE(m.store, 12);
  b.writeBigUInt64LE(BigInt(m.generation), 16);
  b.writeBigUInt64LE(BigInt(m.baseRevision), 24);
  b.writeBigUInt64LE(BigInt(m.revision), 32);
  b.writeUInt32LE(crc32(b.subarray(0, 40)), 40);
  return b;
}

/** Decodes a manifest, or returns the reason it cannot be read. */
export function decodeManifest(b: Buffer): Manifest | { error: string } {
  if (b.length !== MANIFEST_SIZE)
    return { error: `is ${b.length} bytes long, expected ${MANIFEST_SIZE}` };
  if (b.toString('latin1', 0, 8) !== MAGIC) return { error: 'is not a store manifest (bad magic)' };
  if (b.readUInt32LE(40) !== crc32(b.subarray(0, 40))) return { error: 'checksum mismatch' };
  if (b.subarray(44).some((x) => x !== 0)) return { error: 'reserved bytes are not zero' };
  const version = b.readUInt32LE(8);
  if (version !== FORMAT_VERSION)
    return { error: `has unsupported format version ${version} (this build reads 2)` };
  const generation = Number(b.readBigUInt64LE(16));
  const baseRevision = Number(b.readBigUInt64LE(24));
  const revision = Number(b.readBigUInt64LE(32));
  if (generation < 1 || revision < baseRevision)
    return { error: `is inconsistent (generation ${generation}, revisions ${baseRevision}..)` };
  return { store: b.readUInt32LE(12), generation, baseRevision, revision };
}

/** Reads `dir/MANIFEST`: undefined when absent; `StoreCorruptError` naming the file on damage. */
export async function readManifest(dir: string): Promise<Manifest | undefined> {
  let buf: Buffer;
  try {
    buf = await readFile(join(dir, MANIFEST_FILE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const m = decodeManifest(buf);
  if ('error' in m) throw new StoreCorruptError(`store ${dir}: ${MANIFEST_FILE} ${m.error}`);
  return m;
}

/** An open manifest, rewritten in place (one 64-byte write and a data sync per update). */
export class ManifestFile {
  private constructor(private readonly handle: FileHandle) {}

  /** Opens `dir/MANIFEST` for rewriting (it must exist). */
  static async open(dir: string): Promise<ManifestFile> {
    return new ManifestFile(await open(join(dir, MANIFEST_FILE), 'r+'));
  }

  /** Writes `m` over the manifest and (with `sync`) waits until it is on disk. */
  async write(m: Manifest, sync: boolean): Promise<void> {
    const b = encodeManifest(m);
    const { bytesWritten } = await this.handle.write(b, 0, b.length, 0);
    if (bytesWritten !== b.length) throw new Error(`short write of ${MANIFEST_FILE}`);
    if (sync) await this.handle.datasync();
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
