import { expect } from 'chai';
import { createLogger } from '../common/index.js';
import type { Port, Router } from '../store/index.js';
import { createRunner } from './exec.js';
import { createHeartbeatLiveness, type HeartbeatLiveness } from './heartbeat.js';
import type { HostTopology } from './topology.js';

const PORT = 47990 + (process.pid % 9);
const G1 = 'gw-1';
const G2 = 'gw-2';
const H = 'compute-1';
const UNDERLAY = new Map([
  [G1, '127.0.0.1'],
  [G2, '127.0.0.3'],
  [H, '127.0.0.2'],
]);
const eucart: Router = {
  id: 'rt-core',
  version: 1,
  name: 'eucart',
  adminStateUp: true,
  portIds: [],
  routeIds: [],
  bgpPeerIds: [],
  bgpNetworkIds: [],
};
const uplink = (dev: string): Port => ({
  id: 'p-up',
  version: 1,
  type: 'Router',
  routerId: eucart.id,
  hostId: G1,
  interfaceName: dev,
  adminStateUp: true,
  portGroupIds: [],
  routeIds: [],
  macEntryIds: [],
});

function topoOf(me: string, uplinkDev: string): HostTopology {
  return {
    hostId: me,
    boundPorts: [],
    bridges: [],
    ports: new Map([['p-up', uplink(uplinkDev)]]),
    routers: [eucart],
    routes: [],
    chains: new Map(),
    rules: new Map(),
    ipAddrGroups: new Map(),
    dhcpSubnets: [],
    arpEntries: [],
    macEntries: [],
    underlay: UNDERLAY,
    gatewayHostIds: [G1, G2],
  };
}

async function until(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

describe('datapath gateway heartbeats (loopback UDP)', function () {
  this.timeout(20_000);
  const logger = createLogger({ level: 'error' });
  const opts = { port: PORT, intervalMs: 100, ttlMs: 400, runner: createRunner(), logger };
  const open: HeartbeatLiveness[] = [];
  afterEach(async () => {
    for (const l of open.splice(0)) await l.close();
  });

  it('takes a gateway as alive while its heartbeats arrive, dead after the ttl, and says so', async function () {
    const gw = await createHeartbeatLiveness({ ...opts, bindAddress: '127.0.0.1' });
    const compute = await createHeartbeatLiveness({ ...opts, bindAddress: '127.0.0.2' });
    open.push(gw, compute);
    gw.observe!(topoOf(G1, 'lo'));
    compute.observe!(topoOf(H, 'lo'));
    let changes = 0;
    compute.subscribe!(() => changes++);
    const liveOf = async (): Promise<string> =>
      [...(await compute.liveHosts([G1, G2]))].sort().join(',');
    // both alive during the start-up grace, then only the one that beats
    expect(await liveOf()).to.equal(`${G1},${G2}`);
    // the subscriber hears of it by the next tick (liveHosts answers from the clock at once)
    expect(await until(async () => (await liveOf()) === G1 && changes > 0, 3000)).to.equal(true);
    const seen = changes;
    await gw.close();
    open.splice(0, 1);
    expect(await until(async () => (await liveOf()) === '' && changes > seen, 3000)).to.equal(true);
  });

  it('stops beating while an uplink is down, and ignores beats from a wrong address', async function () {
    // the uplink device does not exist: the gateway does not beat
    const gw = await createHeartbeatLiveness({ ...opts, bindAddress: '127.0.0.1' });
    const compute = await createHeartbeatLiveness({ ...opts, bindAddress: '127.0.0.2' });
    open.push(gw, compute);
    gw.observe!(topoOf(G1, 'no-such-dev0'));
    compute.observe!(topoOf(H, 'lo'));
    // and a forger on another address claims to be G2
    const forger = await createHeartbeatLiveness({ ...opts, bindAddress: '127.0.0.4' });
    open.push(forger);
    forger.observe!({ ...topoOf(G2, 'lo'), underlay: new Map([...UNDERLAY, [G2, '127.0.0.4']]) });
    await new Promise((r) => setTimeout(r, 900));
    expect([...(await compute.liveHosts([G1, G2]))]).to.deep.equal([]);
  });
});
