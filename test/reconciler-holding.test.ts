/**
 * Holding (issue 14) on the medium sample, against a real store: an entity whose input goes
 * bad keeps exactly its last applied state, its own objects and its parts of shared objects
 * (SG address groups, DHCP hosts, rule order in shared chains) byte-equal; nothing else is
 * touched; a second pass plans nothing; the next valid document applies and converges. Also:
 * duplicate ids, values the store would refuse, an owner whose ops the store refuses, and
 * benign repeats that must neither warn nor stop incremental mapping.
 */
import { expect } from 'chai';
import { allObjects, discover } from '../src/discovery/index.js';
import { readGni } from '../src/gni/index.js';
import type { GlobalView } from '../src/gni/index.js';
import { DEFAULT_MAPPING_CONFIG, recoverAllocations } from '../src/mapping/index.js';
import type { RecoverableObject } from '../src/mapping/index.js';
import { reconcileView } from '../src/reconciler/index.js';
import type { Plan } from '../src/reconciler/index.js';
import { createMemoryStore, InvalidFieldError } from '../src/store/index.js';
import type { Op, TopologyStore } from '../src/store/index.js';
import { addInstanceLike, loadDoc, repoPath, viewOf } from './helpers/gni-doc.js';
import type { Doc } from './helpers/gni-doc.js';
import { canonicalJson, dumpManaged, expectSameTopology } from './helpers/topology.js';

const config = DEFAULT_MAPPING_CONFIG;
const SAMPLE = repoPath('fixtures/gni/medium.xml');
const INSTANCE = 'i-0b1f3a90'; // primary ENI eni-0b1f3a91, subnet-a1000001 (10.10.0.0/24)

async function dryPlan(store: TopologyStore, view: GlobalView): Promise<Plan> {
  return (await reconcileView(store, view, config, { dryRun: true })).plan;
}

/** Applies a valid document: a second pass plans nothing and a fresh build is the same. */
async function applyAndCheck(store: TopologyStore, view: GlobalView): Promise<Plan> {
  const first = await reconcileView(store, view, config);
  expect((await dryPlan(store, view)).storeOps, 'a second pass plans nothing').to.deep.equal([]);
  const fresh = createMemoryStore();
  const allocations = recoverAllocations(
    allObjects(await discover(store)) as Iterable<RecoverableObject>,
  );
  await reconcileView(fresh, view, config, { allocations });
  await expectSameTopology(store, fresh);
  await fresh.close();
  return first.plan;
}

async function expectSameDump(store: TopologyStore, before: Map<string, unknown>): Promise<void> {
  const after = await dumpManaged(store);
  const differ = [...new Set([...before.keys(), ...after.keys()])].filter(
    (k) => canonicalJson(before.get(k)) !== canonicalJson(after.get(k)),
  );
  expect(differ, 'objects changed, created or deleted').to.deep.equal([]);
}

function instance(doc: Doc, id = INSTANCE): Doc {
  return doc.instances.find((i: Doc) => i.name === id);
}

function property(doc: Doc, name: string): Doc {
  return doc.configuration.property.find((p: Doc) => p.name === name);
}

