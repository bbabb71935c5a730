/**
 * The gateways' BGP speaker from a real mapping: fixtures/datapath/multi-gateway.xml (two BGP
 * gateways peering with 198.51.100.1) is reconciled into a memory store, and each host's share
 * is read and turned into desired state: the BIRD configuration (sessions, AS numbers,
 * advertised ranges), the daemon, and the plan that reloads it on change. No root needed.
 */
import { expect } from 'chai';
import { hostId } from '../src/common/index.js';
import {
  desiredHost,
  planHost,
  readHostTopology,
  type DesiredHost,
  type ObservedHost,
} from '../src/datapath/index.js';
import { DEFAULT_MAPPING_CONFIG } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import { createMemoryStore, type TopologyStore } from '../src/store/index.js';
import { loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';

const FIXTURE = repoPath('fixtures/datapath/multi-gateway.xml');
const STATE = '/run/edpt-test-state';
const options = { netnsPrefix: 'edpt-', stateDir: STATE };
const CONF = `${STATE}/bird.conf`;
const CTL = `${STATE}/bird.ctl`;

async function hostState(store: TopologyStore, host: string): Promise<DesiredHost> {
  return desiredHost(await readHostTopology(store, hostId(host)), options);
}

/** The host as it is once `d` was applied (processes running with their command lines). */
function appliedHost(d: DesiredHost, files = d.files ?? []): ObservedHost {
  return {
    links: new Map(),
    namespaces: new Map(),
    dhcp: new Map(),
    nft: new Map(),
    isBridgeNfCallOn: true,
    processes: new Map(
      (d.processes ?? []).map((p, i) => [p.key, { pid: 1000 + i, cmdline: p.cmdline.join('\0') }]),
    ),
    files: new Map(files.map((f) => [f.path, f.content])),
  };
}

const processActions = (actions: ReturnType<typeof planHost>): unknown[] =>
  actions.filter(
    (a) =>
      a.type === 'spawn' ||
      a.type === 'signal' ||
      (a.type === 'exec' && a.argv[0] === 'birdc') ||
      (a.type === 'write' && a.path === CONF),
  );

describe('datapath BGP speaker (multi-gateway mapping)', function () {
  let store: TopologyStore;
  before(async function () {
    store = createMemoryStore();
    await reconcileView(store, viewOf(loadDoc(FIXTURE)), DEFAULT_MAPPING_CONFIG);
  });
  after(async () => store.close());

  it('gives each gateway host its own session from its uplink, advertising bgpAdRoutes', async function () {
    for (const [host, local] of [
      ['192.0.2.21', '198.51.100.2'],
      ['192.0.2.22', '198.51.100.3'],
    ] as const) {
      const d = await hostState(store, host);
      const conf = d.files?.find((f) => f.path === CONF)?.content ?? '';
      expect(conf, host).to.include(`router id ${local};`);
      expect(conf, host).to.include(`local ${local} as 65001;`);
      expect(conf, host).to.include('neighbor 198.51.100.1 as 65000;');
      expect(conf, host).to.include('route 203.0.113.0/24 unreachable;');
      expect(conf.match(/protocol bgp /g), host).to.have.length(1);
      const bird = d.processes?.find((p) => p.key === 'bgp');
      expect(bird?.cmdline, host).to.deep.equal([
        'bird',
        '-f',
        '-c',
        CONF,
        '-s',
        CTL,
        '-P',
        `${STATE}/bird.pid`,
      ]);
      // in the core router's namespace, where the uplink is
      const eucart = d.routerNamespaces.find((r) => r.links.some((l) => l.kind === 'macvlan'));
      expect(bird?.argv.slice(0, 4), host).to.deep.equal(['ip', 'netns', 'exec', eucart?.ns]);
      // the speaker dies with the agent (a crashed agent's gateway stops advertising)
      expect(bird?.argv.slice(4), host).to.deep.equal([
        'setpriv',
        '--pdeathsig',
        'KILL',
        ...bird!.cmdline,
      ]);
      // BFD on the session: an uplink down is noticed in well under a second, not the hold time
      expect(conf, host).to.match(
        /protocol bfd \{\n  interface "\*" \{\n    min rx interval 200 ms;/,
      );
      expect(conf, host).to.match(/neighbor 198\.51\.100\.1 as 65000;[^}]*bfd on;/);
    }
  });

  it('runs no speaker on compute hosts', async function () {
    for (const host of ['192.0.2.11', '192.0.2.12']) {
      const d = await hostState(store, host);
      expect(d.processes?.map((p) => p.key) ?? [], host).not.to.include('bgp');
      expect(d.files?.map((f) => f.path) ?? [], host).not.to.include(CONF);
    }
  });

  it('starts the speaker once, then plans nothing for it', async function () {
    const d = await hostState(store, '192.0.2.21');
    const fresh = planHost(d, { ...appliedHost(d, []), processes: new Map() });
    expect(processActions(fresh).map((a) => (a as { type: string }).type)).to.deep.equal([
      'write',
      'spawn',
    ]);
    expect(processActions(planHost(d, appliedHost(d)))).to.deep.equal([]);
  });

  it('reloads, never restarts, the running speaker when its configuration changes', async function () {
    const d = await hostState(store, '192.0.2.21');
    const old = (d.files ?? []).map((f) =>
      f.path === CONF
        ? { ...f, content: f.content.replace('203.0.113.0/24', '203.0.113.0/25') }
        : f,
    );
    const actions = processActions(planHost(d, appliedHost(d, old)));
    expect(actions).to.deep.equal([
      { type: 'write', path: CONF, content: d.files!.find((f) => f.path === CONF)!.content },
      { type: 'exec', argv: ['birdc', '-s', CTL, 'configure'] },
    ]);
  });

  it('stops the speaker of a host that is no longer a BGP gateway', async function () {
    const d = await hostState(store, '192.0.2.21');
    const running = appliedHost(d);
    const plain = await hostState(store, '192.0.2.11');
    const actions = planHost(plain, { ...running, files: new Map() });
    const pid = running.processes?.get('bgp')?.pid;
    expect(pid).to.be.a('number');
    expect(actions).to.deep.include({ type: 'signal', pid, signal: 'SIGTERM' });
  });

  it('realizes no session and says why when the core router has no AS number', async function () {
    const topo = await readHostTopology(store, hostId('192.0.2.21'));
    const noAs = {
      ...topo,
      routers: topo.routers.map((r) => {
        if (r.name !== 'eucart') return r;
        const { asNumber, ...rest } = r;
        expect(asNumber).to.equal(65001);
        return rest;
      }),
    };
    const d = desiredHost(noAs, options);
    expect(d.processes?.map((p) => p.key)).not.to.include('bgp');
    expect(d.issues.map((i) => i.message).join('\n')).to.match(/BGP peers without an AS number/);
  });
});
