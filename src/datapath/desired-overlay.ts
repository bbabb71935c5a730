/**
 * The VXLAN overlay of a host: the devices of the bridges that span hosts, their static
 * forwarding entries and the proxy neighbors answering ARP for remote addresses. Pure.
 */
import type { Issue } from '../common/index.js';
import type { HostTopology } from './topology.js';
import { bridgeDev, vxlanDev } from './names.js';
import type { DesiredFdb, DesiredNeighbor, DesiredVxlan } from './desired-types.js';
import { notRealized } from './desired-helpers.js';

/**
 * The overlay of the bridges that span hosts: one VXLAN device per bridge with a remote
 * bound port or realized by another host too (`sharedBridges`; VNI from the bridge), a static forwarding entry for every remote MAC (to the
 * underlay address of the port's host) and a permanent neighbor for every remote address, so
 * ARP is answered locally and nothing floods between hosts.
 */
export function overlayOf(
  topo: HostTopology,
  issues: Issue[],
): { vxlans: DesiredVxlan[]; fdb: DesiredFdb[]; proxyNeighbors: DesiredNeighbor[] } {
  const underlay = topo.underlay ?? new Map<string, string>();
  const local = underlay.get(topo.hostId);
  const vxlans: DesiredVxlan[] = [];
  const fdb: DesiredFdb[] = [];
  const proxyNeighbors: DesiredNeighbor[] = [];
  for (const b of topo.bridges) {
    const remote = [...topo.ports.values()].filter(
      (p) =>
        p.bridgeId === b.id &&
        p.type === 'Bridge' &&
        p.hostId !== undefined &&
        p.interfaceName !== undefined &&
        p.hostId !== topo.hostId,
    );
    // a bridge spans hosts as soon as another host realizes it (a bound port there, a router
    // copy there linked to it, or the router host): that host's router copies send into it
    if (remote.length === 0 && !(topo.sharedBridges?.has(b.id) ?? false)) continue;
    if (b.vni === undefined) {
      issues.push(notRealized(`bridge/${b.id}`, 'bridge with ports on other hosts but no VNI'));
      continue;
    }
    const dev = vxlanDev(b.id);
    vxlans.push({
      dev,
      vni: b.vni,
      master: bridgeDev(b.id),
      ...(local !== undefined ? { local } : {}),
      alias: `eucanetd:vxlan:${b.vni}:${local ?? ''}:${b.id}`,
    });
    for (const p of remote.sort((x, y) => x.id.localeCompare(y.id))) {
      const dst = underlay.get(p.hostId!);
      if (dst === undefined) {
        issues.push(
          notRealized(`port/${p.id}`, `remote port (host ${p.hostId!} has no underlay address)`),
        );
        continue;
      }
      for (const m of topo.macEntries) {
        if (m.portId !== p.id || m.bridgeId !== b.id) continue;
        const mac = m.macAddr.toLowerCase();
        fdb.push({ mac, dev, dst });
        for (const a of topo.arpEntries) {
          if (a.bridgeId === b.id && a.mac.toLowerCase() === mac)
            proxyNeighbors.push({ ip: a.ip, mac, dev });
        }
      }
    }
  }
  return { vxlans, fdb, proxyNeighbors };
}
