/**
 * Reconciler scenarios on the medium sample: apply, then plan is empty; each kind of change
 * plans exactly its own ops and converges to what a fresh build gives; drift is repaired;
 * objects that are not ours survive; invalid input holds what exists.
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { allObjects, discover } from '../src/discovery/index.js';
import type { GlobalView } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG, recoverAllocations } from '../src/mapping/index.js';
import type { RecoverableObject } from '../src/mapping/index.js';
import { diffTopology, flushManaged, reconcileView } from '../src/reconciler/index.js';
import type { Plan } from '../src/reconciler/index.js';
import { createMemoryStore } from '../src/store/index.js';
import type { TopologyStore } from '../src/store/index.js';
import { addInstanceLike, loadDoc, removeInstance, repoPath, viewOf } from './helpers/gni-doc.js';
import type { Doc } from './helpers/gni-doc.js';
import { dumpManaged, expectSameTopology } from './helpers/topology.js';

const config = DEFAULT_MAPPING_CONFIG;
const SAMPLE = repoPath('fixtures/gni/medium.xml');

async function planOf(store: TopologyStore, view: GlobalView): Promise<Plan> {
  return (await reconcileView(store, view, config, { dryRun: true })).plan;
}

/** Applies, checks the second pass plans nothing, and that a fresh build with the same
 * allocations gives the same topology. */
async function applyAndCheck(store: TopologyStore, view: GlobalView): Promise<Plan> {
  const first = await reconcileView(store, view, config);
  const again = await planOf(store, view);
  expect(again.storeOps, 'a second pass plans nothing').to.deep.equal([]);
  const fresh = createMemoryStore();
  const allocations = recoverAllocations(
    allObjects(await discover(store)) as Iterable<RecoverableObject>,
  );
  await reconcileView(fresh, view, config, { allocations });
  await expectSameTopology(store, fresh);
  await fresh.close();
  return first.plan;
}

/** Applies a change, then the original document again: the revert plans exactly the inverse
 * (what was created is deleted, and the other way round), and both ends are checked. */
async function applyThenRevert(
  store: TopologyStore,
  changed: GlobalView,
  original: GlobalView,
): Promise<void> {
  const forward = await applyAndCheck(store, changed);
  const back = await applyAndCheck(store, original);
  const ids = (plan: Plan, op: string): string[] =>
    plan.ops
      .filter((o) => o.op === op)
      .map((o) => o.id)
      .sort();
  expect(ids(back, 'delete'), 'the revert deletes what the change created').to.deep.equal(
    ids(forward, 'create'),
  );
  expect(ids(back, 'create'), 'the revert creates what the change deleted').to.deep.equal(
    ids(forward, 'delete'),
  );
  // updates mirror each other too, except rule reorders (an insertion may need one, its
  // removal never does)
  const updates = (plan: Plan): string[] =>
    plan.ops
      .filter((o) => o.op === 'update' && o.kind !== 'chain')
      .map((o) => o.id)
      .sort();
  expect(updates(back)).to.deep.equal(updates(forward));
}

function owners(plan: Plan, op: 'create' | 'update' | 'delete'): Set<string> {
  return new Set(plan.ops.filter((o) => o.op === op).map((o) => o.owner ?? '?'));
}

function kinds(plan: Plan, op: 'create' | 'update' | 'delete'): Set<string> {
  return new Set(plan.ops.filter((o) => o.op === op).map((o) => o.kind));
}

