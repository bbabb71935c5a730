import { expect } from 'chai';
import { derivedId } from '../common/index.js';
import type { ActualTopology } from '../discovery/index.js';
import { emptyActual } from '../discovery/index.js';
import type { DesiredTopology } from '../mapping/index.js';
import { KINDS } from '../store/index.js';
import type { AnyObject, Kind } from '../store/index.js';
import { diffTopology } from './diff.js';
import { formatPlan } from './plan.js';

type Obj = Record<string, unknown> & { id: string; owner?: string };

function desiredOf(objs: Partial<Record<Kind, Obj[]>>): DesiredTopology {
  const out: Record<string, Map<string, Obj>> = {};
  for (const k of KINDS) out[k] = new Map((objs[k] ?? []).map((o) => [o.id, o]));
  return out as unknown as DesiredTopology;
}

function actualOf(objs: Partial<Record<Kind, Obj[]>>): ActualTopology {
  const base = emptyActual();
  const objects: Record<string, Map<string, AnyObject>> = {};
  for (const k of KINDS) {
    objects[k] = new Map(
      (objs[k] ?? []).map((o) => [o.id, { version: 1, ...o } as unknown as AnyObject]),
    );
  }
  return { ...base, objects: objects as unknown as ActualTopology['objects'] };
}

const chainId = derivedId('chain:c1');
const r1 = derivedId('rule:c1:a');
const r2 = derivedId('rule:c1:b');
const chain = { id: chainId, name: 'c1', metadata: [], owner: 'sg-1', ruleIds: [r1, r2] };
const rule1 = { id: r1, chainId, type: 'accept', nwProto: 6, owner: 'sg-1' };
const rule2 = { id: r2, chainId, type: 'drop', owner: 'sg-1' };
const routerId = derivedId('router:r');
const router = { id: routerId, name: 'r', adminStateUp: true, owner: 'core' };
const bridgeId = derivedId('bridge:b');
const bridge = { id: bridgeId, name: 'b', adminStateUp: true, owner: 'core' };
const rp = derivedId('port:r:down');
const bp = derivedId('port:b:up');
const rport = {
  id: rp,
  type: 'Router',
  routerId,
  adminStateUp: true,
  peerId: bp,
  portGroupIds: [],
  owner: 'core',
};
const bport = {
  id: bp,
  type: 'Bridge',
  bridgeId,
  adminStateUp: true,
  peerId: rp,
  portGroupIds: [],
  owner: 'core',
};

