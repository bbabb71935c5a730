import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceFile } from './file-write.js';

/** `n` chunks of 1 MiB, chunk i filled with byte i; throws before chunk `failAt` if given. */
function* chunks(n: number, failAt = -1): Generator<Buffer> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error('encoding failed');
    yield Buffer.alloc(1 << 20, i);
  }
}

describe('file-write replaceFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-write-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a file larger than the background sync interval byte for byte', async () => {
    await replaceFile(dir, 'big', chunks(40)); // background syncs at 16 and 32 MiB
    const got = await readFile(join(dir, 'big'));
    expect(got.length).to.equal(40 << 20);
    for (let i = 0; i < 40; i++) {
      expect(got[i << 20]).to.equal(i);
      expect(got[((i + 1) << 20) - 1]).to.equal(i);
    }
    expect(await readdir(dir)).to.deep.equal(['big']);
  });

  it('leaves the old file in place when making a chunk fails after a background sync', async () => {
    await writeFile(join(dir, 'big'), 'old');
    let error: unknown;
    try {
      await replaceFile(dir, 'big', chunks(40, 20));
    } catch (e) {
      error = e;
    }
    expect((error as Error | undefined)?.message).to.equal('encoding failed');
    expect(await readFile(join(dir, 'big'), 'utf8')).to.equal('old');
  });
});
