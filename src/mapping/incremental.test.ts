/**
 * Incremental mapping (`mapTopology(view, allocations, config, previous)`) must give exactly
 * what a full recompute gives: same objects in the same order, issues, held owners and
 * allocations. Checked over generated documents with seeded random edits, each edit applied to
 * a freshly generated copy of the view (as a re-read document would be: no shared objects).
 */
import { expect } from 'chai';
import {
  entityKey,
  type GlobalView,
  type Instance,
  type NetworkInterface,
  type Vpc,
} from '../gni/index.js';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { KINDS } from '../store/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  serializeDesired,
  type MappingConfig,
  type MappingResult,
} from './index.js';

function withoutPublicIp(ni: NetworkInterface): NetworkInterface {
  const { publicIp: _dropped, ...rest } = ni;
  return rest;
}

type Edit = (v: GlobalView, r: () => number) => GlobalView;

function pick<T>(xs: readonly T[], r: () => number): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function replaceAt<T>(xs: readonly T[], i: number, x: T): T[] {
  return xs.map((y, j) => (j === i ? x : y));
}

function editInstance(v: GlobalView, r: () => number, f: (i: Instance) => Instance): GlobalView {
  const i = Math.floor(r() * v.instances.length);
  return { ...v, instances: replaceAt(v.instances, i, f(v.instances[i]!)) };
}

function editVpc(v: GlobalView, r: () => number, f: (x: Vpc) => Vpc): GlobalView {
  const i = Math.floor(r() * v.vpcs.length);
  return { ...v, vpcs: replaceAt(v.vpcs, i, f(v.vpcs[i]!)) };
}

const EDITS: Record<string, Edit> = {
  'add an instance': (v, r) => {
    const src = pick(v.instances, r);
    const n = Math.floor(r() * 1e6);
    const id = `i-ff${n.toString(16).padStart(6, '0')}`;
    const { publicIp: _dropped, ...rest } = src;
    const added: Instance = {
      ...rest,
      id,
      networkInterfaces: src.networkInterfaces.map((ni, k) => ({
        ...withoutPublicIp(ni),
        id: `eni-ff${n.toString(16).padStart(6, '0')}${k}`,
        privateIp: (ni.privateIp ?? '10.0.0.1').replace(/\.\d+$/, `.${200 + k}`),
        macAddress: `d0:0d:ff:${(n & 255).toString(16).padStart(2, '0')}:00:0${k}`,
      })),
    };
    const at = Math.floor(r() * v.instances.length);
    const instances = [...v.instances.slice(0, at), added, ...v.instances.slice(at)];
    const clusters = v.configuration.clusters.map((c, ci) =>
      ci !== 0
        ? c
        : {
            ...c,
            nodes: c.nodes.map((nd, ni) =>
              ni === 0 ? { ...nd, instanceIds: [...nd.instanceIds, id] } : nd,
            ),
          },
    );
    const node = v.configuration.clusters[0]?.nodes[0]?.name;
    return {
      ...v,
      configuration: { ...v.configuration, clusters },
      instances: instances.map((i) => (i === added ? { ...i, node } : i)) as Instance[],
    };
  },
  'remove an instance': (v, r) => {
    const gone = pick(v.instances, r);
    return { ...v, instances: v.instances.filter((i) => i !== gone) };
  },
  'change a public IP': (v, r) =>
    editInstance(v, r, (i) => ({
      ...i,
      publicIp: `198.51.100.${Math.floor(r() * 250) + 1}`,
      networkInterfaces: i.networkInterfaces.map((ni) =>
        ni.deviceIndex === 0 ? withoutPublicIp(ni) : ni,
      ),
    })),
  'change security groups of an interface': (v, r) =>
    editInstance(v, r, (i) => ({
      ...i,
      networkInterfaces: i.networkInterfaces.map((ni, k) =>
        k === 0 ? { ...ni, securityGroups: [pick(v.securityGroups, r).id, 'sg-missing'] } : ni,
      ),
    })),
  'change a security group rule': (v, r) => {
    const k = Math.floor(r() * v.securityGroups.length);
    const sg = v.securityGroups[k]!;
    const rule = { protocol: 6, fromPort: 22, toPort: 22, cidr: '10.9.0.0/16' };
    return {
      ...v,
      securityGroups: replaceAt(v.securityGroups, k, {
        ...sg,
        ingressRules: [...sg.ingressRules.slice(1), rule],
      }),
    };
  },
  'remove a security group': (v, r) => {
    const gone = pick(v.securityGroups, r);
    return { ...v, securityGroups: v.securityGroups.filter((s) => s !== gone) };
  },
  'change a VPC route table': (v, r) =>
    editVpc(v, r, (x) => ({
      ...x,
      routeTables: x.routeTables.map((t, k) =>
        k === 0
          ? {
              ...t,
              routes: [
                ...t.routes,
                {
                  destinationCidr: '172.20.0.0/16',
                  networkInterfaceId: pick(v.instances, r).networkInterfaces[0]!.id,
                  target: {
                    type: 'networkInterface' as const,
                    id: pick(v.instances, r).networkInterfaces[0]!.id,
                  },
                },
              ],
            }
          : t,
      ),
    })),
  'change a subnet ACL': (v, r) =>
    editVpc(v, r, (x) => ({
      ...x,
      subnets: x.subnets.map((s, k) => (k === 0 ? { ...s, networkAcl: 'acl-none' } : s)),
    })),
  'remove a VPC': (v, r) => {
    const gone = pick(v.vpcs, r);
    return { ...v, vpcs: v.vpcs.filter((x) => x !== gone) };
  },
  'change DNS servers': (v) => ({
    ...v,
    configuration: { ...v.configuration, instanceDNSServers: ['10.0.0.53', '10.0.0.54'] },
  }),
  'mark an instance invalid': (v, r) => ({
    ...v,
    invalid: new Set([...v.invalid, entityKey('instance', pick(v.instances, r).id)]),
  }),
  'mark a subnet invalid': (v, r) => ({
    ...v,
    invalid: new Set([...v.invalid, entityKey('subnet', pick(v.vpcs, r).subnets[0]?.id ?? 'none')]),
  }),
  'duplicate a private IP': (v, r) => {
    const a = pick(v.instances, r);
    const twin = v.instances.find((i) => i !== a && i.subnet === a.subnet);
    if (twin === undefined) return v;
    return editInstance(
      { ...v, instances: v.instances.map((i) => i) },
      () => v.instances.indexOf(twin) / v.instances.length,
      (i) => ({
        ...i,
        networkInterfaces: i.networkInterfaces.map((ni, k) =>
          k === 0 ? { ...ni, privateIp: a.networkInterfaces[0]!.privateIp ?? '10.0.0.1' } : ni,
        ),
      }),
    );
  },
};

