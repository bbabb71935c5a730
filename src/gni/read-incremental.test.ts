import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { cloudDocument as doc, EDITS, pick, withNodes } from '../../test/helpers/view-edits.js';
import {
  readGni,
  readGniWithState,
  writeGniXml,
  type GlobalView,
  type GniReadState,
  type StatefulRead,
} from './index.js';

/** The read equals a full read of the same bytes, layout for the next read included. */
function expectAsFull(read: StatefulRead, bytes: Uint8Array): void {
  expect(read.result).to.deep.equal(readGni(bytes));
  const full = readGniWithState(bytes);
  expect(read.state === undefined).to.equal(full.state === undefined);
  if (read.state !== undefined) expect(read.state.layout).to.deep.equal(full.state!.layout);
}

function cleanBase(seed: number): { view: GlobalView; read: StatefulRead; bytes: Buffer } {
  const bytes = doc(generateView({ size: 'S', seed }), 1);
  const read = readGniWithState(bytes);
  expect(read.result.issues).to.deep.equal([]);
  expect(read.state).to.not.equal(undefined);
  return { view: read.result.view!, read, bytes };
}

describe('gni/readGniWithState (incremental reading)', () => {
  it('reads every kind of edit as a full read does, scanning only what changed', () => {
    let incremental = 0;
    for (const seed of [1, 2, 3]) {
      const base = cleanBase(seed);
      const r = prng(seed);
      for (const [name, edit] of Object.entries(EDITS)) {
        const bytes = doc(edit(base.view, r), 2);
        const read = readGniWithState(bytes, {}, base.read.state);
        expectAsFull(read, bytes);
        if (read.result.issues.length === 0) {
          expect(read.incremental, name).to.equal(true);
          // the changed section or entities, not the document
          expect(read.scanned, name).to.be.below(bytes.length / 3);
          incremental++;
        }
      }
    }
    expect(incremental).to.be.at.least(20);
  });

  it('carries its state over a sequence of edits', () => {
    let { view, read } = cleanBase(4);
    const r = prng(4);
    const names = Object.keys(EDITS);
    let incremental = 0;
    for (let step = 0; step < 40; step++) {
      const bytes = doc(EDITS[pick(names, r)]!(view, r), 10 + step);
      const next = readGniWithState(bytes, {}, read.state);
      expectAsFull(next, bytes);
      if (next.incremental) incremental++;
      // keep the chain going on clean documents; a document with issues is read again later
      if (next.state !== undefined) {
        read = next;
        view = next.result.view!;
      }
    }
    expect(incremental).to.be.at.least(20);
  });

  it('reads damaged or surprising bytes exactly as a full read does', () => {
    const { bytes, read } = cleanBase(5);
    const r = prng(5);
    const snippets = ['<', '>', '&', '"', "'", '/', 'x', '\n', '<x/>', '<!-- c -->', '</instance>'];
    snippets.push('<instance name="i-00000001"/>', '</instances>', '<![CDATA[</vpc>]]>', 'é');
    for (let i = 0; i < 200; i++) {
      const at = Math.floor(r() * bytes.length);
      const len = 1 + Math.floor(r() * 60);
      let m: Buffer;
      switch (i % 4) {
        case 0:
          m = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + len)]);
          break;
        case 1:
          m = Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from(pick(snippets, r)),
            bytes.subarray(at),
          ]);
          break;
        case 2: {
          const from = Math.floor(r() * bytes.length);
          const span = bytes.subarray(from, from + len * 20);
          m = Buffer.concat([bytes.subarray(0, at), span, bytes.subarray(at)]);
          break;
        }
        default:
          m = Buffer.from(bytes);
          m[at] = pick(snippets, r).charCodeAt(0) & 0xff;
      }
      expectAsFull(readGniWithState(m, {}, read.state), m);
    }
  });

  it('keeps no state after issues or non-ASCII text, and then reads in full', () => {
    const { view, read } = cleanBase(6);
    const accented = {
      ...view,
      securityGroups: view.securityGroups.map((g, i) => (i === 0 ? { ...g, ownerId: 'café' } : g)),
    };
    const bytes = doc(accented, 2);
    const next = readGniWithState(bytes, {}, read.state);
    expectAsFull(next, bytes);
    expect(next.incremental).to.equal(false);
    expect(next.state).to.equal(undefined);

    const unsorted = Buffer.from(
      writeGniXml({ ...view, instances: [...view.instances].reverse() }),
    );
    const withIssues = readGniWithState(unsorted, {}, read.state);
    expectAsFull(withIssues, unsorted);
    expect(withIssues.result.issues.length).to.be.above(0);
    expect(withIssues.state).to.equal(undefined);
  });

  it('leaves the last read untouched', () => {
    const { view, read } = cleanBase(7);
    const before = JSON.stringify(view);
    // every node takes the next node's instances: they all move
    const moved = withNodes(view, (n, i, c) => ({
      ...n,
      instanceIds: c.nodes[(i + 1) % c.nodes.length]!.instanceIds,
    }));
    const bytes = doc(moved, 2);
    const next = readGniWithState(bytes, {}, read.state as GniReadState);
    expectAsFull(next, bytes);
    expect(next.incremental).to.equal(true);
    expect(JSON.stringify(view)).to.equal(before);
    expect(JSON.stringify(next.result.view)).to.not.equal(before);

    // an instance no node lists any more is not placed (an issue), not left where it was
    const gone = view.instances[0]!.id;
    const dropped = withNodes(view, (n) => ({
      ...n,
      instanceIds: n.instanceIds.filter((i) => i !== gone),
    }));
    const unplaced = doc(dropped, 3);
    const last = readGniWithState(unplaced, {}, read.state);
    expectAsFull(last, unplaced);
    expect(last.incremental).to.equal(true);
    expect(last.result.view!.instances.find((i) => i.id === gone)!.node).to.equal(undefined);
  });
});