describe('diffTopology', () => {
  const all = {
    chain: [chain],
    rule: [rule2, rule1],
    router: [router],
    bridge: [bridge],
    port: [rport, bport],
  };

  it('plans creates parents first and rules in chain order on an empty store', () => {
    const plan = diffTopology(desiredOf(all), emptyActual(), new Set());
    expect(plan.counts).to.include({ create: 7, update: 0, delete: 0 });
    const order = plan.storeOps.map((o) => `${o.op}:${o.kind}`);
    expect(order.indexOf('create:chain')).to.be.lessThan(order.indexOf('create:rule'));
    expect(order.indexOf('create:router')).to.be.lessThan(order.indexOf('create:port'));
    const ruleIds = plan.storeOps
      .filter((o) => o.kind === 'rule')
      .map((o) => (o as { object: Obj }).object.id);
    expect(ruleIds).to.deep.equal([r1, r2]);
    // a chain is created without the store-kept ruleIds, and no reorder is needed
    const chainOps = plan.storeOps.filter((o) => o.kind === 'chain');
    expect(chainOps).to.have.length(1);
    expect((chainOps[0] as { object: Obj }).object).to.not.have.property('ruleIds');
  });

  it('links new ports from the second one only (the store fills in the first)', () => {
    const plan = diffTopology(desiredOf(all), emptyActual(), new Set());
    const ports = plan.storeOps
      .filter((o) => o.kind === 'port')
      .map((o) => (o as { object: Obj }).object);
    expect(ports[0]).to.not.have.property('peerId');
    expect(ports[1]!['peerId']).to.equal(ports[0]!.id);
  });

  it('plans nothing when the store already matches (defaults and back-references ignored)', () => {
    const stored = {
      ...all,
      chain: [{ ...chain, ruleIds: [r1, r2], jumpRuleIds: [], portInboundIds: [] }],
      port: [
        { ...rport, routeIds: [] },
        { ...bport, vlanId: undefined },
      ],
      rule: [{ ...rule1, invNwProto: false }, rule2],
    };
    const plan = diffTopology(desiredOf(all), actualOf(stored), new Set());
    expect(plan.storeOps).to.deep.equal([]);
    expect(plan.counts.unchanged).to.equal(7);
  });

  it('plans a field-level update with the changed path', () => {
    const stored = { ...all, chain: [{ ...chain }], rule: [{ ...rule1, nwProto: 17 }, rule2] };
    const plan = diffTopology(desiredOf(all), actualOf(stored), new Set(), { withChanges: true });
    expect(plan.counts).to.include({ update: 1, create: 0, delete: 0 });
    expect(plan.ops[0]!.changes).to.deep.equal([
      { type: 'UPDATE', path: '$.nwProto', value: 6, oldValue: 17 },
    ]);
    expect(formatPlan(plan)).to.contain('~ nwProto: 17 -> 6');
  });

  it('deletes stale objects children first, and leaves held owners and hosts alone', () => {
    const staleChain = {
      id: derivedId('chain:old'),
      name: 'old',
      metadata: [],
      owner: 'sg-9',
      ruleIds: [],
    };
    const staleRule = {
      id: derivedId('rule:old:x'),
      chainId: staleChain.id,
      type: 'drop',
      owner: 'sg-9',
    };
    const heldChain = {
      id: derivedId('chain:held'),
      name: 'held',
      metadata: [],
      owner: 'eni-1',
      ruleIds: [],
    };
    const host = { id: derivedId('host:h1'), name: 'h1', addresses: ['10.0.0.1'], owner: 'hosts' };
    const stored = {
      ...all,
      chain: [chain, staleChain, heldChain],
      rule: [rule1, rule2, staleRule],
      host: [host],
    };
    const desired = desiredOf({ ...all, host: [{ ...host, addresses: [] }] });
    const plan = diffTopology(desired, actualOf(stored), new Set(['eni-1']));
    expect(plan.storeOps.map((o) => `${o.op}:${o.kind}`)).to.deep.equal([
      'delete:rule',
      'delete:chain',
    ]);
    expect(plan.counts).to.include({ delete: 2, held: 1 });
  });

  it('reorders a chain whose rules are out of order, keeping rules that are not ours last', () => {
    const foreign = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
    const stored = { ...all, chain: [{ ...chain, ruleIds: [r2, foreign, r1] }] };
    const plan = diffTopology(desiredOf(all), actualOf(stored), new Set());
    expect(plan.storeOps).to.have.length(1);
    const op = plan.storeOps[0] as { op: string; kind: string; object: Obj };
    expect([op.op, op.kind]).to.deep.equal(['update', 'chain']);
    expect(op.object['ruleIds']).to.deep.equal([r1, r2, foreign]);
    expect(plan.counts).to.include({ update: 1, unchanged: 6 });
  });

  it('unlinks a port before relinking it to a new peer', () => {
    const newBp = derivedId('port:b:up2');
    const wanted = {
      ...all,
      port: [
        { ...rport, peerId: newBp },
        { ...bport, peerId: undefined },
        {
          id: newBp,
          type: 'Bridge',
          bridgeId,
          adminStateUp: true,
          peerId: rp,
          portGroupIds: [],
          owner: 'core',
        },
      ],
    };
    const plan = diffTopology(desiredOf(wanted as never), actualOf(all), new Set());
    const first = plan.storeOps[0] as { op: string; object: Obj };
    expect(first.op).to.equal('update');
    expect(first.object['peerId']).to.equal(undefined);
    const create = plan.storeOps.find((o) => o.op === 'create') as { object: Obj };
    expect(create.object.id).to.equal(newBp);
  });

  it('without ops (the daemon) plans the same store ops and counts', () => {
    const stored = {
      ...all,
      chain: [{ ...chain, ruleIds: [r2, r1] }],
      rule: [{ ...rule1, nwProto: 17 }, rule2],
    };
    const full = diffTopology(desiredOf(all), actualOf(stored), new Set());
    const lean = diffTopology(desiredOf(all), actualOf(stored), new Set(), { withOps: false });
    expect(lean.ops).to.deep.equal([]);
    expect(lean.storeOps).to.deep.equal(full.storeOps);
    expect(lean.counts).to.deep.equal(full.counts);
    expect(full.counts).to.include({ update: 2 });
  });
});
