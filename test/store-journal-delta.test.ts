/**
 * Journal records with list edits (journal format 3, src/store/journal-delta.ts): an update's
 * long lists are written as edits of the object's previous version. Replaying them must give
 * exactly the committed state — every field, key order and list order included — after a
 * reopen, through a follower, and across compactions; a record whose edits do not fit the
 * state it follows is damaged (refused, named, offered to `store recover`), a cut one is a torn
 * tail; and journals of format 2 (whole objects) stay loadable.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  createMemoryStore,
  KINDS,
  openFileStore,
  StoreCorruptError,
  type TopologyStore,
} from '../src/store/index.js';
import { encodeJournalHeader, encodeRecord, JOURNAL_HEADER_SIZE } from '../src/store/journal.js';
import { encodeManifest } from '../src/store/manifest.js';
import {
  encodeChanges,
  listEdits,
  resolveChanges,
  type RecordChange,
} from '../src/store/journal-delta.js';
import { planRecovery, recoverStore } from '../src/store/recover.js';
import { prng } from '../scripts/lib/gni-generator.js';
import { silentLogger } from '../src/common/index.js';
import type { AnyObject, Change, Op } from '../src/store/index.js';
import {
  chain,
  create,
  del,
  router,
  routerPort,
  rule,
  update,
} from './helpers/store-conformance.js';

/** Every object of every kind as JSON: equal only if fields, key order and list order are. */
async function dump(store: TopologyStore): Promise<string> {
  const out: string[] = [`revision ${await store.revision()}`];
  for (const kind of KINDS) out.push(`${kind} ${JSON.stringify(await store.list(kind))}`);
  return out.join('\n');
}

const route = (id: string, port: string): Op =>
  create('route', {
    id,
    routerId: 'r',
    type: 'Normal',
    srcNetworkAddr: '0.0.0.0',
    srcNetworkLength: 0,
    dstNetworkAddr: '10.1.0.0',
    dstNetworkLength: 16,
    nextHopPort: port,
  });

/** A router `r` with `ports` ports and `routes` routes over port p0, a chain `c` with `rules` rules. */
function base(ports: number, routes: number, rules: number): Op[] {
  const ops: Op[] = [router('r'), chain('c')];
  for (let i = 0; i < ports; i++) ops.push(routerPort(`p${i}`, 'r'));
  for (let i = 0; i < routes; i++) ops.push(route(`rt${i}`, 'p0'));
  for (let i = 0; i < rules; i++) ops.push(rule(`x${i}`, 'c'));
  return ops;
}

/** Random single commits over the lists of `base`: adds, deletes (middle entries), rule
 * inserts at positions, reorders of the chain's rules, several edits in one commit. */
class Edits {
  private n = 0;
  readonly ports: string[];
  readonly routes: string[];
  readonly rules: string[];