describe('reconciler scenarios (medium sample)', function () {
  this.timeout(60_000);
  let base: Doc;
  let store: TopologyStore;

  beforeEach(async () => {
    base = loadDoc(SAMPLE);
    store = createMemoryStore();
    const plan = await applyAndCheck(store, viewOf(base));
    expect(plan.counts.create).to.be.greaterThan(100);
    expect(plan.counts.delete).to.equal(0);
  });
  afterEach(async () => store.close());

  it('adding an instance creates only its objects and updates its groups and DHCP subnet', async () => {
    const doc = structuredClone(base);
    const id = addInstanceLike(doc, doc.instances[0].name, '0badcafe', 200);
    const view = viewOf(doc);
    const plan = await planOf(store, view);
    expect([...owners(plan, 'create')]).to.deep.equal([id]);
    expect(plan.counts.delete).to.equal(0);
    for (const k of kinds(plan, 'update'))
      expect(['ip-addr-group', 'dhcp-subnet', 'chain']).to.include(k);
    await applyAndCheck(store, view);
  });

  it('removing an instance deletes only its objects', async () => {
    const doc = structuredClone(base);
    const victim = doc.instances[1];
    removeInstance(doc, victim.name);
    const view = viewOf(doc);
    const plan = await planOf(store, view);
    const eniIds = new Set<string>(victim.networkInterfaces.map((n: Doc) => n.name));
    // its objects, plus the route-table routes that targeted its interfaces (gone from the GNI)
    for (const op of plan.ops.filter((o) => o.op === 'delete')) {
      const own = op.owner ?? '?';
      const ok =
        own === victim.name || eniIds.has(own) || (op.kind === 'route' && own.endsWith('/routes'));
      expect(ok, `${op.kind} ${op.name} owned by ${own}`).to.equal(true);
    }
    expect(plan.counts.create).to.equal(0);
    for (const k of kinds(plan, 'update'))
      expect(['ip-addr-group', 'dhcp-subnet', 'chain']).to.include(k);
    await applyAndCheck(store, view);
  });

  it('adding a security group rule creates exactly one rule', async () => {
    const doc = structuredClone(base);
    const sg = doc.securityGroups[0];
    (sg.ingressRules ??= []).push({
      protocol: 6,
      fromPort: 8443,
      toPort: 8443,
      cidr: '192.0.2.0/24',
    });
    const plan = await planOf(store, viewOf(doc));
    expect(plan.ops.map((o) => `${o.op}:${o.kind}`)).to.deep.equal(['create:rule']);
    expect(plan.ops[0]!.owner).to.equal(sg.name);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('changing one security group rule replaces that one rule only', async () => {
    const doc = structuredClone(base);
    const sg = doc.securityGroups.find((g: Doc) => (g.ingressRules ?? []).some((r: Doc) => r.cidr));
    const rule = sg.ingressRules.find((r: Doc) => r.cidr);
    rule.cidr = '198.18.0.0/15';
    const plan = await planOf(store, viewOf(doc));
    const ops = plan.ops.filter((o) => o.kind === 'rule');
    expect(ops.filter((o) => o.op === 'create')).to.have.length(1);
    expect(ops.filter((o) => o.op === 'delete')).to.have.length(1);
    expect(plan.ops.filter((o) => o.kind !== 'rule' && o.kind !== 'chain')).to.deep.equal([]);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('adding an elastic IP creates its NAT rules and eucart route', async () => {
    const doc = structuredClone(base);
    const inst = doc.instances.find((i: Doc) => !i.publicIp);
    inst.publicIp = '198.51.100.99';
    const primary = inst.networkInterfaces.find((n: Doc) => (n.deviceIndex ?? 0) === 0);
    primary.publicIp = '198.51.100.99';
    const plan = await planOf(store, viewOf(doc));
    expect(plan.counts.create).to.be.greaterThan(0);
    expect(kinds(plan, 'create')).to.include('route');
    expect(kinds(plan, 'create')).to.include('rule');
    expect(plan.counts.delete).to.equal(0);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('adding a subnet creates its bridge, router port, chains and DHCP', async () => {
    const doc = structuredClone(base);
    const vpc = doc.vpcs[0];
    const s0 = vpc.subnets[0];
    vpc.subnets.push({
      ...s0,
      name: 'subnet-0fedcba9',
      cidr: vpc.cidr.replace(/\.0\.0\/16$/, '.250.0/24'),
    });
    const plan = await planOf(store, viewOf(doc));
    expect(kinds(plan, 'create')).to.include.members(['bridge', 'port', 'chain', 'dhcp-subnet']);
    expect(plan.counts.delete).to.equal(0);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('removing a VPC with its instances deletes its router and everything under it', async () => {
    const doc = structuredClone(base);
    const vpc = doc.vpcs[doc.vpcs.length - 1];
    for (const i of [...doc.instances]) if (i.vpc === vpc.name) removeInstance(doc, i.name);
    doc.vpcs = doc.vpcs.filter((v: Doc) => v.name !== vpc.name);
    const plan = await planOf(store, viewOf(doc));
    expect(kinds(plan, 'delete')).to.include.members(['router', 'bridge', 'chain']);
    expect(plan.counts.create).to.equal(0);
    const isGone = async (): Promise<boolean> =>
      !(await store.list('router')).some((r) => r.name.startsWith(`vr_${vpc.name}_`));
    await applyAndCheck(store, viewOf(doc));
    expect(await isGone()).to.equal(true);
    await applyAndCheck(store, viewOf(base)); // and back: the VPC is rebuilt
    expect(await isGone()).to.equal(false);
  });

  it('adding a NAT gateway creates its router, chains and eucart route', async () => {
    const doc = structuredClone(base);
    const vpc = doc.vpcs.find((v: Doc) => (v.natGateways ?? []).length === 0) ?? doc.vpcs[0];
    const subnet = vpc.subnets[0];
    const ip = subnet.cidr.replace(/0\/24$/, '250');
    (vpc.natGateways ??= []).push({
      name: 'nat-0123456789abcdef0',
      ownerId: vpc.ownerId,
      macAddress: 'd0:0d:01:23:45:67',
      publicIp: '198.51.100.98',
      privateIp: ip,
      vpc: vpc.name,
      subnet: subnet.name,
    });
    const plan = await planOf(store, viewOf(doc));
    expect(owners(plan, 'create')).to.include('nat-0123456789abcdef0');
    expect(kinds(plan, 'create')).to.include.members(['router', 'chain', 'route']);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('adding a route to a route table creates one source route', async () => {
    const doc = structuredClone(base);
    const vpc = doc.vpcs.find((v: Doc) => (v.internetGateways ?? []).length > 0);
    const rtb = vpc.routeTables[0];
    rtb.routes.push({ destinationCidr: '203.0.113.0/24', gatewayId: vpc.internetGateways[0] });
    const plan = await planOf(store, viewOf(doc));
    const used = vpc.subnets.filter((s: Doc) => s.routeTable === rtb.name).length;
    expect(plan.ops.map((o) => `${o.op}:${o.kind}`)).to.deep.equal(
      Array(used).fill('create:route'),
    );
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('adding a network ACL entry creates one rule in each chain that uses it', async () => {
    const doc = structuredClone(base);
    const vpc = doc.vpcs[0];
    const acl = vpc.networkAcls[0];
    acl.ingressEntries.splice(0, 0, {
      number: 50,
      protocol: 6,
      action: 'deny',
      cidr: '192.0.2.0/24',
      portRangeFrom: 23,
      portRangeTo: 23,
    });
    const plan = await planOf(store, viewOf(doc));
    expect(plan.ops.filter((o) => o.op === 'create').map((o) => o.kind)).to.deep.equal(['rule']);
    expect(plan.counts.delete).to.equal(0);
    await applyThenRevert(store, viewOf(doc), viewOf(base));
  });

  it('repairs managed objects deleted or edited by hand, and never touches foreign ones', async () => {
    const view = viewOf(base);
    const rules = await store.list('rule');
    const victim = rules[0]!;
    const edited = rules[1]!;
    const foreignRouter = { id: randomUUID(), name: 'ops-test-router', adminStateUp: true };
    await store.transaction([
      { op: 'delete', kind: 'rule', id: victim.id },
      { op: 'update', kind: 'rule', object: { ...edited, nwTos: 7 } as never },
      { op: 'create', kind: 'router', object: foreignRouter as never },
    ]);
    const plan = await planOf(store, view);
    expect(plan.ops.map((o) => `${o.op}:${o.id}`).sort()).to.include.members([
      `create:${victim.id}`,
      `update:${edited.id}`,
    ]);
    await applyAndCheck(store, view);
    expect(await store.get('router', foreignRouter.id)).to.not.equal(undefined);
  });

  it('holds the objects of an entity whose input became invalid', async () => {
    const doc = structuredClone(base);
    const before = await dumpManaged(store);
    const inst = doc.instances[0];
    inst.networkInterfaces[0].securityGroups = ['sg-deadbeef'];
    inst.securityGroups = ['sg-deadbeef'];
    const r = await reconcileView(store, viewOf(doc), config);
    expect(r.mapping.issues.length).to.be.greaterThan(0);
    expect(r.plan.counts.delete).to.equal(0);
    const after = await dumpManaged(store);
    for (const k of before.keys()) expect(after.has(k), k).to.equal(true);
  });

  it('a flush and rebuild with the saved allocations gives the same ids', async () => {
    const view = viewOf(base);
    const before = await dumpManaged(store);
    const flushed = await flushManaged(store);
    expect(flushed.deleted).to.be.greaterThan(100);
    const left = await discover(store);
    expect([...allObjects(left)].every((o) => o.owner === 'hosts')).to.equal(true);
    const rebuilt = await reconcileView(store, view, config, { allocations: flushed.allocations });
    expect(rebuilt.plan.counts.delete).to.equal(0);
    const after = await dumpManaged(store);
    expect([...after.keys()].sort()).to.deep.equal([...before.keys()].sort());
    const again = diffTopology(
      rebuilt.mapping.desired,
      await discover(store),
      rebuilt.mapping.held,
    );
    expect(again.storeOps).to.deep.equal([]);
  });
});
