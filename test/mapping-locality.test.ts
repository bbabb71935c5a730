/**
 * Locality and robustness over generated documents: adding one instance changes only that
 * instance's objects, its security groups' address groups and the containers that list its
 * members (the subnet's DHCP hosts, the VPC chains' rule order); invalid entities are skipped
 * with issues while the rest maps.
 */
import { expect } from 'chai';
import type { GlobalView, Instance } from '../src/gni/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  type DesiredTopology,
} from '../src/mapping/index.js';
import { KINDS, type Kind } from '../src/store/index.js';
import { generateView } from '../scripts/lib/gni-generator.js';

function changed(
  a: DesiredTopology,
  b: DesiredTopology,
): { kind: Kind; id: string; owner: string; name?: string }[] {
  const out: { kind: Kind; id: string; owner: string; name?: string }[] = [];
  for (const kind of KINDS) {
    const ma = a[kind] as ReadonlyMap<string, { owner: string; name?: string }>;
    const mb = b[kind] as ReadonlyMap<string, { owner: string; name?: string }>;
    for (const [id, o] of mb) {
      const before = ma.get(id);
      if (before === undefined || JSON.stringify(before) !== JSON.stringify(o))
        out.push({ kind, id, owner: o.owner, ...(o.name ? { name: o.name } : {}) });
    }
    for (const [id, o] of ma) if (!mb.has(id)) out.push({ kind, id, owner: o.owner });
  }
  return out;
}

describe('mapping locality (generated S document)', () => {
  const full = generateView({ size: 'S', seed: 7 });

  it('adding one instance changes only its objects, its SG groups and the containers listing it', () => {
    // the instance with a public IP and the most interfaces exercises EIP and secondary ENIs
    const added: Instance = [...full.instances].sort(
      (x, y) =>
        y.networkInterfaces.length - x.networkInterfaces.length ||
        Number(y.publicIp !== undefined) - Number(x.publicIp !== undefined),
    )[0]!;
    const without: GlobalView = { ...full, instances: full.instances.filter((i) => i !== added) };
    const before = mapTopology(without, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const after = mapTopology(full, before.allocations, DEFAULT_MAPPING_CONFIG);
    const ifaceKeys = new Set(
      added.networkInterfaces.map((n) => (n.deviceIndex === 0 ? added.id : n.id)),
    );
    const sgs = new Set(added.networkInterfaces.flatMap((n) => n.securityGroups));
    const subnets = new Set(added.networkInterfaces.map((n) => n.subnet!));
    const vpc = added.vpc!;
    const diff = changed(before.desired, after.desired);
    expect(diff.length).to.be.greaterThan(20);
    for (const d of diff) {
      const ok =
        ifaceKeys.has(d.owner) ||
        (d.kind === 'ip-addr-group' &&
          sgs.has(d.owner) &&
          /^sg_(priv|pub|all)_/.test(d.name ?? '')) ||
        (d.kind === 'dhcp-subnet' && subnets.has(d.owner)) ||
        (d.kind === 'chain' &&
          d.owner === vpc &&
          /^vc_.*_(preelip|postchain|mdulin|mdulout)$/.test(d.name ?? ''));
      expect(ok, `${d.kind} ${d.name ?? d.id} (owner ${d.owner}) changed`).to.equal(true);
    }
    for (const k of ifaceKeys)
      expect(
        diff.some((d) => d.owner === k && d.kind === 'port'),
        k,
      ).to.equal(true);
    // allocations of everything else are kept
    for (const [id, n] of before.allocations.routerIds)
      expect(after.allocations.routerIds.get(id)).to.equal(n);
    for (const [id, n] of before.allocations.eniIds)
      expect(after.allocations.eniIds.get(id)).to.equal(n);
  });

  it('skips invalid entities with issues while the rest maps', () => {
    const vpc = full.vpcs[0]!;
    const inst = full.instances.find((i) => i.vpc !== vpc.id)!;
    const sub = vpc.subnets[0]!;
    const invalid = new Set([
      `instance:${inst.id}`,
      `subnet:${sub.id}`,
      `routeTable:${vpc.routeTables[0]!.id}`,
    ]);
    const ok = mapTopology(full, emptyAllocations(), DEFAULT_MAPPING_CONFIG);
    const r = mapTopology({ ...full, invalid }, ok.allocations, DEFAULT_MAPPING_CONFIG);
    expect(r.held.has(inst.id)).to.equal(true);
    expect(r.held.has(sub.id)).to.equal(true);
    for (const i of full.instances) {
      if (i.networkInterfaces[0]?.subnet === sub.id) expect(r.held.has(i.id), i.id).to.equal(true);
    }
    const owners = new Set<string>();
    for (const k of KINDS)
      for (const o of (r.desired[k] as ReadonlyMap<string, { owner: string }>).values())
        owners.add(o.owner);
    for (const h of r.held) expect(owners.has(h), h).to.equal(false);
    expect(r.issues.filter((i) => i.code === 'mapping.held').length).to.equal(r.held.size);
    // everything not held still maps, with the same allocations
    const others = full.instances.filter((i) => !r.held.has(i.id));
    expect(others.length).to.be.greaterThan(50);
    for (const i of others) expect(owners.has(i.id), i.id).to.equal(true);
    expect(r.allocations.routerIds).to.deep.equal(ok.allocations.routerIds);
  });
});