  constructor(
    private readonly random: () => number,
    ports: number,
    routes: number,
    rules: number,
  ) {
    this.ports = Array.from({ length: ports }, (_, i) => `p${i}`);
    this.routes = Array.from({ length: routes }, (_, i) => `rt${i}`);
    this.rules = Array.from({ length: rules }, (_, i) => `x${i}`);
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private take(list: string[]): string | undefined {
    if (list.length < 2) return undefined;
    return list.splice(Math.floor(this.random() * list.length), 1)[0];
  }

  /** The ops of the next commit, given the chain's current rule order. */
  next(ruleOrder: readonly string[]): Op[] {
    const ops: Op[] = [];
    const count = this.random() < 0.2 ? 2 + Math.floor(this.random() * 4) : 1;
    const usedPorts = new Set<string>();
    for (let k = 0; k < count; k++) {
      const id = `n${this.n++}`;
      const r = this.random();
      if (r < 0.2) {
        ops.push(routerPort(id, 'r'));
        this.ports.push(id);
      } else if (r < 0.3) {
        const p = this.take(this.ports);
        if (p === undefined || p === 'p0') continue;
        ops.push(del('port', p)); // cascades its routes
        usedPorts.add(p);
      } else if (r < 0.5) {
        const p = this.pick(this.ports);
        if (usedPorts.has(p)) continue;
        ops.push(route(id, p));
        this.routes.push(id);
      } else if (r < 0.6) {
        const rt = this.take(this.routes);
        if (rt !== undefined) ops.push(del('route', rt, { ignoreMissing: true }));
      } else if (r < 0.8) {
        const at =
          this.random() < 0.5 ? undefined : 1 + Math.floor(this.random() * ruleOrder.length);
        ops.push(rule(id, 'c', {}, at));
        this.rules.push(id);
        return ops; // the next op would need the new order
      } else if (r < 0.9) {
        const x = this.take(this.rules);
        if (x !== undefined) ops.push(del('rule', x));
        return ops;
      } else {
        // a reorder of the chain's rules: a few swaps, or a move of a block
        const order = [...ruleOrder];
        if (this.random() < 0.5) {
          for (let s = 0; s < 3; s++) {
            const i = Math.floor(this.random() * order.length);
            const j = Math.floor(this.random() * order.length);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
        } else order.push(...order.splice(0, Math.floor(this.random() * order.length)));
        return [...ops, update('chain', { id: 'c', name: 'chain-c', ruleIds: order })];
      }
    }
    return ops;
  }
}

describe('store file backend: journal records with list edits', function () {
  this.timeout(120_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'store-delta-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('list edits rebuild the list exactly (duplicates, reorders, objects, long changes)', () => {
    const random = prng(7);
    const pool = Array.from({ length: 30 }, (_, i) => (i % 5 === 0 ? { o: i } : `v${i}`));
    let encoded = 0;
    let fresh = 0;
    for (let t = 0; t < 3000; t++) {
      // mode 0: values from a small pool (duplicates, objects), every kind of edit; mode 1: distinct
      // ids (as back-reference lists hold) with inserts and deletes; mode 2: distinct ids, swaps too
      const mode = t % 3;
      const value = (): unknown =>
        mode === 0 ? pool[Math.floor(random() * pool.length)] : `u${fresh++}`;
      const a = Array.from({ length: 32 + Math.floor(random() * 80) }, value);
      const b = [...a];
      const edits = Math.floor(random() * (random() < 0.1 ? 60 : 5));
      for (let e = 0; e < edits; e++) {
        const r = random();
        const i = Math.floor(random() * b.length);
        if (r < 0.4 || (mode === 1 && b.length <= 32)) b.splice(i, 0, value());
        else if (r < 0.8 || mode === 1) b.splice(i, 1);
        else {
          const j = Math.floor(random() * b.length);
          [b[i], b[j]] = [b[j], b[i]];
        }
      }
      const prev = { id: 'o', version: 3, list: a } as unknown as AnyObject;
      const next = { id: 'o', version: 4, list: b } as unknown as AnyObject;
      const change: Change = { kind: 'chain', id: 'o', type: 'updated', object: next };
      // through JSON, as a record is written and read
      const raw = JSON.parse(JSON.stringify(encodeChanges([change], () => prev))) as RecordChange[];
      if (raw[0]!.lists) encoded++;
      const [back] = resolveChanges(raw, () => JSON.parse(JSON.stringify(prev)) as AnyObject);
      expect(back!.object, `case ${t}`).to.deep.equal(JSON.parse(JSON.stringify(next)));
      if (mode === 1 && edits <= 4) {
        // k inserts and deletes of distinct ids: at most k edits inserting at most k entries
        // (plus up to 8 kept ones, when one edit covers a short stretch between two changes)
        const e = listEdits(a, b);
        expect(e, `case ${t}`).not.to.equal(undefined);
        expect(e!.length, `case ${t}`).to.be.at.most(edits);
        expect(e!.reduce((n, [, , ins]) => n + ins.length, 0)).to.be.at.most(edits + 8);
      }
    }
    expect(encoded).to.be.greaterThan(2000);
  });

  it('replays random commit sequences exactly: reopen, follower, compactions', async () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const dir = join(root, `s${seed}`);
      const snapshotEvery = 5 + Math.floor(random() * 30);
      let live = await openFileStore(dir, { fsync: false, snapshotEvery });
      const reference = createMemoryStore();
      const follower = await openFileStore(dir, { readOnly: true, pollMs: 5 });
      try {
        const first = base(40, 40, 40);
        await live.transaction(first);
        await reference.transaction(first);
        const edits = new Edits(random, 40, 40, 40);
        for (let step = 0; step < 240; step++) {
          const order = ((await reference.get('chain', 'c'))?.ruleIds ?? []) as string[];
          const ops = edits.next(order);
          if (ops.length === 0) continue;
          const a = await live.transaction(ops);
          const b = await reference.transaction(ops);
          expect(a.revision, `seed ${seed} step ${step}`).to.equal(b.revision);
          if (step % 60 === 59) {
            // reopen: the snapshot and the journal records after it, replayed
            await live.close();
            live = await openFileStore(dir, { fsync: false, snapshotEvery });
            expect(await dump(live), `seed ${seed} step ${step}: reopened`).to.equal(
              await dump(reference),
            );
          }
        }
        expect(await dump(live)).to.equal(await dump(reference));
        const revision = await reference.revision();
        for (let i = 0; i < 400 && (await follower.revision()) < revision; i++)
          await new Promise((r) => setTimeout(r, 5));
        expect(await dump(follower), `seed ${seed}: follower`).to.equal(await dump(reference));
        // the lists were long enough for the records to hold edits
        const router = await reference.get('router', 'r');
        expect(router!.routeIds.length).to.be.greaterThan(32);
      } finally {
        await follower.close();
        await live.close();
        await reference.close();
      }
    }
  });

