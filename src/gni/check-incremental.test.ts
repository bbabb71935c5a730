import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import { cloudDocument as doc, EDITS, pick, withNodes } from '../../test/helpers/view-edits.js';
import {
  readGni,
  readGniWithState,
  type GlobalView,
  type Instance,
  type NetworkInterface,
  type SecurityGroup,
  type StatefulRead,
  type Vpc,
} from './index.js';
import { buildCheckState } from './check-incremental.js';

type Edit = (v: GlobalView, r: () => number) => GlobalView;

function at<T>(xs: readonly T[], r: () => number): number {
  return Math.floor(r() * xs.length);
}

function replace<T>(xs: readonly T[], i: number, x: T): T[] {
  return xs.map((y, j) => (j === i ? x : y));
}

function onInstance(f: (i: Instance, v: GlobalView, r: () => number) => Instance): Edit {
  return (v, r) => {
    const k = at(v.instances, r);
    return { ...v, instances: replace(v.instances, k, f(v.instances[k]!, v, r)) };
  };
}

function onVpc(f: (x: Vpc, v: GlobalView, r: () => number) => Vpc): Edit {
  return (v, r) => {
    const k = at(v.vpcs, r);
    return { ...v, vpcs: replace(v.vpcs, k, f(v.vpcs[k]!, v, r)) };
  };
}

function onSg(f: (g: SecurityGroup, v: GlobalView, r: () => number) => SecurityGroup): Edit {
  return (v, r) => {
    const k = at(v.securityGroups, r);
    return { ...v, securityGroups: replace(v.securityGroups, k, f(v.securityGroups[k]!, v, r)) };
  };
}

function unlisted(v: GlobalView, id: string): GlobalView {
  return withNodes(v, (n) => ({ ...n, instanceIds: n.instanceIds.filter((x) => x !== id) }));
}

function listedOn(v: GlobalView, id: string, node: number, cluster = 0): GlobalView {
  return withNodes(unlisted(v, id), (n, i, c) =>
    c === v.configuration.clusters[cluster] && i === node
      ? { ...n, instanceIds: [...n.instanceIds, id].sort() }
      : n,
  );
}

let serial = 0;
const fresh = (prefix: string): string => `${prefix}-fe${(serial++).toString(16).padStart(6, '0')}`;