describe('holding: bad input never takes down working topology (medium sample)', function () {
  this.timeout(60_000);
  let base: Doc;
  let store: TopologyStore;

  beforeEach(async () => {
    base = loadDoc(SAMPLE);
    store = createMemoryStore();
    await applyAndCheck(store, viewOf(base));
  });
  afterEach(async () => store.close());

  /** Applies `doc` (base with one entity broken): the store is byte-equal afterwards, the
   * plan names `owners` as held, their objects still exist, a second pass plans nothing, and
   * the base document applies again with nothing to do. */
  async function expectHeld(
    doc: Doc,
    owners: readonly string[],
    options: { othersChange?: boolean } = {},
  ): Promise<Plan> {
    const before = await dumpManaged(store);
    const view = viewOf(doc);
    const r = await reconcileView(store, view, config);
    const held = (r.plan.held ?? []).map((h) => h.owner);
    expect(held).to.include.members([...owners]);
    for (const h of r.plan.held ?? []) expect(h.reason, h.owner).to.be.a('string').not.empty;
    if (options.othersChange) {
      // the document changed more than the held entity: only the held owners' objects are
      // checked to be byte-equal
      const heldSet = new Set(held);
      for (const op of r.plan.ops) expect(heldSet.has(op.owner ?? ''), op.name).to.equal(false);
      const after = await dumpManaged(store);
      for (const [k, v] of before) {
        if (!heldSet.has((v as { owner?: string }).owner ?? '')) continue;
        expect(canonicalJson(after.get(k)), k).to.equal(canonicalJson(v));
      }
    } else {
      expect(r.plan.storeOps, 'nothing of a held entity is written').to.deep.equal([]);
      await expectSameDump(store, before);
    }
    const stored = [...allObjects(await discover(store))];
    for (const owner of owners) {
      expect(
        stored.some((o) => o.owner === owner),
        `objects of ${owner}`,
      ).to.equal(true);
    }
    expect((await dryPlan(store, view)).storeOps, 'a second pass plans nothing').to.deep.equal([]);
    const back = await applyAndCheck(store, viewOf(base));
    if (!options.othersChange)
      expect(back.storeOps, 'the last valid document is still applied').to.deep.equal([]);
    return r.plan;
  }

  it('an instance without networkInterfaces keeps its port, chains, rules and groups', async () => {
    const doc = structuredClone(base);
    delete instance(doc).networkInterfaces;
    await expectHeld(doc, [INSTANCE]);
  });

  it('an instance without networkInterfaces keeps its secondary interfaces too', async () => {
    const doc = structuredClone(base);
    const inst = instance(doc, 'i-1c2d3e4f');
    expect(inst.networkInterfaces.map((n: Doc) => n.name)).to.include('eni-1c2d3e51');
    delete inst.networkInterfaces;
    const plan = await expectHeld(doc, ['i-1c2d3e4f', 'eni-1c2d3e51']);
    expect(plan.held!.find((h) => h.owner === 'eni-1c2d3e51')!.reason).to.include('i-1c2d3e4f');
  });

  it('an instance whose only interface has deviceIndex 1 keeps what it had', async () => {
    const doc = structuredClone(base);
    instance(doc).networkInterfaces[0].deviceIndex = 1;
    await expectHeld(doc, [INSTANCE]);
  });

  it('an instance with privateIp x.x.x.300 keeps its SG group addresses and DHCP host', async () => {
    const doc = structuredClone(base);
    instance(doc).privateIp = '10.10.0.300';
    await expectHeld(doc, [INSTANCE]);
    // then a valid version of it applies: its addresses move, and the store converges
    const fixed = structuredClone(base);
    instance(fixed).privateIp = '10.10.0.77';
    instance(fixed).networkInterfaces[0].privateIp = '10.10.0.77';
    const plan = await applyAndCheck(store, viewOf(fixed));
    expect(plan.counts.update + plan.counts.create).to.be.greaterThan(0);
    const groups = await store.list('ip-addr-group');
    const priv = groups.find((g) => g.name === 'sg_priv_sg-a1b2c3d4')!;
    expect(priv.addresses).to.include('10.10.0.77').and.not.include('10.10.0.10');
  });

  it('a subnet with CIDR /33 holds its instances and keeps their parts of shared objects', async () => {
    const doc = structuredClone(base);
    doc.vpcs[0].subnets[0].cidr = '10.10.0.0/33';
    const plan = await expectHeld(doc, ['subnet-a1000001', INSTANCE]);
    expect(plan.held!.find((h) => h.owner === 'subnet-a1000001')).to.deep.include({
      by: 'input',
    });
  });

  it('two copies of one VPC id: both held with issues naming them, nothing deleted', async () => {
    const doc = structuredClone(base);
    doc.vpcs.push(structuredClone(doc.vpcs[0]));
    const dup = readGni(JSON.stringify(doc)).issues.filter((i) => i.code === 'duplicate-id');
    expect(dup.map((i) => i.path)).to.include('vpcs/vpc[vpc-1a2b3c4d]');
    await expectHeld(doc, ['vpc-1a2b3c4d', 'subnet-a1000001']);
  });

  it('a VPC renamed to another VPC id holds both, with the subnets and ACLs of each', async () => {
    const doc = structuredClone(base);
    doc.vpcs[1].name = doc.vpcs[0].name;
    await expectHeld(doc, ['vpc-1a2b3c4d', 'subnet-b1000001']);
  });

  it('a NAT gateway renamed to its VPC id: one id for two kinds holds both', async () => {
    const doc = structuredClone(base);
    doc.vpcs[0].natGateways[0].name = doc.vpcs[0].name;
    const read = readGni(JSON.stringify(doc));
    const shared = read.issues.filter((i) => i.code === 'duplicate-id');
    expect(shared.map((i) => i.message).join()).to.include('natGateway');
    // the old NAT gateway id is gone from the document: its objects go; the VPC tree stays
    await expectHeld(doc, ['vpc-1a2b3c4d', 'subnet-a1000001'], { othersChange: true });
  });

  it('an instance renamed to another instance id holds both, with their interfaces', async () => {
    const doc = structuredClone(base);
    const other = instance(doc, 'i-1c2d3e4f');
    other.name = INSTANCE;
    const plan = await expectHeld(doc, [INSTANCE, 'i-1c2d3e4f', 'eni-1c2d3e51']);
    expect(plan.held!.find((h) => h.owner === 'i-1c2d3e4f')!.reason).to.include(INSTANCE);
  });

  it('an invalid gateway holds the core and every VPC with all under it (NAT gateways, routes)', async () => {
    const doc = structuredClone(base);
    const mido = property(doc, 'mido');
    mido.property.find((p: Doc) => p.name === 'bgpAsn').value = ['5000000000'];
    await expectHeld(doc, [
      'core',
      'vpc-1a2b3c4d',
      'nat-0a1b2c3d4e5f60718',
      'subnet-a1000001/routes',
    ]);
  });

  it('an address with a leading zero is refused by the reader, never by the store', async () => {
    // 010 is 8 to C's inet_aton and 10 to a decimal reading: neither is guessed
    const doc = structuredClone(base);
    property(doc, 'instanceDNSServers').value[0] = '010.020.000.002';
    const read = readGni(JSON.stringify(doc));
    expect(read.view, 'a bad DNS server rejects the document').to.equal(undefined);
    expect(read.issues.map((i) => i.message).join('\n')).to.include('010.020.000.002');
    const entity = structuredClone(base);
    instance(entity).privateIp = '010.010.000.010';
    await expectHeld(entity, [INSTANCE]);
  });

  it('a security group renamed with U+202E in its id holds the instances using it', async () => {
    const doc = structuredClone(base);
    doc.securityGroups[0].name += '\u202e';
    // the old id is gone from the document: a rule of another group that references it
    // matches nothing and goes (a warning); everything of the held instances stays
    await expectHeld(doc, [INSTANCE, 'sg-a1b2c3d4'], { othersChange: true });
  });

  it('a security group id with U+202E everywhere is invalid: its members are held', async () => {
    const doc = structuredClone(base);
    const old = doc.securityGroups[0].name;
    const bad = `${old}\u202e`;
    const swap = (ids: string[]): string[] => ids.map((g) => (g === old ? bad : g));
    doc.securityGroups[0].name = bad;
    for (const i of doc.instances) {
      i.securityGroups = swap(i.securityGroups);
      for (const n of i.networkInterfaces) n.securityGroups = swap(n.securityGroups);
    }
    for (const sg of doc.securityGroups) {
      for (const r of [...(sg.ingressRules ?? []), ...(sg.egressRules ?? [])])
        if (r.groupId === old) r.groupId = bad;
    }
    const read = readGni(JSON.stringify(doc));
    expect(read.issues.some((i) => i.code === 'invalid-id')).to.equal(true);
    await expectHeld(doc, [INSTANCE, old]);
  });

  it('an owner whose ops the store refuses is held with the error, and the rest applies', async () => {
    const doc = structuredClone(base);
    const a = addInstanceLike(doc, INSTANCE, '0a0b0c0d', 61);
    const b = addInstanceLike(doc, INSTANCE, '0e0f0a0b', 62);
    const refusing = refuseOwner(store, b);
    const r = await reconcileView(refusing, viewOf(doc), config);
    const heldB = (r.plan.held ?? []).find((h) => h.owner === b);
    expect(heldB?.by).to.equal('apply');
    expect(heldB?.reason).to.match(/refused/);
    const stored = [...allObjects(await discover(store))];
    expect(stored.some((o) => o.owner === a)).to.equal(true);
    expect(stored.some((o) => o.owner === b)).to.equal(false);
    // once the store takes it, the next cycle applies it and converges
    await applyAndCheck(store, viewOf(doc));
    expect([...allObjects(await discover(store))].some((o) => o.owner === b)).to.equal(true);
  });

  it('a group listed twice on an interface, a route listed twice: merged, no warning, patched', async () => {
    const first = await reconcileView(store, viewOf(base), config);
    const doc = structuredClone(base);
    const eni = instance(doc).networkInterfaces[0];
    eni.securityGroups = [...eni.securityGroups, ...eni.securityGroups];
    const table = doc.vpcs
      .flatMap((v: Doc) => v.routeTables ?? [])
      .find((t: Doc) => (t.routes ?? []).length > 0);
    table.routes.push(structuredClone(table.routes[table.routes.length - 1]));
    const r = await reconcileView(store, viewOf(doc), config, {
      previousMapping: first.mapping,
      previous: first.mapping.desired,
    });
    expect(r.plan.storeOps).to.deep.equal([]);
    expect(r.mapping.issues.filter((i) => i.severity === 'warning')).to.deep.equal([]);
    expect(r.mapping.delta, 'the mapping patched the last one').to.not.equal(undefined);
  });

  it('two gateways peering with one BGP router: no warning, and every cycle after the first patches', async () => {
    const doc = structuredClone(base);
    const gws = property(doc, 'mido').property.find((p: Doc) => p.name === 'gateways').gateway;
    const prop = (gw: Doc, name: string): Doc => gw.property.find((p: Doc) => p.name === name);
    for (const name of ['bgpPeerIp', 'bgpPeerAsn', 'externalCidr'])
      prop(gws[1], name).value = prop(gws[0], name).value;
    prop(gws[1], 'externalIp').value = ['192.0.2.3'];
    let r = await reconcileView(store, viewOf(doc), config);
    expect(r.mapping.issues.filter((i) => i.severity === 'warning')).to.deep.equal([]);
    expect((await store.list('bgp-peer')).length).to.equal(1);
    for (let n = 0; n < 3; n++) {
      const next = structuredClone(doc);
      next.version = String(1000 + n);
      addInstanceLike(next, INSTANCE, `0c0c0c0${n}`, 90 + n);
      r = await reconcileView(store, viewOf(next), config, {
        previousMapping: r.mapping,
        previous: r.mapping.desired,
      });
      expect(r.mapping.delta, `cycle ${n + 2} patches`).to.not.equal(undefined);
      expect(r.plan.counts.create).to.be.greaterThan(0);
    }
  });
});

/** The store, refusing every transaction that writes an object owned by `owner` (fault
 * injection through a wrapping writer). */
function refuseOwner(store: TopologyStore, owner: string): TopologyStore {
  const owned = (op: Op): boolean => op.op !== 'delete' && op.object.owner === owner;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'transaction') {
        return async (ops: readonly Op[], ...rest: unknown[]) => {
          const bad = ops.find(owned);
          if (bad !== undefined && bad.op !== 'delete') {
            throw new InvalidFieldError(
              `invalid ${bad.kind}/${bad.object.id}: refused by the test's store`,
            );
          }
          return (target.transaction as (...a: unknown[]) => unknown).call(target, ops, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
