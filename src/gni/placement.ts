/**
 * Instance placement: each instance's node and cluster from the configuration's node lists
 * (part of the cross-entity checks in references.ts; see docs/gni.md), and the node-list
 * helpers the incremental checks use (check-incremental.ts).
 */
import { entityKey } from './types.js';
import { paths } from './build-entities.js';
import type { BuildContext } from './build-context.js';
import type { ViewParts } from './references.js';
import type { GniConfig, Instance } from './types.js';

/** Resolves each instance's node and cluster from the node lists (last listing wins). */
export function placeInstances(view: ViewParts, ctx: BuildContext): void {
  const placement = new Map<string, { node: string; cluster: string; path: string }>();
  for (const cluster of view.configuration.clusters) {
    for (const node of cluster.nodes) {
      const path = `configuration/clusters/cluster[${cluster.name}]/nodes/node[${node.name}]`;
      for (const id of node.instanceIds) {
        const prev = placement.get(id);
        if (prev !== undefined) {
          ctx.warn(
            `${path}/instanceIds`,
            'duplicate-placement',
            `instance ${id} is also listed on node ${prev.node}; the last listing (${node.name}) wins`,
          );
        }
        placement.set(id, { node: node.name, cluster: cluster.name, path });
      }
    }
  }
  const ids = new Set<string>();
  // An instance an incremental read reused carries the last read's placement and belongs to
  // that read's view too: it is replaced by a copy when its placement changes, never written.
  const instances = view.instances;
  instances.forEach((inst, i) => {
    ids.add(inst.id);
    const p = placement.get(inst.id);
    if (p === undefined) {
      if (inst.node !== undefined || inst.cluster !== undefined) {
        const { node: _node, cluster: _cluster, ...rest } = inst;
        instances[i] = rest;
      }
      ctx.bad(
        entityKey('instance', inst.id),
        paths.instance(inst.id),
        'not-placed',
        'instance is not listed on any node',
      );
    } else if (inst.node === undefined && inst.cluster === undefined) {
      inst.node = p.node; // built by this read: not shared
      inst.cluster = p.cluster;
    } else if (inst.node !== p.node || inst.cluster !== p.cluster) {
      instances[i] = { ...inst, node: p.node, cluster: p.cluster };
    }
  });
  for (const [id, p] of placement) {
    if (!ids.has(id))
      ctx.warn(
        `${p.path}/instanceIds`,
        'missing-reference',
        `node lists instance ${id}, which is not in the document`,
      );
  }
}

/** Where a node lists its instances. */
export interface NodeSlot {
  readonly key: string;
  readonly node: string;
  readonly cluster: string;
  readonly ids: readonly string[];
}

/** Whether two id lists are equal, item by item. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Position of `id` in instances sorted by id, or -1. */
export function findById(instances: readonly Instance[], id: string): number {
  let lo = 0;
  let hi = instances.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = instances[mid]!.id;
    if (x === id) return mid;
    if (x < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The configuration's cluster names as one comparable string. */
export function clusterNames(config: GniConfig): string {
  return [...new Set(config.clusters.map((c) => c.name))].sort().join('\u0000');
}

/** The node slots of a configuration, or `undefined` if two nodes share cluster and name. */
export function nodeSlots(config: GniConfig): Map<string, NodeSlot> | undefined {
  const nodes = new Map<string, NodeSlot>();
  for (const c of config.clusters) {
    for (const n of c.nodes) {
      const key = `${c.name}\u0000${n.name}`;
      if (nodes.has(key)) return undefined;
      nodes.set(key, { key, node: n.name, cluster: c.name, ids: n.instanceIds });
    }
  }
  return nodes;
}
