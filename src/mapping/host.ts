/**
 * Hosts: one `host` object per GNI node (every node of every cluster), per gateway host and
 * for the eucanetd host that carries the metadata veth. Owner `hosts`; the reconciler creates
 * them if missing and never updates them (the agents fill in `addresses`).
 */
import type { GlobalView } from '../gni/index.js';
import type { TopologyBuilder } from './builder.js';
import { SLOT } from './slots.js';

/** The host the metadata external port binds to: `mido.eucanetdHost`, else the CLC. */
export function eucanetdHostName(view: GlobalView): string | undefined {
  return view.configuration.mido?.eucanetdHost ?? view.configuration.enabledCLCIp;
}

function addHost(b: TopologyBuilder, name: string, added: Set<string>): void {
  if (added.has(name)) return;
  added.add(name);
  b.put('host', {
    id: b.hostId(name),
    owner: 'hosts',
    name,
    addresses: [],
    portIds: SLOT,
    tunnelZoneIds: SLOT,
    version: 0,
  });
}

/** Adds the host objects. */
export function mapHosts(view: GlobalView, b: TopologyBuilder): void {
  const added = new Set<string>();
  for (const cluster of view.configuration.clusters) {
    for (const node of cluster.nodes) addHost(b, node.name, added);
  }
  for (const gw of view.configuration.mido?.gateways ?? []) addHost(b, gw.host, added);
  const md = eucanetdHostName(view);
  if (b.config.enableMidoMd && md !== undefined) addHost(b, md, added);
}
