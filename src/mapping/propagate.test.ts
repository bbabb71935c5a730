/**
 * Change propagation (propagate.ts) must give exactly what a full recompute gives, pass after
 * pass: seeded chains of random edits, each view patched from the previous result and compared
 * with a full recompute of the same view (objects, chain rule orders, issues, held owners,
 * allocations) and with the previous desired topology plus the delta. The views share their
 * unchanged entities with the previous view, as contract C1 says a reader's do: once from
 * plain object edits, once from documents read with `readGniWithState` chains.
 */
import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { cloudDocument, EDITS, pick, withNodes, type Edit } from '../../test/helpers/view-edits.js';
import {
  entityKey,
  readGniWithState,
  type GlobalView,
  type GniReadState,
  type Instance,
  type Route,
  type Vpc,
} from '../gni/index.js';
import { KINDS } from '../store/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  serializeDesired,
  type MappingResult,
} from './index.js';
import { wasPropagated } from './map-topology.js';

type Snapshot = Record<string, Map<string, object>>;

function snapshot(r: MappingResult): Snapshot {
  const out: Snapshot = {};
  for (const kind of KINDS) out[kind] = new Map(r.desired[kind] as ReadonlyMap<string, object>);
  return out;
}

function lines(r: MappingResult): string[] {
  return serializeDesired(r.desired).split('\n').sort();
}

/** The patched result equals the full one, and previous + delta = patched. */
function check(inc: MappingResult, full: MappingResult, before: Snapshot, what: string): void {
  expect(lines(inc), what).to.deep.equal(lines(full));
  expect(inc.issues, what).to.deep.equal(full.issues);
  expect([...inc.held], what).to.deep.equal([...full.held]);
  expect([...inc.heldReasons], what).to.deep.equal([...full.heldReasons]);
  expect(inc.allocations, what).to.deep.equal(full.allocations);
  if (inc.delta === undefined) return;
  for (const kind of KINDS) {
    const now = new Map(before[kind]!);
    for (const id of inc.delta[kind].removed) now.delete(id);
    for (const o of inc.delta[kind].put) now.set((o as { id: string }).id, o);
    const got = inc.desired[kind] as ReadonlyMap<string, object>;
    expect(now.size, `${what}: ${kind} count`).to.equal(got.size);
    for (const [id, o] of got) expect(now.get(id), `${what}: ${kind}/${id}`).to.equal(o);
  }
}

function replaceAt<T>(xs: readonly T[], i: number, x: T): T[] {
  return xs.map((y, j) => (j === i ? x : y));
}

function atRandom<T>(xs: readonly T[], r: () => number): number {
  return Math.floor(r() * xs.length);
}

function editInstance(v: GlobalView, r: () => number, f: (i: Instance) => Instance): GlobalView {
  const i = atRandom(v.instances, r);
  return { ...v, instances: replaceAt(v.instances, i, f(v.instances[i]!)) };
}

function editVpc(v: GlobalView, r: () => number, f: (x: Vpc) => Vpc): GlobalView {
  const i = atRandom(v.vpcs, r);
  return { ...v, vpcs: replaceAt(v.vpcs, i, f(v.vpcs[i]!)) };
}

function addRoute(
  v: GlobalView,
  r: () => number,
  route: (x: Vpc) => Route | undefined,
): GlobalView {
  return editVpc(v, r, (x) => {
    const add = route(x);
    if (add === undefined || x.routeTables.length === 0) return x;
    return {
      ...x,
      routeTables: x.routeTables.map((t, k) =>
        k === 0 ? { ...t, routes: [...t.routes, add] } : t,
      ),
    };
  });
}

/** Moves instance `id` to node `to` (its node field and the node lists). */
function moveTo(v: GlobalView, id: string, to: string): GlobalView {
  const placed = withNodes(v, (n) => ({
    ...n,
    instanceIds: n.name === to ? [...n.instanceIds, id] : n.instanceIds.filter((x) => x !== id),
  }));
  return { ...placed, instances: v.instances.map((i) => (i.id === id ? { ...i, node: to } : i)) };
}

