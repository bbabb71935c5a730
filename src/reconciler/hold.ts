/**
 * Holding: what a held owner keeps. A held owner (an entity whose input is invalid, or one the
 * plan check or a failed apply held) keeps exactly its last applied state: its own objects are
 * neither changed nor deleted (the diff skips them), and its contributions to shared objects
 * stay where they are: its DHCP host entries in its subnet's DHCP subnet, its addresses in the
 * security groups' address groups, its rules at their place in shared chains (`vc_*`,
 * `eucamdrt_*`), and route-table routes to it. The stored objects say what those contributions are: a DHCP host is named by
 * its owner, an interface's addresses are in its own `elip_pre/post_<owner>` groups, a rule
 * carries its owner.
 */
import { derivedId } from '../common/index.js';
import type { ActualTopology } from '../discovery/index.js';
import type { GlobalView } from '../gni/index.js';
import { ENI_KEY, INSTANCE_KEY } from '../mapping/index.js';
import type { AnyObject, DhcpHost, Kind } from '../store/index.js';

/**
 * `want` with the elements of `current` that `keep` selects (and `want` lacks) put back where
 * they were: each right after the nearest element before it in `current` that `want` also has
 * (or first, when there is none). Elements are compared by `key`.
 */
export function anchoredMerge<T>(
  want: readonly T[],
  current: readonly T[],
  key: (t: T) => string,
  keep: (t: T) => boolean,
): T[] {
  const wanted = new Set(want.map(key));
  const after = new Map<string | undefined, T[]>(); // anchor key (undefined: start) → kept
  let anchor: string | undefined;
  let any = false;
  for (const t of current) {
    const k = key(t);
    if (wanted.has(k)) {
      anchor = k;
      continue;
    }
    if (!keep(t)) continue;
    const list = after.get(anchor) ?? [];
    list.push(t);
    after.set(anchor, list);
    any = true;
  }
  if (!any) return [...want];
  const out: T[] = [...(after.get(undefined) ?? [])];
  for (const t of want) {
    out.push(t);
    const kept = after.get(key(t));
    if (kept !== undefined) out.push(...kept);
  }
  return out;
}

/** What the diff needs to keep held owners' contributions: the held owners and, lazily, the
 * addresses of held interfaces (from their stored `elip_pre/post` groups). */
export class HeldParts {
  private addresses: Set<string> | undefined;

  constructor(
    readonly held: ReadonlySet<string>,
    private readonly actual: ActualTopology,
  ) {}

  /** True when `owner` is held. */
  isHeld(owner: string | undefined): boolean {
    return owner !== undefined && this.held.has(owner);
  }

  /** Private and public addresses of held interfaces, as stored. */
  heldAddresses(): ReadonlySet<string> {
    if (this.addresses !== undefined) return this.addresses;
    const out = new Set<string>();
    const groups = this.actual.objects['ip-addr-group'];
    for (const owner of this.held) {
      for (const name of [`elip_pre_${owner}`, `elip_post_${owner}`]) {
        const g = groups.get(derivedId(`ip-addr-group:${name}`));
        if (g === undefined || g.owner !== owner) continue;
        for (const a of g.addresses ?? []) out.add(a);
      }
    }
    this.addresses = out;
    return out;
  }

  /** True for a stored route (of an owner not held) whose next hop is a held interface's
   * address: a route-table route to that interface, kept while the interface is held (its
   * document may no longer list it, or list it without a usable address). */
  keepsRoute(a: AnyObject): boolean {
    if (this.held.size === 0) return false;
    const via = (a as { nextHopGateway?: string }).nextHopGateway;
    return via !== undefined && this.heldAddresses().has(via);
  }

  /**
   * The desired body of a shared object `d` with the held owners' parts of the stored `a` kept:
   * DHCP hosts named by a held owner (in place of any desired entry of that name) and, in an
   * address group owned by someone else, the stored addresses of held interfaces. Returns `d`
   * itself when nothing is held or nothing of `a` is kept.
   */
  keep<T extends object>(kind: Kind, d: T, a: AnyObject): T {
    if (this.held.size === 0) return d;
    if (kind === 'dhcp-subnet') {
      const stored = (a as { hosts?: readonly DhcpHost[] }).hosts ?? [];
      if (!stored.some((h) => this.isHeld(h.name))) return d;
      const want = ((d as { hosts?: readonly DhcpHost[] }).hosts ?? []).filter(
        (h) => !this.isHeld(h.name),
      );
      const hosts = anchoredMerge(want, stored, hostKey, (h) => this.isHeld(h.name));
      return { ...d, hosts };
    }
    if (kind === 'ip-addr-group') {
      const stored = (a as { addresses?: readonly string[] }).addresses ?? [];
      if (stored.length === 0) return d;
      const held = this.heldAddresses();
      if (held.size === 0 || !stored.some((x) => held.has(x))) return d;
      const want = (d as { addresses?: readonly string[] }).addresses ?? [];
      const addresses = anchoredMerge(want, stored, same, (x) => held.has(x));
      return addresses.length === want.length ? d : { ...d, addresses };
    }
    return d;
  }
}

const same = (s: string): string => s;
const hostKey = (h: DhcpHost): string => `${h.name}|${h.macAddr}`;

/**
 * The stored interfaces of held instances that the mapping could not hold by owner, with the
 * reason: those the document no longer lists (a held instance holds all its interfaces), and
 * those whose ENI is listed under a held instance (a second copy of an instance id) but whose
 * objects another owner has. Each interface's prechain names its instance and ENI. Scans the
 * stored chains only when an instance of the view is held.
 */
export function interfacesOfHeldInstances(
  view: GlobalView,
  held: ReadonlySet<string>,
  actual: ActualTopology,
): Map<string, string> {
  const out = new Map<string, string>();
  if (held.size === 0) return out;
  const instances = new Set<string>();
  const enis = new Map<string, string>(); // ENI id → its held instance
  for (const i of view.instances) {
    if (!held.has(i.id)) continue;
    instances.add(i.id);
    for (const n of i.networkInterfaces) enis.set(n.id, i.id);
  }
  if (instances.size === 0) return out;
  for (const chain of actual.objects.chain.values()) {
    const owner = chain.owner;
    if (owner === undefined || held.has(owner) || out.has(owner)) continue;
    for (const m of chain.metadata ?? []) {
      if (m.key === INSTANCE_KEY && instances.has(m.value)) {
        out.set(owner, `its instance ${m.value} is held`);
      } else if (m.key === ENI_KEY && enis.has(m.value)) {
        out.set(owner, `its interface ${m.value} is listed by held instance ${enis.get(m.value)!}`);
      } else continue;
      break;
    }
  }
  return out;
}