/** Edits beyond view-edits' EDITS: clean ones and ones a full read reports, each small. */
const MORE: Record<string, Edit> = {
  'remove an instance and its listing': (v, r) => {
    const gone = pick(v.instances, r);
    return unlisted({ ...v, instances: v.instances.filter((i) => i !== gone) }, gone.id);
  },
  'move an instance to another node': (v, r) => {
    const i = pick(v.instances, r);
    const c = Math.floor(r() * v.configuration.clusters.length);
    const nodes = v.configuration.clusters[c]!.nodes.length;
    return listedOn(v, i.id, Math.floor(r() * nodes), c);
  },
  'list an instance on two nodes': (v, r) => {
    const i = pick(v.instances, r);
    return withNodes(v, (n, k) =>
      k === 1 ? { ...n, instanceIds: [...n.instanceIds, i.id].sort() } : n,
    );
  },
  'list an instance that does not exist': (v) =>
    withNodes(v, (n, k) => (k === 0 ? { ...n, instanceIds: [...n.instanceIds, 'i-zz'] } : n)),
  'unlist an instance': (v, r) => unlisted(v, pick(v.instances, r).id),
  'add a node with moved instances': (v, r) => {
    const ids = v.instances.filter(() => r() < 0.1).map((i) => i.id);
    const base = withNodes(v, (n) => ({
      ...n,
      instanceIds: n.instanceIds.filter((x) => !ids.includes(x)),
    }));
    const clusters = base.configuration.clusters.map((c, k) =>
      k === 0 ? { ...c, nodes: [...c.nodes, { name: '10.99.0.1', instanceIds: ids.sort() }] } : c,
    );
    return { ...base, configuration: { ...base.configuration, clusters } };
  },
  'rename a cluster': (v) => ({
    ...v,
    configuration: {
      ...v.configuration,
      clusters: v.configuration.clusters.map((c, k) => (k === 0 ? { ...c, name: 'az9' } : c)),
    },
  }),
  'add a secondary interface': onInstance((i, v, r) => {
    const eni = i.networkInterfaces[0]!;
    const added: NetworkInterface = {
      ...eni,
      id: fresh('eni'),
      deviceIndex: 1,
      securityGroups: [pick(v.securityGroups, r).id],
    };
    const { publicIp: _p, ...rest } = added;
    return { ...i, networkInterfaces: [...i.networkInterfaces, rest] };
  }),
  'drop the primary interface': onInstance((i) => ({
    ...i,
    networkInterfaces: i.networkInterfaces.filter((e) => e.deviceIndex !== 0),
  })),
  'give an instance a missing VPC': onInstance((i) => ({ ...i, vpc: 'vpc-gone' })),
  'give an instance a bad private IP': onInstance((i) => ({ ...i, privateIp: '10.255.255.9' })),
  'give an interface a bad IP value': onInstance((i) => ({
    ...i,
    networkInterfaces: i.networkInterfaces.map((e, k) =>
      k === 0 ? { ...e, privateIp: '1.2' } : e,
    ),
  })),
  'give an instance the id of a security group': (v, r) => {
    const g = pick(v.securityGroups, r).id;
    const k = at(v.instances, r);
    const old = v.instances[k]!.id;
    const inst = { ...v.instances[k]!, id: g };
    return withNodes({ ...v, instances: replace(v.instances, k, inst) }, (n) => ({
      ...n,
      instanceIds: n.instanceIds.map((x) => (x === old ? g : x)).sort(),
    }));
  },
  'duplicate an interface id': (v, r) => {
    const a = pick(v.instances, r);
    return onInstance((i) => ({
      ...i,
      networkInterfaces: i.networkInterfaces.map((e, k) =>
        k === 0 ? { ...e, id: a.networkInterfaces[0]!.id } : e,
      ),
    }))(v, r);
  },
  'use a reserved id for a security group': onSg((g) => ({ ...g, id: 'core' })),
  'add a security group': (v, r) => {
    const g = pick(v.securityGroups, r);
    const added = { ...g, id: fresh('sg') };
    return {
      ...v,
      securityGroups: [...v.securityGroups, added].sort((a, b) => (a.id < b.id ? -1 : 1)),
    };
  },
  'add a rule referring to a group': onSg((g, v, r) => ({
    ...g,
    ingressRules: [
      ...g.ingressRules,
      {
        protocol: 6,
        fromPort: 80,
        toPort: 80,
        groupId: r() < 0.7 ? pick(v.securityGroups, r).id : 'sg-none',
      },
    ],
  })),
  'remove an unused security group': (v, r) => {
    const used = new Set<string>();
    for (const i of v.instances) {
      for (const g of i.securityGroups) used.add(g);
      for (const e of i.networkInterfaces) for (const g of e.securityGroups) used.add(g);
    }
    for (const g of v.securityGroups)
      for (const x of [...g.ingressRules, ...g.egressRules]) if (x.groupId) used.add(x.groupId);
    const free = v.securityGroups.filter((g) => !used.has(g.id));
    if (free.length === 0) return v;
    const gone = pick(free, r);
    return { ...v, securityGroups: v.securityGroups.filter((g) => g !== gone) };
  },
  'add a VPC copy with new ids': (v, r) => {
    const x = pick(v.vpcs, r);
    const ids = new Map<string, string>();
    const id = (old: string): string => {
      if (!ids.has(old)) ids.set(old, fresh(old.split('-')[0]!));
      return ids.get(old)!;
    };
    const copy: Vpc = {
      ...x,
      id: id(x.id),
      subnets: x.subnets.map((s) => ({
        ...s,
        id: id(s.id),
        ...(s.networkAcl ? { networkAcl: id(s.networkAcl) } : {}),
        ...(s.routeTable ? { routeTable: id(s.routeTable) } : {}),
      })),
      networkAcls: x.networkAcls.map((a) => ({ ...a, id: id(a.id) })),
      routeTables: x.routeTables.map((t) => ({ ...t, id: id(t.id), routes: [] })),
      natGateways: [],
      internetGateways: [],
    };
    return { ...v, vpcs: [...v.vpcs, copy] };
  },
  'add an unused subnet': onVpc((x) => ({
    ...x,
    subnets: [...x.subnets, { ...x.subnets[0]!, id: fresh('subnet') }],
  })),
  'reuse a subnet id of another VPC': onVpc((x, v, r) => ({
    ...x,
    subnets: [...x.subnets, { ...x.subnets[0]!, id: pick(v.vpcs, r).subnets[0]!.id }],
  })),
  'change a subnet cidr': onVpc((x) => ({
    ...x,
    subnets: x.subnets.map((s, k) => (k === 0 ? { ...s, cidr: '10.250.0.0/28' } : s)),
  })),
  'remove a subnet': onVpc((x) => ({ ...x, subnets: x.subnets.slice(1) })),
  'point a VPC at a missing DHCP option set': onVpc((x) => ({ ...x, dhcpOptionSet: 'dopt-gone' })),
  'remove a DHCP option set': (v, r) => {
    const gone = pick(v.dhcpOptionSets, r);
    return { ...v, dhcpOptionSets: v.dhcpOptionSets.filter((d) => d !== gone) };
  },
  'remove an internet gateway': (v, r) => {
    if (v.internetGateways.length === 0) return v;
    const gone = pick(v.internetGateways, r);
    return { ...v, internetGateways: v.internetGateways.filter((g) => g !== gone) };
  },
  'route to an interface': onVpc((x, v, r) => ({
    ...x,
    routeTables: x.routeTables.map((t, k) => {
      const eni = pick(v.instances, r).networkInterfaces[0]!.id;
      return k === 0
        ? {
            ...t,
            routes: [
              ...t.routes,
              {
                destinationCidr: '172.21.0.0/16',
                networkInterfaceId: eni,
                target: { type: 'networkInterface' as const, id: eni },
              },
            ],
          }
        : t;
    }),
  })),
  'rewrite nothing': (v) => v,
};