  it('writes a one-object change to a long list as a small record', async () => {
    const sizes: number[] = [];
    for (const journalDeltas of [true, false]) {
      const dir = join(root, String(journalDeltas));
      const s = await openFileStore(dir, { fsync: false, journalDeltas });
      await s.transaction(base(2, 2000, 0));
      const before = (await stat(join(dir, 'journal.log'))).size;
      await s.transaction([route('extra', 'p1')]); // the router's and p1's route lists grow
      sizes.push((await stat(join(dir, 'journal.log'))).size - before);
      await s.close();
      const again = await openFileStore(dir, { readOnly: true });
      expect((await again.get('router', 'r'))!.routeIds.at(-1)).to.equal('extra');
      await again.close();
    }
    const [withEdits, whole] = sizes as [number, number];
    expect(whole).to.be.greaterThan(2000 * 4);
    expect(withEdits).to.be.lessThan(1000);
  });

  /** A store whose last record (revision 3) holds edits of router r, and that record's offset. */
  async function storeWithEditRecord(dir: string): Promise<{ offset: number; buf: Buffer }> {
    const s = await openFileStore(dir, { fsync: false });
    await s.transaction(base(40, 0, 0));
    await s.transaction([routerPort('q1', 'r')]);
    await s.transaction([routerPort('q2', 'r')]);
    await s.close();
    const buf = await readFile(join(dir, 'journal.log'));
    let offset = JOURNAL_HEADER_SIZE;
    for (let n = 0; n < 2; n++) offset += 20 + buf.readUInt32LE(offset);
    const payload = buf.subarray(offset + 20).toString('utf8');
    expect(payload).to.include('"lists":["portIds"]');
    return { offset, buf };
  }

