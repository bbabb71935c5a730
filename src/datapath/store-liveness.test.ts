import { expect } from 'chai';
import type { Host } from '../store/index.js';
import { createStoreLiveness, type StoreLiveness } from './store-liveness.js';
import type { GatewayLiveness } from './topology.js';

const G1 = 'gw-1';
const G2 = 'gw-2';
const G3 = 'gw-3';
const ME = 'compute-1';
const NOW = 1_000_000;

const host = (id: string, heartbeatAt?: number, heartbeatTtlMs = 30_000): Host => ({
  id,
  version: 1,
  name: id,
  addresses: [],
  portIds: [],
  tunnelZoneIds: [],
  ...(heartbeatAt !== undefined ? { heartbeatAt, heartbeatTtlMs } : {}),
});

const fastOf = (alive: string[]): GatewayLiveness => ({
  liveHosts: (candidates) => Promise.resolve(new Set(candidates.filter((c) => alive.includes(c)))),
});

describe('gateway liveness from stored heartbeats (combined with the fast source)', function () {
  const open: StoreLiveness[] = [];
  afterEach(() => open.splice(0).forEach((l) => l.close()));
  const make = (fast?: GatewayLiveness, now = (): number => NOW, checkMs = 1000): StoreLiveness => {
    const l = createStoreLiveness({ ...(fast ? { fast } : {}), now, checkMs });
    open.push(l);
    return l;
  };

  it('takes a gateway whose stored heartbeat expired as dead, whatever the fast source says', async function () {
    const l = make(fastOf([G1, G2, G3]));
    // expired: silent for more than twice the TTL (30 s)
    const hosts = [host(G1, NOW - 59_000), host(G2, NOW - 61_000), host(G3)];
    const live = await l.liveHosts([G1, G2, G3], { hosts, me: ME });
    // G2's agent is gone (expired), G3 has no stored heartbeat (no verdict: the fast source's)
    expect([...live].sort()).to.deep.equal([G1, G3]);
  });

  it('takes the fast source’s word for a death the store cannot see yet', async function () {
    const l = make(fastOf([G2]));
    const hosts = [host(G1, NOW - 1000), host(G2, NOW - 1000)];
    expect([...(await l.liveHosts([G1, G2], { hosts, me: ME }))]).to.deep.equal([G2]);
  });

  it('never takes this host as dead, nor judges without the store’s hosts', async function () {
    const l = make();
    const hosts = [host(G1, NOW - 60_000), host(G2, NOW - 60_000)];
    expect([...(await l.liveHosts([G1, G2], { hosts, me: G1 }))]).to.deep.equal([G1]);
    expect([...(await l.liveHosts([G1, G2]))].sort()).to.deep.equal([G1, G2]);
  });

  it('wakes its subscribers when a stored heartbeat expires (nothing changed in the store)', async function () {
    let t = NOW;
    const l = make(undefined, () => t, 20);
    let calls = 0;
    const unsubscribe = l.subscribe!(() => calls++);
    const hosts = [host(G1, NOW - 1000, 5000), host(G2, NOW - 1000, 60_000)];
    expect([...(await l.liveHosts([G1, G2], { hosts, me: ME }))].sort()).to.deep.equal([G1, G2]);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).to.equal(0);
    t = NOW + 9500; // G1's heartbeat is 10.5 s old, twice its TTL is 10 s: still alive
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).to.equal(0);
    t = NOW + 29_500; // 30.5 s: silent longer than STORE_MIN_SILENCE_MS
    const woke = Date.now();
    while (calls === 0 && Date.now() - woke < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(calls).to.equal(1);
    expect([...(await l.liveHosts([G1, G2], { hosts, me: ME }))]).to.deep.equal([G2]);
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).to.equal(1); // one change, one wake-up
    unsubscribe();
  });
});