const ALL: Record<string, Edit> = { ...EDITS, ...MORE };

/** The read equals a full read of the same bytes. */
function expectAsFull(read: StatefulRead, bytes: Uint8Array, what: string): void {
  const full = readGni(bytes);
  expect(read.result.issues, what).to.deep.equal(full.issues);
  expect(read.result.view?.invalid, what).to.deep.equal(full.view?.invalid);
  expect(read.result, what).to.deep.equal(full);
}

describe('gni incremental checks', () => {
  it('give a full read’s view, issues and invalid set over random edit sequences', function () {
    this.timeout(300_000);
    const names = Object.keys(ALL);
    let incremental = 0;
    let withIssues = 0;
    let reads = 0;
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const r = prng(seed);
      const base = doc(generateView({ size: 'S', seed }), 1);
      let read = readGniWithState(base);
      let view = read.result.view!;
      for (let step = 0; step < 30; step++) {
        let next = view;
        const done: string[] = [];
        const edits = 1 + Math.floor(r() * 3);
        for (let k = 0; k < edits; k++) {
          const name = pick(names, r);
          done.push(name);
          next = ALL[name]!(next, r);
        }
        const bytes = doc(next, 2 + step);
        const got = readGniWithState(bytes, {}, read.state);
        const what = `seed ${seed} step ${step}: ${done.join(', ')}`;
        expectAsFull(got, bytes, what);
        reads++;
        if (got.checkedIncrementally) incremental++;
        if (got.result.issues.length > 0) withIssues++;
        // go on from clean documents; after one with issues, from the last clean one again
        // (whose lookups that read took: they are built again)
        if (got.state !== undefined) {
          read = got;
          view = got.result.view!;
        }
      }
    }
    expect(reads).to.equal(180);
    expect(incremental, 'reads checked incrementally').to.be.at.least(40);
    expect(withIssues, 'reads with issues').to.be.at.least(40);
  });

  it('check only what changed when one instance is added or changed', () => {
    const bytes = doc(generateView({ size: 'M', seed: 3 }), 1);
    let read = readGniWithState(bytes);
    const r = prng(3);
    for (const [step, name] of ['add an instance', 'change a public IP'].entries()) {
      const next = doc(EDITS[name]!(read.result.view!, r), 2 + step);
      const got = readGniWithState(next, {}, read.state);
      expectAsFull(got, next, name);
      expect(got.checkedIncrementally, name).to.equal(true);
      // the entity and, for an added instance, its node's list: not the whole configuration
      expect(got.scanned, name).to.be.below(8192);
      expect(got.state!.layout).to.deep.equal(readGniWithState(next).state!.layout);
      read = got;
    }
  });

  it('read a changed node list like a full read whatever its bytes', () => {
    const bytes = doc(generateView({ size: 'S', seed: 5 }), 1);
    const base = readGniWithState(bytes);
    const text = bytes.toString('latin1');
    const id = base.result.view!.configuration.clusters[0]!.nodes[0]!.instanceIds[0]!;
    const value = `<value>${id}</value>`;
    const variants = [
      `<value> ${id} </value>`,
      `<value>${id}&#x20;</value>`,
      `<value><![CDATA[${id}]]></value>`,
      `<!-- x -->${value}`,
      `${value}<value>i-ff000001</value>`,
      `${value}<value></value>`,
      `${value}<extra/>`,
      `${value}</instanceIds><instanceIds>`,
      '',
    ];
    for (const v of variants) {
      const edited = Buffer.from(text.replace(value, v), 'latin1');
      const got = readGniWithState(edited, {}, base.state);
      expectAsFull(got, edited, v);
      const full = readGniWithState(edited);
      expect(got.state?.layout, v).to.deep.equal(full.state?.layout);
    }
  });

  it('start a full read’s lookups from its whole-view check: the same as built anew', () => {
    const read = readGniWithState(doc(generateView({ size: 'M', seed: 6 }), 1));
    const view = read.result.view!;
    const taken = read.state!.checks.take();
    expect(taken).to.not.equal(undefined);
    expect(taken).to.deep.equal(
      buildCheckState({
        configuration: view.configuration,
        vpcs: view.vpcs,
        instances: [...view.instances],
        dhcpOptionSets: view.dhcpOptionSets,
        internetGateways: view.internetGateways,
        securityGroups: view.securityGroups,
      }),
    );
  });

  it('build their lookups again when a state is read against twice', () => {
    const bytes = doc(generateView({ size: 'S', seed: 4 }), 1);
    const base = readGniWithState(bytes);
    const r = prng(4);
    for (const name of [
      'add an instance',
      'remove an instance and its listing',
      'rewrite nothing',
    ]) {
      const next = doc(ALL[name]!(base.result.view!, r), 2);
      const got = readGniWithState(next, {}, base.state);
      expectAsFull(got, next, name);
      expect(got.checkedIncrementally, name).to.equal(true);
    }
  });
});