  it('refuses a record whose edits do not fit the state (checksum intact), and recover drops it', async () => {
    const dir = join(root, 'misfit');
    const { offset, buf } = await storeWithEditRecord(dir);
    // the same record, re-encoded with a base version the router does not have
    const payload = JSON.parse(buf.subarray(offset + 20).toString('utf8')) as Record<
      string,
      unknown
    >[];
    for (const c of payload) if (c['lists']) c['base'] = 99;
    // a valid record (checksums intact) holding those changes
    const bad = Buffer.concat([buf.subarray(0, offset), encodeRecord(3, payload as never)]);
    await writeFile(join(dir, 'journal.log'), bad);
    const before = await readFile(join(dir, 'journal.log'));
    const err = await openFileStore(dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).to.be.instanceOf(StoreCorruptError);
    expect(err!.message).to.include(`journal.log record at byte offset ${offset} (revision 3)`);
    expect(err!.message).to.include('router/r edits version 99, the object is at version 2');
    expect(await readFile(join(dir, 'journal.log'))).to.deep.equal(before);
    const follower = await openFileStore(dir, { readOnly: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(follower).to.be.instanceOf(StoreCorruptError);
    const plan = await planRecovery(dir);
    expect(plan.recoverable).to.equal(2);
    expect(plan.dropped.map((d) => [d.revision, d.offset])).to.deep.equal([[3, offset]]);
    expect(plan.dropped[0]!.what).to.match(/^damaged: update of router\/r edits version 99/);
    await recoverStore(dir, 2, silentLogger());
    const s = await openFileStore(dir);
    expect((await s.get('router', 'r'))!.portIds.at(-1)).to.equal('q1');
    await s.close();
  });

  it('drops a cut edit record as a torn tail and keeps the commits before it', async () => {
    const dir = join(root, 'torn');
    const { offset, buf } = await storeWithEditRecord(dir);
    const m = await readFile(join(dir, 'MANIFEST'));
    // the manifest as it was before revision 3 was acknowledged (the crash cut the record)
    const manifest = encodeManifest({
      store: m.readUInt32LE(12),
      generation: Number(m.readBigUInt64LE(16)),
      baseRevision: Number(m.readBigUInt64LE(24)),
      revision: 2,
    });
    await writeFile(join(dir, 'MANIFEST'), manifest);
    await writeFile(join(dir, 'journal.log'), buf.subarray(0, offset + 30));
    const s = await openFileStore(dir);
    expect(await s.revision()).to.equal(2);
    expect((await s.get('router', 'r'))!.portIds.at(-1)).to.equal('q1');
    expect((await stat(join(dir, 'journal.log'))).size).to.equal(offset);
    await s.transaction([routerPort('q3', 'r')]);
    await s.close();
    const again = await openFileStore(dir, { readOnly: true });
    expect((await again.get('router', 'r'))!.portIds.slice(-2)).to.deep.equal(['q1', 'q3']);
    await again.close();
  });

  it('loads a format-2 journal (whole objects) and appends whole records to it', async () => {
    const dir = join(root, 'v2');
    const s = await openFileStore(dir, { fsync: false });
    await s.transaction(base(40, 0, 0));
    await s.close();
    // the journal of this generation as format 2: header version 2, no record yet
    const path = join(dir, 'journal.log');
    const buf = await readFile(path);
    const header = encodeJournalHeader(
      Number(buf.readBigUInt64LE(16)),
      Number(buf.readBigUInt64LE(24)),
      buf.readUInt32LE(12),
      2,
    );
    await writeFile(path, Buffer.concat([header, buf.subarray(JOURNAL_HEADER_SIZE)]));
    const w = await openFileStore(dir, { fsync: false });
    await w.transaction([routerPort('q1', 'r')]);
    await w.close();
    const after = await readFile(path);
    expect(after.readUInt32LE(8)).to.equal(2);
    expect(after.subarray(JOURNAL_HEADER_SIZE).toString('utf8')).not.to.include('"lists"');
    const r = await openFileStore(dir, { readOnly: true });
    expect((await r.get('router', 'r'))!.portIds).to.have.length(41);
    await r.close();
  });
});