let counter = 0;

/** Edits beyond the shared ones (test/helpers/view-edits.ts); all keep unchanged entities. */
const MORE: Record<string, Edit> = {
  'add a secondary interface': (v, r) =>
    editInstance(v, r, (i) => {
      const p = i.networkInterfaces[0];
      if (p === undefined) return i;
      const n = ++counter;
      return {
        ...i,
        networkInterfaces: [
          ...i.networkInterfaces,
          {
            ...p,
            id: `eni-5ec${n.toString(16).padStart(5, '0')}`,
            deviceIndex: i.networkInterfaces.length,
            macAddress: `d0:0d:5e:00:${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`,
            privateIp: (p.privateIp ?? '10.0.0.1').replace(/\.\d+$/, `.${150 + (n % 40)}`),
            securityGroups: r() < 0.5 ? p.securityGroups : [pick(v.securityGroups, r).id],
          },
        ],
      };
    }),
  'remove a secondary interface': (v, r) =>
    editInstance(v, r, (i) => {
      const k = i.networkInterfaces.findIndex((e) => e.deviceIndex !== 0);
      if (k < 0) return i;
      return { ...i, networkInterfaces: i.networkInterfaces.filter((_, x) => x !== k) };
    }),
  'move an instance to another node': (v, r) => {
    const i = pick(v.instances, r);
    const nodes = v.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
    return moveTo(v, i.id, pick(nodes, r));
  },
  'add a security group': (v, r) => {
    const src = pick(v.securityGroups, r);
    // sometimes the group an interface names but that did not exist
    const id = r() < 0.5 ? 'sg-missing' : `sg-add${(++counter).toString(16)}`;
    if (v.securityGroups.some((g) => g.id === id)) return v;
    return { ...v, securityGroups: [...v.securityGroups, { ...src, id }] };
  },
  'change the groups of an interface to existing ones': (v, r) =>
    editInstance(v, r, (i) => ({
      ...i,
      networkInterfaces: i.networkInterfaces.map((ni, k) =>
        k === 0
          ? { ...ni, securityGroups: [pick(v.securityGroups, r).id, pick(v.securityGroups, r).id] }
          : ni,
      ),
    })),
  'remove an egress rule': (v, r) => {
    const k = atRandom(v.securityGroups, r);
    const sg = v.securityGroups[k]!;
    return {
      ...v,
      securityGroups: replaceAt(v.securityGroups, k, {
        ...sg,
        egressRules: sg.egressRules.slice(1),
      }),
    };
  },
  'route to an internet gateway': (v, r) =>
    addRoute(v, r, (x) =>
      x.internetGateways[0] === undefined
        ? undefined
        : {
            destinationCidr: '0.0.0.0/0',
            gatewayId: x.internetGateways[0],
            target: { type: 'internetGateway', id: x.internetGateways[0] },
          },
    ),
  'route to a NAT gateway': (v, r) =>
    addRoute(v, r, (x) =>
      x.natGateways[0] === undefined
        ? undefined
        : {
            destinationCidr: '172.21.0.0/16',
            natGatewayId: x.natGateways[0].id,
            target: { type: 'natGateway', id: x.natGateways[0].id },
          },
    ),
  'route to an interface of this VPC': (v, r) =>
    addRoute(v, r, (x) => {
      const e = v.instances.find((i) => i.vpc === x.id)?.networkInterfaces[0];
      if (e === undefined) return undefined;
      return {
        destinationCidr: `172.22.${Math.floor(r() * 250)}.0/24`,
        networkInterfaceId: e.id,
        target: { type: 'networkInterface', id: e.id },
      };
    }),
  'change the private IP of an interface a route targets': (v, r) => {
    const targets = new Set<string>();
    for (const x of v.vpcs)
      for (const t of x.routeTables)
        for (const rt of t.routes)
          if (rt.target?.type === 'networkInterface') targets.add(rt.target.id);
    const k = v.instances.findIndex((i) => i.networkInterfaces.some((e) => targets.has(e.id)));
    if (k < 0) return v;
    const i = v.instances[k]!;
    const octet = 100 + Math.floor(r() * 40);
    return {
      ...v,
      instances: replaceAt(v.instances, k, {
        ...i,
        networkInterfaces: i.networkInterfaces.map((e) =>
          targets.has(e.id)
            ? { ...e, privateIp: (e.privateIp ?? '10.0.0.1').replace(/\.\d+$/, `.${octet}`) }
            : e,
        ),
      }),
    };
  },
  'add a subnet': (v, r) =>
    editVpc(v, r, (x) => {
      const s = x.subnets[0];
      if (s === undefined || x.cidr === undefined) return x;
      const n = ++counter;
      const base = x.cidr.split('/')[0]!.split('.').slice(0, 2).join('.');
      return {
        ...x,
        subnets: [
          ...x.subnets,
          { ...s, id: `subnet-add${n}`, cidr: `${base}.${200 + (n % 50)}.0/24` },
        ],
      };
    }),
  'add a VPC': (v, r) => {
    const src = pick(v.vpcs, r);
    const n = ++counter;
    const re = (id: string): string => `${id}-c${n}`;
    const vpc: Vpc = {
      ...src,
      id: re(src.id),
      cidr: `172.${16 + (n % 15)}.0.0/16`,
      subnets: src.subnets.map((s, k) => ({
        ...s,
        id: re(s.id),
        cidr: `172.${16 + (n % 15)}.${k}.0/24`,
        ...(s.networkAcl === undefined ? {} : { networkAcl: re(s.networkAcl) }),
        ...(s.routeTable === undefined ? {} : { routeTable: re(s.routeTable) }),
      })),
      networkAcls: src.networkAcls.map((a) => ({ ...a, id: re(a.id) })),
      routeTables: src.routeTables.map((t) => ({ ...t, id: re(t.id), routes: [] })),
      natGateways: [],
    };
    return { ...v, vpcs: [...v.vpcs, vpc] };
  },
  'change a DHCP option set': (v, r) => {
    if (v.dhcpOptionSets.length === 0) return v;
    const k = atRandom(v.dhcpOptionSets, r);
    const d = v.dhcpOptionSets[k]!;
    return {
      ...v,
      dhcpOptionSets: replaceAt(v.dhcpOptionSets, k, {
        ...d,
        domainNameServers: [`10.20.0.${Math.floor(r() * 200) + 2}`],
      }),
    };
  },
  'mark an interface invalid': (v, r) => {
    const e = pick(v.instances, r).networkInterfaces[0];
    if (e === undefined) return v;
    return { ...v, invalid: new Set([...v.invalid, entityKey('networkInterface', e.id)]) };
  },
  'make an entity valid again': (v, r) => {
    if (v.invalid.size === 0) return v;
    const gone = pick([...v.invalid], r);
    return { ...v, invalid: new Set([...v.invalid].filter((k) => k !== gone)) };
  },
};

