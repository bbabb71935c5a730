import { expect } from 'chai';
import { decodeSnapshot, encodeRecord, encodeSnapshot, scanRecords } from './journal.js';
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

  it('calls an incomplete or zero-filled last record torn, and any damaged byte corrupt', () => {
    expect(scanRecords(records.subarray(0, records.length - 4), 0).end.kind).to.equal('torn');
    expect(scanRecords(Buffer.concat([records, Buffer.alloc(50)]), 0).end.kind).to.equal('torn');
    const zeroed = Buffer.from(records);
    zeroed.fill(0, zeroed.length - 3);
    expect(scanRecords(zeroed, 0).end.kind).to.equal('torn');
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
