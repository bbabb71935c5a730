/**
 * The upgrade path: `fixtures/store-format-1` is a store directory written by the code before
 * manifests and generations (format 1: snapshot at revision 3, journal records 4 and 5). It
 * still opens read-only as it is, and a writer upgrades it to format 2 at open.
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { KINDS, openFileStore, StoreCorruptError, verifyStore } from '../src/store/index.js';
import { router } from './helpers/store-conformance.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'store-format-1');

async function dump(dir: string): Promise<unknown[]> {
  const s = await openFileStore(dir, { readOnly: true });
  try {
    const out: unknown[] = [await s.revision()];
    for (const k of KINDS) out.push(await s.list(k));
    return out;
  } finally {
    await s.close();
  }
}

describe('store file backend: format-1 directories (upgrade path)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-upgrade-'));
    await cp(FIXTURE, dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('opens read-only unchanged, and a writer upgrades it to format 2 keeping every commit', async () => {
    const before = await dump(dir);
    expect(before[0]).to.equal(5);
    expect(await verifyStore(dir)).to.deep.equal([]);
    expect(await stat(join(dir, 'MANIFEST')).catch(() => 'absent')).to.equal('absent');
    const lines: Record<string, unknown>[] = [];
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [
        new winston.transports.Stream({
          stream: new Writable({
            write(chunk: Buffer, _e, cb) {
              lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
              cb();
            },
          }),
        }),
      ],
    });
    const w = await openFileStore(dir, { logger });
    expect(lines.map((l) => l['message'])).to.include('store upgraded from format 1');
    // format 2 (manifest, snapshot) with journal format 3 (records may hold list edits)
    expect((await readFile(join(dir, 'journal.log'))).readUInt32LE(8)).to.equal(3);
    expect((await readFile(join(dir, 'snapshot.ndjson'), 'utf8')).split('\n')[0]).to.include(
      '"version":2',
    );
    expect((await stat(join(dir, 'MANIFEST'))).size).to.equal(64);
    expect((await w.transaction([router('r9')])).revision).to.equal(6);
    await w.close();
    const after = await dump(dir);
    expect(after[0]).to.equal(6);
    const routers = after[1 + KINDS.indexOf('router')] as { id: string }[];
    expect(routers.map((r) => r.id)).to.deep.equal(['r1', 'r9']);
    // everything else is as the format-1 store held it
    expect(after.slice(1).map((l, i) => (i === KINDS.indexOf('router') ? [] : l))).to.deep.equal(
      before.slice(1).map((l, i) => (i === KINDS.indexOf('router') ? [] : l)),
    );
  });

  it('still refuses a damaged format-1 journal record, naming offset and revision', async () => {
    const path = join(dir, 'journal.log');
    const buf = await readFile(path);
    buf[buf.length - 2] = 0;
    await writeFile(path, buf);
    const err = await openFileStore(dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect(err?.message).to.match(
      /journal\.log record at byte offset \d+ \(revision 5\) is damaged/,
    );
    expect(await readFile(path)).to.deep.equal(buf);
  });
});
