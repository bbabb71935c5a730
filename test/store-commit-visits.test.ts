/**
 * A small commit's work is proportional to the commit, not to the store: after a bulk create
 * that adopted its objects (store/validate.ts `handOver`), a transaction touching a few of them
 * does not read any other stored object: not to persist the journal record, index, link
 * back-references, announce the change nor to compact. The adopted objects are proxies that
 * count every access, so this is asserted without timing.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handOverBatch, openFileStore, type Op, type TopologyStore } from '../src/store/index.js';

type Obj = Record<string, unknown>;

/** Plain objects whose every access after `counting = true` is counted, per object id. */
class Visits {
  counting = false;
  readonly byId = new Map<string, number>();

  wrap<T extends Obj>(target: T): T {
    const id = String(target['id']);
    const seen = (): void => {
      if (this.counting) this.byId.set(id, (this.byId.get(id) ?? 0) + 1);
    };
    return new Proxy(target, {
      get: (t, k, r) => (seen(), Reflect.get(t, k, r)),
      has: (t, k) => (seen(), Reflect.has(t, k)),
      ownKeys: (t) => (seen(), Reflect.ownKeys(t)),
      getOwnPropertyDescriptor: (t, k) => (seen(), Reflect.getOwnPropertyDescriptor(t, k)),
    });
  }
}

const CHAINS = 50;
const RULES_PER_CHAIN = 40;

describe('store: a small commit visits only the objects it changes', () => {
  let dir: string;
  let store: TopologyStore;
  let visits: Visits;
  let rules: Map<string, Obj>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'commit-visits-'));
    store = await openFileStore(dir, { fsync: false });
    visits = new Visits();
    rules = new Map();
    const ops: Extract<Op, { op: 'create' }>[] = [];
    for (let c = 0; c < CHAINS; c++) {
      ops.push({ op: 'create', kind: 'chain', object: { id: `c${c}`, name: `c${c}` } as never });
      for (let r = 0; r < RULES_PER_CHAIN; r++) {
        const tpDst = Object.freeze({ start: 1000 + r, end: 1000 + r });
        const rule = visits.wrap({ id: `r${c}-${r}`, chainId: `c${c}`, type: 'accept', tpDst });
        rules.set(rule['id'] as string, rule);
        ops.push({ op: 'create', kind: 'rule', object: rule as never });
      }
    }
    handOverBatch(ops);
    await store.bulkCreate!(ops);
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adopted the rules (the proxies are the stored objects)', async () => {
    const stored = await store.get('rule', 'r3-7');
    expect(stored).to.equal(rules.get('r3-7'));
    expect(stored!.version).to.be.a('number');
  });

  it('creates, updates and deletes rules reading only those rules', async () => {
    const before = (await store.get('rule', 'r0-1'))!;
    visits.counting = true;
    const { revision } = await store.transaction([
      {
        op: 'create',
        kind: 'rule',
        object: { id: 'new-1', chainId: 'c0', type: 'drop' } as never,
      },
      {
        op: 'update',
        kind: 'rule',
        object: { ...before, type: 'drop', version: before.version } as never,
      },
      { op: 'delete', kind: 'rule', id: 'r0-2' },
    ]);
    visits.counting = false;
    // the spread above read r0-1 before counting started; the commit may read the objects it
    // replaces or deletes (their previous versions), and nothing else
    const others = [...visits.byId.keys()].filter((id) => id !== 'r0-1' && id !== 'r0-2');
    expect(others).to.deep.equal([]);
    // and the commit did what it said
    expect(revision).to.be.greaterThan(0);
    expect((await store.get('rule', 'new-1'))!.type).to.equal('drop');
    expect((await store.get('rule', 'r0-1'))!.type).to.equal('drop');
    expect(await store.get('rule', 'r0-2')).to.equal(undefined);
    const chain = (await store.get('chain', 'c0'))!;
    expect(chain.ruleIds).to.include('new-1').and.not.include('r0-2');
    expect(chain.ruleIds).to.have.length(RULES_PER_CHAIN);
  });

  it('stays within the changed objects over many commits, the journal reopened after', async () => {
    visits.counting = true;
    for (let i = 0; i < 20; i++) {
      await store.transaction([
        {
          op: 'create',
          kind: 'rule',
          object: { id: `n${i}`, chainId: `c${i % CHAINS}`, type: 'drop' } as never,
        },
      ]);
    }
    visits.counting = false;
    expect([...visits.byId.keys()]).to.deep.equal([]);
    await store.close();
    store = await openFileStore(dir, { fsync: false });
    expect((await store.get('chain', 'c3'))!.ruleIds).to.have.length(RULES_PER_CHAIN + 1);
    expect((await store.get('rule', 'r3-7'))!.tpDst).to.deep.equal({ start: 1007, end: 1007 });
  });
});
