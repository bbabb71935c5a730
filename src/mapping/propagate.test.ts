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
import { check, documentLoader, runChain, snapshot } from '../../test/helpers/propagate-check.js';
import { cloudDocument, EDITS, pick, withNodes, type Edit } from '../../test/helpers/view-edits.js';
import { VPC_EDITS } from '../../test/helpers/vpc-edits.js';
import { entityKey, readGniWithState, type GlobalView, type Instance } from '../gni/index.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from './index.js';
import { wasPropagated } from './map-topology.js';

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

const ALL: Record<string, Edit> = { ...EDITS, ...VPC_EDITS, ...MORE };
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

describe('change propagation equals a full recompute', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`chains of random edits of shared views (seed ${seed})`, () => {
      const steps = 40;
      const start = generateView({ size: 'S', seed });
      const r = prng(seed * 104729);
      const { propagated: n } = runChain(
        `seed ${seed}`,
        r,
        start,
        steps,
        () => randomEdit(r),
        ALL,
        (v) => v,
      );
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
    const r = prng(77);
    const next = (): string => pick(names, r);
    const { propagated: n } = runChain('groups', r, start, steps, next, ALL, (v) => v);
    expect(n, 'passes done by propagation').to.be.greaterThan(steps * 0.8);
  });

  it('an instance the reader moves to another node is a new object, and is re-mapped', () => {
    // change propagation finds changed instances by identity only: it relies on the reader
    // replacing an instance whose placement changed by a copy (C1 rules 1 and 2)
    const view = generateView({ size: 'S', seed: 7 });
    const first = readGniWithState(cloudDocument(view, 1), {}, undefined);
    const v1 = first.result.view!;
    let prev = mapTopology(v1, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    prev = mapTopology({ ...v1 }, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    const inst = v1.instances[10]!;
    const nodes = v1.configuration.clusters.flatMap((c) => c.nodes.map((n) => n.name));
    const to = nodes.find((n) => n !== inst.node)!;
    const second = readGniWithState(cloudDocument(moveTo(v1, inst.id, to), 2), {}, first.state);
    expect(second.incremental).to.equal(true);
    const v2 = second.result.view!;
    const moved = v2.instances.find((i) => i.id === inst.id)!;
    expect(moved.node).to.equal(to);
    expect(moved).to.not.equal(inst);
    expect(inst.node, 'the last view keeps its placement').to.not.equal(to);
    const full = mapTopology(v2, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(v2, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(wasPropagated(inc)).to.equal(true);
    check(inc, full, before, 'moved');
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
      const { load, incremental } = documentLoader();
      const steps = 25;
      const start = generateView({ size: 'S', seed });
      const r = prng(seed * 15485863);
      const next = (): string => pick(CLEAN, r);
      const { propagated: n } = runChain(`seed ${seed}`, r, start, steps, next, ALL, load);
      expect(incremental(), 'incremental reads').to.be.greaterThan(steps / 2);
      expect(n, 'passes done by propagation').to.be.greaterThan(steps / 3);
    });
  }
});