const ALL: Record<string, Edit> = { ...EDITS, ...MORE };
/** Mostly the cycle's common changes (instances, interfaces, rules), the rest now and then. */
const COMMON = [
  'add an instance',
  'remove an instance',
  'change a public IP',
  'change security groups of an interface',
  'change a security group rule',
  'add a secondary interface',
  'remove a secondary interface',
  'move an instance to another node',
  'remove an egress rule',
  'change the private IP of an interface a route targets',
];

function randomEdit(r: () => number): string {
  return r() < 0.7 ? pick(COMMON, r) : pick(Object.keys(ALL), r);
}

/** Edits whose documents read back clean (the incremental reader needs a clean last read):
 * no references to missing groups, nothing marked invalid by hand. */
const CLEAN = [
  ...COMMON.filter((n) => n !== 'change security groups of an interface'),
  'change the groups of an interface to existing ones',
  'add a security group',
  'route to an internet gateway',
  'route to a NAT gateway',
  'route to an interface of this VPC',
  'add a subnet',
  'change a DHCP option set',
  'change a subnet ACL',
  'change DNS servers',
];

/**
 * Runs `steps` random edits from `start`, each view made by `load` from the edited one, and
 * checks each patched pass against a full recompute. An edit that leaves duplicate objects
 * (every pass is then a full one) is taken back the pass after. Returns how many passes
 * change propagation did.
 */
