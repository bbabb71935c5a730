/**
 * Edits of a generated view for the benchmarks: the changes a cloud controller makes between
 * two documents (one instance added or removed, one security-group rule changed), each giving
 * a new view with a new `version`, as a re-written document would. Views are not mutated.
 */
import type { Cluster, GlobalView, Instance, SecurityGroup } from '../../src/gni/index.js';
import { writeGniXml } from '../../src/gni/index.js';
import { generateView } from './gni-generator.js';

const byId = <T extends { readonly id: string }>(a: T, b: T): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** The view with another `version`. */
export function withVersion(view: GlobalView, version: string): GlobalView {
  return { ...view, version };
}

function withNodeLists(
  view: GlobalView,
  edit: (node: string, ids: readonly string[]) => readonly string[],
): GlobalView {
  const clusters: Cluster[] = view.configuration.clusters.map((c) => ({
    ...c,
    nodes: c.nodes.map((n) => ({ ...n, instanceIds: edit(n.name, n.instanceIds) })),
  }));
  return { ...view, configuration: { ...view.configuration, clusters } };
}

/**
 * Adds a copy of `template` (new instance, interface and attachment ids from `suffix`, 8 hex
 * digits; MAC from the suffix; private IP `<template subnet>.<lastOctet>`, which must be free)
 * on the template's node. Only its primary interface is copied.
 */
export function addInstanceLike(
  view: GlobalView,
  template: Instance,
  suffix: string,
  lastOctet: number,
): { view: GlobalView; id: string } {
  const id = `i-${suffix}`;
  const mac = `d0:0d:${suffix.slice(0, 2)}:${suffix.slice(2, 4)}:${suffix.slice(4, 6)}:${suffix.slice(6, 8)}`;
  const privateIp = template.privateIp!.replace(/\.\d+$/, `.${lastOctet}`);
  const primary = template.networkInterfaces.find((e) => e.deviceIndex === 0)!;
  const { publicIp: _eniPublic, ...eni } = primary;
  const { publicIp: _public, ...rest } = template;
  const instance: Instance = {
    ...rest,
    id,
    macAddress: mac,
    privateIp,
    networkInterfaces: [
      {
        ...eni,
        id: `eni-${suffix}`,
        attachmentId: `eni-attach-${suffix}`,
        macAddress: mac,
        privateIp,
      },
    ],
  };
  const added = { ...view, instances: [...view.instances, instance].sort(byId) };
  const placed = withNodeLists(added, (node, ids) =>
    node === template.node ? [...ids, id].sort() : ids,
  );
  return { view: placed, id };
}

/** Removes instance `id` and its node-list entry. */
export function removeInstance(view: GlobalView, id: string): GlobalView {
  const out = { ...view, instances: view.instances.filter((i) => i.id !== id) };
  return withNodeLists(out, (_node, ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : ids));
}

/**
 * Changes the port range of the first ingress rule of security group `sgId` that has one
 * (to `port`..`port`); the group keeps its members and its other rules.
 */
export function changeSgRulePort(view: GlobalView, sgId: string, port: number): GlobalView {
  const securityGroups = view.securityGroups.map((g): SecurityGroup => {
    if (g.id !== sgId) return g;
    const k = g.ingressRules.findIndex((r) => r.fromPort !== undefined);
    if (k < 0) throw new Error(`security group ${sgId} has no rule with ports`);
    const ingressRules = g.ingressRules.map((r, i) =>
      i === k ? { ...r, fromPort: port, toPort: port } : r,
    );
    return { ...g, ingressRules };
  });
  return { ...view, securityGroups };
}

/** Security groups with a port rule and at least `minMembers` interfaces, in id order. */
export function groupsWithPortRules(view: GlobalView, minMembers = 1): string[] {
  const members = new Map<string, number>();
  for (const i of view.instances)
    for (const e of i.networkInterfaces)
      for (const sg of e.securityGroups) members.set(sg, (members.get(sg) ?? 0) + 1);
  return view.securityGroups
    .filter((g) => g.ingressRules.some((r) => r.fromPort !== undefined))
    .filter((g) => (members.get(g.id) ?? 0) >= minMembers)
    .map((g) => g.id);
}

/**
 * Replaces the root `version` attribute of a written XML document by another of the same
 * length (a cheap new document for memory soaks, byte-equal elsewhere).
 */
export function patchVersion(xml: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('patchVersion: versions differ in length');
  const at = xml.indexOf(`"${from}"`, 0, 'latin1');
  if (at < 0 || at > 4096) throw new Error(`patchVersion: version ${from} not in the root tag`);
  const out = Buffer.from(xml);
  out.write(to, at + 1, 'latin1');
  return out;
}

/**
 * The two documents a run of one-instance changes alternates between: the generated cloud of
 * `instances` instances (seed 1, two gateways with one BGP peer) as `xml0`, and the same with
 * one instance added as `added`, both at version `a0000000` (for `patchVersion`).
 */
export function oneInstanceDocs(instances: number): { xml0: Buffer; added: Buffer } {
  const view0 = withVersion(
    generateView({ instances, seed: 1, gateways: 'shared-peer' }),
    'a0000000',
  );
  const template = view0.instances.filter((i) => i.networkInterfaces.length === 1)[1]!;
  const added = addInstanceLike(view0, template, 'c0ffee01', 250).view;
  return {
    xml0: Buffer.from(writeGniXml(view0)),
    added: Buffer.from(writeGniXml(withVersion(added, 'a0000000'))),
  };
}
