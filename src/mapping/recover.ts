/**
 * Recovery of allocations from the objects discovery read, so a restart or a rebuild gives
 * every surviving object the same name:
 * - router ids from router names `vr_<vpc>_<rtid>` and `natr_<nat>_<subnet>_<rtid>`;
 * - VNIs from `bridge.vni` of bridges named `vb_<vpc>_<subnet>`, keyed by subnet id;
 * - metadata ids from each interface's metadata SNAT rule (in `vc_<vpc>_mdulout`): its
 *   `natTargets[0].addressFrom` is 255.0.0.0 + eniid and its `metadata` entry `eni` names
 *   the ENI (the rule is owned by the interface name key, which for a primary interface is the
 *   instance id, so the ENI id is written down on the rule).
 * Objects are duck-typed: pass every managed object; anything else is ignored. When two
 * objects claim the same entity, the first one wins.
 */
import { PLAN } from './config.js';
import { parseIp } from './ip.js';
import { ENI_METADATA_KEY } from './metadata.js';
import { parseBridgeName, parseRouterName } from './names.js';
import type { Allocations } from './types.js';

/** The fields recovery looks at; any store object fits. */
export interface RecoverableObject {
  readonly name?: string;
  readonly vni?: number;
  readonly type?: string;
  readonly natTargets?: readonly { readonly addressFrom: string }[];
  readonly metadata?: readonly { readonly key: string; readonly value: string }[];
}

/** Recovers router ids, metadata ids and VNIs from managed objects. */
export function recoverAllocations(objects: Iterable<RecoverableObject>): Allocations {
  const routerIds = new Map<string, number>();
  const eniIds = new Map<string, number>();
  const vnis = new Map<string, number>();
  for (const o of objects) {
    if (typeof o.name === 'string') {
      if (o.name.startsWith('vr_') || o.name.startsWith('natr_')) {
        const r = parseRouterName(o.name);
        const id = r === undefined ? undefined : r.kind === 'vpc' ? r.vpcId : r.natId;
        if (r !== undefined && id !== undefined && !routerIds.has(id)) routerIds.set(id, r.rtid);
      } else if (o.name.startsWith('vb_') && typeof o.vni === 'number') {
        const p = parseBridgeName(o.name);
        if (p !== undefined && !vnis.has(p.subnetId)) vnis.set(p.subnetId, o.vni);
      }
    } else if (o.type === 'snat' && o.metadata !== undefined && o.natTargets !== undefined) {
      const eni = o.metadata.find((m) => m.key === ENI_METADATA_KEY)?.value;
      const addr = o.natTargets[0] === undefined ? undefined : parseIp(o.natTargets[0].addressFrom);
      if (eni === undefined || addr === undefined || addr >>> 24 !== PLAN.mdNet >>> 24) continue;
      if (!eniIds.has(eni)) eniIds.set(eni, addr - PLAN.mdNet);
    }
  }
  return { routerIds, eniIds, vnis };
}