const rng = prng;

function same(inc: MappingResult, full: MappingResult): void {
  expect(serializeDesired(inc.desired)).to.equal(serializeDesired(full.desired));
  expect(inc.issues).to.deep.equal(full.issues);
  expect([...inc.held]).to.deep.equal([...full.held]);
  expect(inc.allocations).to.deep.equal(full.allocations);
}

/** The `fresh` contract the reconciler relies on: every desired object (chains aside) that is
 * not listed as fresh is the very object of the previous result. */
function checkFresh(inc: MappingResult, prev: MappingResult): void {
  if (inc.fresh === undefined) return; // a full pass (e.g. the duplicate fallback)
  for (const kind of KINDS) {
    if (kind === 'chain') continue;
    const fresh = new Set<object>(inc.fresh[kind]);
    for (const o of fresh)
      expect(inc.desired[kind].get((o as { id: string }).id), kind).to.equal(o);
    for (const [id, o] of inc.desired[kind]) {
      if (!fresh.has(o)) expect(prev.desired[kind].get(id), `${kind}/${id}`).to.equal(o);
    }
  }
}

describe('incremental mapping equals a full recompute', () => {
  for (const [name, edit] of Object.entries(EDITS)) {
    it(`after: ${name} (three seeds, edits stacked)`, () => {
      let duplicates = 0;
      for (const seed of [1, 2, 3]) {
        const r = rng(seed * 7919);
        let view = generateView({ size: 'S', seed });
        let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
        for (let step = 0; step < 3; step++) {
          // a re-read document: a fresh copy, then the edit
          view = edit(step === 0 ? generateView({ size: 'S', seed }) : view, r);
          const full = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG);
          const inc = mapTopology(view, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
          same(inc, full);
          checkFresh(inc, prev);
          duplicates += full.issues.filter((i) => i.code === 'mapping.duplicate-object').length;
          prev = inc;
        }
      }
      // the duplicate edit exercises the fallback to a full pass
      if (name === 'duplicate a private IP') expect(duplicates).to.be.greaterThan(0);
    });
  }

  it('after random mixes of edits, also when the config changes', () => {
    const names = Object.keys(EDITS);
    const r = rng(42);
    let view = generateView({ size: 'S', seed: 5 });
    let config: MappingConfig = DEFAULT_MAPPING_CONFIG;
    let prev = mapTopology(view, emptyAllocations(), config);
    for (let step = 0; step < 12; step++) {
      view = EDITS[pick(names, r)]!(view, r);
      if (step === 6) config = { ...config, disableL2Isolation: true };
      const full = mapTopology(view, prev.allocations, config);
      const inc = mapTopology(view, prev.allocations, config, prev);
      same(inc, full);
      checkFresh(inc, prev);
      prev = inc;
    }
  });

  it('reuses the previous objects of unchanged entities (and only those)', () => {
    const view = generateView({ size: 'S', seed: 3 });
    const prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const edited = EDITS['change a public IP']!(generateView({ size: 'S', seed: 3 }), rng(1));
    const inc = mapTopology(edited, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    let reused = 0;
    let fresh = 0;
    for (const [id, rule] of inc.desired.rule) {
      if (prev.desired.rule.get(id) === rule) reused++;
      else fresh++;
    }
    expect(reused).to.be.greaterThan(20 * fresh);
    expect(fresh).to.be.greaterThan(0);
    // chains are always fresh copies (their rule lists are rebuilt)
    for (const [id, chain] of inc.desired.chain)
      expect(prev.desired.chain.get(id)).to.not.equal(chain);
  });
});
