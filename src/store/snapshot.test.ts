import { expect } from 'chai';
import { crc32 } from 'node:zlib';
import { decodeSnapshot, encodeSnapshot, encodeSnapshotKinds } from './snapshot.js';
import type { AnyObject, Kind } from './types.js';

/** The snapshot format written the plain way: one `JSON.stringify(line) + '\n'` per line. */
function reference(revision: number, objs: readonly (readonly [Kind, AnyObject])[]): Buffer {
  const lines = [
    JSON.stringify({
      format: 'eucanetd-store-snapshot',
      version: 2,
      store: 9,
      generation: 3,
      revision,
      count: objs.length,
    }),
  ];
  let kind: Kind | undefined;
  let group: AnyObject[] = [];
  for (const [k, o] of objs) {
    if ((k !== kind || group.length >= 2000) && group.length > 0) {
      lines.push(JSON.stringify([kind, group]));
      group = [];
    }
    kind = k;
    group.push(o);
  }
  if (group.length > 0) lines.push(JSON.stringify([kind, group]));
  const body = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
  const trailer = JSON.stringify({ end: true, count: objs.length, crc: crc32(body) }) + '\n';
  return Buffer.concat([body, Buffer.from(trailer, 'utf8')]);
}

function sample(): [Kind, AnyObject][] {
  const names = ['plain', 'café', 'Zürich-Ω', 'emoji 🚀', 'quote " and \\ and \n', 'lone \ud800'];
  return Array.from({ length: 6200 }, (_, i) => [
    i < 30 ? 'host' : i < 4100 ? 'chain' : 'rule',
    {
      id: `o${i}`,
      name: i % 997 === 5 ? names[i % names.length]! : `n${i}`,
      version: 1,
    } as unknown as AnyObject,
  ]);
}

describe('store snapshot encoding', () => {
  it('writes exactly the bytes of one JSON line per group, in UTF-8, at any chunk size', () => {
    const objs = sample();
    const want = reference(11, objs);
    for (const chunkBytes of [1, 100, 4096, 20_000, 1 << 20]) {
      const kinds: [Kind, AnyObject[]][] = [];
      for (const [k, o] of objs) {
        if (kinds[kinds.length - 1]?.[0] !== k) kinds.push([k, []]);
        kinds[kinds.length - 1]![1].push(o);
      }
      const chunks = [...encodeSnapshotKinds(11, kinds, objs.length, 3, 9, { chunkBytes })];
      // every chunk is a buffer of its own: later chunks never overwrite earlier ones
      expect(Buffer.concat(chunks).equals(want), `chunk size ${chunkBytes}`).to.equal(true);
      // reused buffers: chunk k is read when chunk k + 1 arrives (as late as allowed)
      const copies: Buffer[] = [];
      let previous: Buffer | undefined;
      for (const c of encodeSnapshotKinds(11, kinds, objs.length, 3, 9, {
        chunkBytes,
        reuse: true,
      })) {
        if (previous) copies.push(Buffer.from(previous));
        previous = c;
      }
      copies.push(Buffer.from(previous!));
      expect(Buffer.concat(copies).equals(want), `reused, chunk size ${chunkBytes}`).to.equal(true);
    }
    expect(Buffer.concat([...encodeSnapshot(11, objs, objs.length, 3, 9)]).equals(want)).to.equal(
      true,
    );
  });

  it('round-trips non-ASCII names', () => {
    const objs = sample();
    const seen: AnyObject[] = [];
    decodeSnapshot(Buffer.concat([...encodeSnapshot(4, objs, objs.length)]), (_k, o) =>
      seen.push(o),
    );
    expect(seen).to.deep.equal(objs.map(([, o]) => JSON.parse(JSON.stringify(o)) as AnyObject));
  });

  it('refuses a count that does not match the objects', () => {
    expect(() => [...encodeSnapshot(1, sample(), 5)]).to.throw(/expected 5 objects/);
  });
});
