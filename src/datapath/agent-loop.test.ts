import { expect } from 'chai';
import { silentLogger } from '../common/index.js';
import { createMemoryStore, type TopologyStore } from '../store/index.js';
import { runAgent, type PassResult } from './agent.js';

/** Holds the first command of a pass until released; `entered` resolves when it is reached. */
interface Hold {
  gate?: Promise<void> | undefined;
  entered?: () => void;
}

/** A runner that answers every read with nothing (nft: no table) and can hold a pass. */
function emptyRunner(hold: Hold): (argv: readonly string[]) => Promise<string> {
  return async (argv) => {
    const gate = hold.gate;
    hold.gate = undefined;
    if (gate) {
      hold.entered?.();
      await gate;
    }
    if (argv[0] === 'nft') throw new Error('no table');
    return '';
  };
}

const host = (n: number): { op: 'create'; kind: 'host'; object: never } => ({
  op: 'create',
  kind: 'host',
  object: { id: `h-${n}`, name: `h${n}`, addresses: [] } as never,
});

describe('agent loop', function () {
  this.timeout(15_000);
  let store: TopologyStore;
  let abort: AbortController;
  let running: Promise<void>;
  const passes: { revision: number; at: number }[] = [];

  const start = (hold: Hold): void => {
    passes.length = 0;
    store = createMemoryStore();
    abort = new AbortController();
    running = runAgent({
      store,
      host: 'node-1',
      netnsPrefix: 'edlt-',
      stateDir: '/nonexistent/edlt',
      dryRun: true,
      print: () => undefined,
      logger: silentLogger(),
      signal: abort.signal,
      runner: emptyRunner(hold),
      // the default resync interval (10 s): a change must not wait for it
      onPass: (r: PassResult) => passes.push({ revision: r.revision, at: performance.now() }),
    });
  };
  const passAt = async (revision: number, ms: number): Promise<number | undefined> => {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      const p = passes.find((x) => x.revision >= revision);
      if (p) return p.at;
      await new Promise((r) => setTimeout(r, 10));
    }
    return undefined;
  };

  afterEach(async () => {
    abort.abort();
    await running;
    await store.close();
  });

  it('passes again at once for a change committed while a pass was running', async () => {
    let release!: () => void;
    let entered!: () => void;
    const inPass = new Promise<void>((r) => (entered = r));
    // the first command of the first pass: the pass has read its revision and topology
    const hold: Hold = { gate: new Promise<void>((r) => (release = r)), entered };
    start(hold);
    await inPass;
    const { revision } = await store.transaction([host(1)]);
    await new Promise((r) => setTimeout(r, 50)); // the watch delivers while the pass still runs
    const committed = performance.now();
    release();
    const at = await passAt(revision, 3000);
    expect(at, 'a pass that saw the change').to.not.equal(undefined);
    expect(at! - committed).to.be.below(1000);
    expect(passes[0]!.revision).to.be.below(revision); // the first pass did not see it
  });

  it('passes for a change committed while idle, and not again without one', async () => {
    start({});
    expect(await passAt(0, 3000)).to.not.equal(undefined);
    await new Promise((r) => setTimeout(r, 200));
    const idle = passes.length;
    const { revision } = await store.transaction([host(2)]);
    const committed = performance.now();
    const at = await passAt(revision, 3000);
    expect(at! - committed).to.be.below(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(passes.length).to.equal(idle + 1);
  });

  it("passes for another host's new address, not for its heartbeat", async () => {
    start({});
    const { revision: created } = await store.transaction([host(3)]);
    expect(await passAt(created, 3000)).to.not.equal(undefined);
    await new Promise((r) => setTimeout(r, 200));
    const settled = passes.length;
    const update = (addresses: string[], at: number) =>
      store.transaction([
        {
          op: 'update',
          kind: 'host',
          object: { id: 'h-3', name: 'h3', addresses, heartbeatAt: at, heartbeatTtlMs: 30_000 },
        } as never,
      ]);
    await update([], Date.now()); // the book learns h-3's addresses (unknown before)
    await new Promise((r) => setTimeout(r, 300));
    const learned = passes.length;
    expect(learned).to.be.at.most(settled + 1);
    await update([], Date.now() + 1); // a heartbeat: same addresses
    await update([], Date.now() + 2);
    await new Promise((r) => setTimeout(r, 500));
    expect(passes.length, 'no pass for heartbeats').to.equal(learned);
    const { revision } = await update(['192.0.2.33'], Date.now() + 3);
    expect(await passAt(revision, 3000), 'a pass for a new underlay address').to.not.equal(
      undefined,
    );
  });
});
