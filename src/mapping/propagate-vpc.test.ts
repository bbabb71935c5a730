/**
 * Change propagation of VPC changes (propagate-vpc.ts): routes, NAT gateways, subnets, route
 * table associations, network ACL entries, internet gateways, VPCs added and removed, DHCP
 * option sets. Each pass is checked against a full recompute (objects, rule orders, issues,
 * holds, allocations) and previous + delta = patched (test/helpers/propagate-check.ts), and
 * the edits must be propagated (not handed to the compare-every-unit patch).
 */
import { expect } from 'chai';
import { generateView, prng } from '../../scripts/lib/gni-generator.js';
import {
  check,
  documentLoader,
  runChain,
  snapshot,
  type ChainRun,
} from '../../test/helpers/propagate-check.js';
import { EDITS, pick } from '../../test/helpers/view-edits.js';
import { CLEAN_VPC_EDITS, VPC_EDITS } from '../../test/helpers/vpc-edits.js';
import { DEFAULT_MAPPING_CONFIG, emptyAllocations, mapTopology } from './index.js';
import { wasPropagated } from './map-topology.js';
import { lastDeclined } from './propagate.js';

const INSTANCE_EDITS = ['add an instance', 'remove an instance', 'change a public IP'];
const ALL = { ...EDITS, ...VPC_EDITS };

/** Passes that need not be propagated: taking a duplicate back (the last pass was a full
 * one), and an option set most VPCs share (too many VPCs depend on it: compared instead). */
const MAY_DECLINE: Record<string, RegExp> = {
  'take the duplicate back': /./,
  'change a DHCP option set': /^many /,
};

/** Every pass of every edit was propagated, unless `MAY_DECLINE` allows its reason. */
function expectPropagated(run: ChainRun): void {
  for (const [name, { runs, propagated, declined }] of run.byEdit) {
    const why = [...declined].join('; ');
    if ([...declined].every((d) => MAY_DECLINE[name]?.test(d))) continue;
    expect(propagated, `${name}: passes propagated of ${runs} (${why})`).to.equal(runs);
  }
}

describe('change propagation of VPC changes equals a full recompute', () => {
  for (const seed of [11, 12, 13]) {
    it(`chains of VPC edits of shared views, with instance edits between (seed ${seed})`, () => {
      const r = prng(seed * 7919);
      const names = [...Object.keys(VPC_EDITS), ...INSTANCE_EDITS];
      const steps = 60;
      const start = generateView({ size: 'S', seed });
      const run = runChain(
        `seed ${seed}`,
        r,
        start,
        steps,
        () => pick(names, r),
        ALL,
        (v) => v,
      );
      expectPropagated(run);
      expect(run.propagated, 'passes done by propagation').to.be.greaterThan(steps * 0.9);
    });
  }

  for (const seed of [14, 15]) {
    it(`chains of documents read with readGniWithState (seed ${seed})`, () => {
      const { load, incremental } = documentLoader();
      const r = prng(seed * 104723);
      // (a removed instance stays in its node's list: the next read is a full one)
      const names = [...CLEAN_VPC_EDITS, 'add an instance', 'change a public IP'];
      const steps = 30;
      const start = generateView({ size: 'S', seed });
      const run = runChain(`seed ${seed}`, r, start, steps, () => pick(names, r), ALL, load);
      expect(incremental(), 'incremental reads').to.be.greaterThan(steps * 0.8);
      expectPropagated(run);
      expect(run.propagated, 'passes done by propagation').to.be.greaterThan(steps * 0.7);
    });
  }

  it('a route added to one route table re-maps that VPC tree and nothing else', () => {
    const view = generateView({ size: 'S', seed: 16 });
    let prev = mapTopology(view, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    prev = mapTopology({ ...view }, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    const k = view.vpcs.findIndex((x) => x.internetGateways.length > 0);
    const x = view.vpcs[k]!;
    const igw = x.internetGateways[0]!;
    const table = x.routeTables[0]!;
    const route = {
      destinationCidr: '172.30.0.0/16',
      gatewayId: igw,
      target: { type: 'internetGateway' as const, id: igw },
    };
    const changed = { ...x, routeTables: [{ ...table, routes: [...table.routes, route] }] };
    const next = { ...view, vpcs: view.vpcs.map((v, i) => (i === k ? changed : v)) };
    const full = mapTopology(next, prev.allocations, DEFAULT_MAPPING_CONFIG);
    const before = snapshot(prev);
    const inc = mapTopology(next, prev.allocations, DEFAULT_MAPPING_CONFIG, prev);
    expect(wasPropagated(inc), lastDeclined()).to.equal(true);
    check(inc, full, before, 'route added');
    // the puts are the VPC tree's (and the one new route among them); no interface is touched
    const tree = new Set([x.id, ...x.natGateways.map((n) => n.id)]);
    for (const s of x.subnets) tree.add(s.id).add(`${s.id}/routes`);
    for (const a of x.networkAcls) tree.add(`${x.id}/${a.id}`);
    const d = inc.delta!;
    const puts = Object.values(d).flatMap((k) => k.put as unknown as { owner: string }[]);
    expect(puts.length).to.be.greaterThan(0);
    for (const o of puts) expect(tree.has(o.owner), o.owner).to.equal(true);
    const owners = new Set(puts.map((o) => o.owner));
    expect([...owners].some((o) => o.endsWith('/routes'))).to.equal(true);
  });
});
