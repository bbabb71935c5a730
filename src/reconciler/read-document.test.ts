import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DocumentBuffers, flushDocument } from './read-document.js';

describe('DocumentBuffers', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'read-document-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads whole files, reusing a released buffer and never one still in use', async () => {
    const file = join(dir, 'gni.xml');
    const buffers = new DocumentBuffers();
    writeFileSync(file, 'a'.repeat(1000));
    const first = await buffers.read(file);
    expect(first.toString()).to.equal('a'.repeat(1000));
    writeFileSync(file, 'b'.repeat(900));
    const second = await buffers.read(file);
    expect(second.buffer).to.not.equal(first.buffer); // nothing released yet
    // first is still in use (say the reader's state keeps it): not taken
    buffers.release(first, first);
    const third = await buffers.read(file);
    expect(third.buffer).to.not.equal(first.buffer);
    expect(first.toString()).to.equal('a'.repeat(1000));
    // released: the next read goes to it
    buffers.release(first, second);
    writeFileSync(file, 'c'.repeat(800));
    const fourth = await buffers.read(file);
    expect(fourth.buffer).to.equal(first.buffer);
    expect(fourth.toString()).to.equal('c'.repeat(800));
    expect(second.toString()).to.equal('b'.repeat(900));
  });

  it('prepares a spare buffer for the next read, keeping one big enough', async () => {
    const file = join(dir, 'gni.xml');
    const buffers = new DocumentBuffers();
    writeFileSync(file, 'a'.repeat(1000));
    const first = await buffers.read(file);
    buffers.release(first);
    buffers.prepare(500); // the released buffer is big enough: kept
    writeFileSync(file, 'b'.repeat(900));
    const second = await buffers.read(file);
    expect(second.buffer).to.equal(first.buffer);
    expect(second.toString()).to.equal('b'.repeat(900));
    // no spare now: a prepared one takes the next read, whole, in one buffer of room
    buffers.prepare(5000);
    writeFileSync(file, 'c'.repeat(5000));
    const third = await buffers.read(file);
    expect(third.buffer).to.not.equal(second.buffer);
    expect(third.buffer.byteLength).to.be.at.least(5001);
    expect(third.toString()).to.equal('c'.repeat(5000));
    // a spare too small for the size asked is replaced
    buffers.release(second);
    buffers.prepare(20_000);
    writeFileSync(file, 'd'.repeat(20_000));
    const fourth = await buffers.read(file);
    expect(fourth.buffer).to.not.equal(second.buffer);
    expect(fourth.toString()).to.equal('d'.repeat(20_000));
    expect(second.toString()).to.equal('b'.repeat(900)); // not written to
  });

  it('reads a file larger than the spare buffer, and an empty one', async () => {
    const file = join(dir, 'gni.xml');
    const buffers = new DocumentBuffers();
    writeFileSync(file, 'x'.repeat(10));
    buffers.release(await buffers.read(file));
    const big = 'y'.repeat(100_000);
    writeFileSync(file, big);
    expect((await buffers.read(file)).toString()).to.equal(big);
    writeFileSync(file, '');
    expect((await buffers.read(file)).length).to.equal(0);
  });

  it('flushes a document to disk in the background and never rejects', async () => {
    const file = join(dir, 'gni.xml');
    writeFileSync(file, 'd'.repeat(100_000));
    expect(await flushDocument(file)).to.equal(true);
    expect(readFileSync(file, 'utf8')).to.equal('d'.repeat(100_000)); // read-only: untouched
    // a gone file or a path that cannot be opened: false, for the read to report
    expect(await flushDocument(join(dir, 'gone.xml'))).to.equal(false);
    expect(await flushDocument(join(dir, 'bad\0name'))).to.equal(false);
  });
});
