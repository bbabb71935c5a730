/**
 * Seeded edits of a generated view, each a small change a cloud controller makes between two
 * GNI documents (an instance added or removed, a public IP moved, a rule changed, an entity
 * marked invalid, …). Shared by the incremental mapping and incremental diff tests.
 */
import {
  entityKey,
  writeGniXml,
  type Cluster,
  type GlobalView,
  type Instance,
  type NetworkInterface,
  type Node,
  type Vpc,
} from '../../src/gni/index.js';

function withoutPublicIp(ni: NetworkInterface): NetworkInterface {
  const { publicIp: _dropped, ...rest } = ni;
  return rest;
}

export type Edit = (v: GlobalView, r: () => number) => GlobalView;

/** `v` with each node of each cluster replaced by `f(node, its index, its cluster)`. */
export function withNodes(
  v: GlobalView,
  f: (node: Node, index: number, cluster: Cluster) => Node,
): GlobalView {
  const clusters = v.configuration.clusters.map((c) => ({
    ...c,
    nodes: c.nodes.map((n, i) => f(n, i, c)),
  }));
  return { ...v, configuration: { ...v.configuration, clusters } };
}

/** The XML document a cloud controller writes for `v`: instances sorted by id, and the root
 * version `version` (as 8 hex digits). */
export function cloudDocument(v: GlobalView, version: number): Buffer {
  const instances = [...v.instances].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const text = writeGniXml({ ...v, instances, version: version.toString(16).padStart(8, '0') });
  return Buffer.from(text);
}

export function pick<T>(xs: readonly T[], r: () => number): T {
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

export const EDITS: Record<string, Edit> = {
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
    const first = v.configuration.clusters[0];
    const placed = withNodes(v, (nd, ni, c) =>
      c === first && ni === 0 ? { ...nd, instanceIds: [...nd.instanceIds, id] } : nd,
    );
    const node = first?.nodes[0]?.name;
    return {
      ...placed,
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
