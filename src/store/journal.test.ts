import { expect } from 'chai';
import { encodeRecord, scanRecords } from './journal.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import type { AnyObject, Change, Kind } from './types.js';

const change = (id: string): Change[] => [{ kind: 'host', id, type: 'deleted' }];

describe('journal and snapshot formats', () => {
  const records = Buffer.concat([encodeRecord(1, change('a')), encodeRecord(2, change('b'))]);

  it('decodes records with their offsets and revisions', () => {
    const { records: rs, end } = scanRecords(records, 100);
    expect(end).to.deep.equal({ kind: 'clean' });
    expect(rs.map((r) => [r.offset, r.revision, r.changes[0]?.id])).to.deep.equal([
      [100, 1, 'a'],
      [100 + encodeRecord(1, change('a')).length, 2, 'b'],
    ]);
  });

  it('calls only a record cut short by the end torn; any damaged or zeroed byte is corrupt', () => {
    for (let cut = 1; cut < encodeRecord(2, change('b')).length; cut++) {
      const { records: rs, end } = scanRecords(records.subarray(0, records.length - cut), 0);
      expect(end.kind, `cut ${cut}`).to.equal('torn');
      expect(rs.map((r) => r.revision)).to.deep.equal([1]);
    }
    const torn = scanRecords(records.subarray(0, records.length - 4), 0).end;
    expect(torn).to.include({ kind: 'torn', revision: 2 });
    // zeros after the last record, or zeros over its end, are not a cut: they are damage
    expect(scanRecords(Buffer.concat([records, Buffer.alloc(50)]), 0).end.kind).to.equal('corrupt');
    const zeroed = Buffer.from(records);
    zeroed.fill(0, zeroed.length - 3);
    expect(scanRecords(zeroed, 0).end).to.include({ kind: 'corrupt', revision: 2 });
    for (let i = 0; i < records.length; i++) {
      const b = Buffer.from(records);
      b[i] = b[i]! ^ 0x20;
      const { end } = scanRecords(b, 0);
      expect(end.kind, `byte ${i}`).to.equal('corrupt');
    }
  });

  it('round-trips a snapshot and detects a damaged one', () => {
    const objs: [Kind, AnyObject][] = Array.from({ length: 4500 }, (_, i) => [
      i < 10 ? 'host' : 'chain',
      { id: `o${i}`, version: 1 } as unknown as AnyObject,
    ]);
    const buf = Buffer.concat([...encodeSnapshot(7, objs, objs.length)]);
    const seen: string[] = [];
    const header = decodeSnapshot(buf, (kind, o) => seen.push(`${kind}/${o.id}`));
    expect(header.revision).to.equal(7);
    expect(seen).to.deep.equal(objs.map(([k, o]) => `${k}/${o.id}`));
    const bad = Buffer.from(buf);
    bad[200] = bad[200]! ^ 1;
    expect(() => decodeSnapshot(bad, () => undefined)).to.throw(/checksum/);
    expect(() => decodeSnapshot(buf.subarray(0, buf.length - 10), () => undefined)).to.throw(
      /truncated/,
    );
  });
});