function runChain(
  what: string,
  r: () => number,
  start: GlobalView,
  steps: number,
  names: readonly string[] | undefined,
  load: (v: GlobalView) => GlobalView,
): number {
  let view = load(start);
  let good = view;
  let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
  let duplicate = false;
  let propagated = 0;
  for (let step = 0; step < steps; step++) {
    const name = duplicate
      ? 'take the duplicate back'
      : names === undefined
        ? randomEdit(r)
        : pick(names, r);
    view = load(duplicate ? good : ALL[name]!(view, r));
    const label = `${what} step ${step}: ${name}`;
    const full = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    check(inc, full, before, label);
    if (wasPropagated(inc)) propagated++;
    duplicate = full.issues.some((i) => i.code === 'mapping.duplicate-object');
    if (!duplicate) good = view;
    prev = inc;
  }
  return propagated;
}

describe('change propagation equals a full recompute', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`chains of random edits of shared views (seed ${seed})`, () => {
      const steps = 40;
      const start = generateView({ size: 'S', seed });
      const n = runChain(`seed ${seed}`, prng(seed * 104729), start, steps, undefined, (v) => v);
      expect(n, 'passes done by propagation').to.be.greaterThan(steps / 2);
    });
  }

  it('chains of security groups added and removed, and interfaces naming them', () => {
    const names = [
      'add a security group',
      'remove a security group',
      'change security groups of an interface',
      'change the groups of an interface to existing ones',
      'change a security group rule',
      'add an instance',
    ];
    const steps = 30;
    const start = generateView({ size: 'S', seed: 9 });
    const n = runChain('groups', prng(77), start, steps, names, (v) => v);
    expect(n, 'passes done by propagation').to.be.greaterThan(steps * 0.8);
  });

  it('an instance moved to another node in place (a reader before C1) is re-mapped', () => {
    const view = generateView({ size: 'S', seed: 7 });
    let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    prev = mapTopology({ ...view }, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    const inst = view.instances[10]!;
    const nodes = view.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
    const to = nodes.find((n) => n !== inst.node)!;
    (inst as { node?: string }).node = to; // what the reader still does to a reused instance
    const next = { ...view, instances: [...view.instances] };
    const full = mapTopology(next, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(next, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(wasPropagated(inc)).to.equal(true);
    check(inc, full, before, 'moved in place');
    expect(inc.delta!.port.put.length).to.be.greaterThan(0);
  });

  it('a view sharing nothing with the last one is patched by comparing (same result)', () => {
    const view = generateView({ size: 'S', seed: 8 });
    const prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const again = EDITS['add an instance']!(generateView({ size: 'S', seed: 8 }), prng(3));
    const full = mapTopology(again, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(again, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(wasPropagated(inc)).to.equal(false);
    expect(inc.delta).to.not.equal(undefined);
    check(inc, full, before, 'fresh copy');
  });

  for (const seed of [5, 6]) {
    it(`chains of documents read with readGniWithState (seed ${seed})`, () => {
      let version = 0;
      let state: GniReadState | undefined;
      let incremental = 0;
      const load = (v: GlobalView): GlobalView => {
        const read = readGniWithState(cloudDocument(v, ++version), {}, state);
        if (read.incremental) incremental++;
        state = read.state;
        return read.result.view!;
      };
      const steps = 25;
      const start = generateView({ size: 'S', seed });
      const n = runChain(`seed ${seed}`, prng(seed * 15485863), start, steps, CLEAN, load);
      expect(incremental, 'incremental reads').to.be.greaterThan(steps / 2);
      expect(n, 'passes done by propagation').to.be.greaterThan(steps / 3);
    });
  }
});
