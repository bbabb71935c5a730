/**
 * Elastic IPs as stateless 1:1 NAT, so that their flows may cross any gateway (per-flow ECMP,
 * docs/datapath.md "Which gateway carries a flow"). A router's public addresses are the core
 * router's host routes (/32) through its internal port whose next hop is one of the router's
 * port addresses (its _public port_). The router is _per-flow_ when every such address is an
 * elastic IP: a `dnat` rule from that single address to a single private address (no ports)
 * and `snat` rules to it from exactly that private address. Such a translation needs no state:
 * every gateway rewrites `daddr E → P` on the way in and `saddr P → E` on the way out, whatever
 * gateway saw the flow's other packets. Anything else (a NAT gateway's many-to-one SNAT with
 * port rewriting) keeps its router pinned to one gateway. Pure.
 */
import type { Chain, IpAddrGroup, Port, Route, Router, Rule } from '../store/index.js';
import { toInt } from './addr.js';
import type { NftChainSpec, NftTableSpec } from './nft.js';

/** What the classification reads: a host's topology, or the whole store's (a compute host's
 * own share lacks the core router's routes and the routers' chains). */
export interface NatView {
  readonly routers: readonly Router[];
  readonly ports: ReadonlyMap<string, Port>;
  readonly routes: readonly Route[];
  readonly chains: ReadonlyMap<string, Chain>;
  readonly rules: ReadonlyMap<string, Rule>;
  readonly ipAddrGroups: ReadonlyMap<string, IpAddrGroup>;
}

/** The core router's name (topology.ts `CORE_ROUTER`; repeated to keep this module a leaf). */
const CORE = 'eucart';

/** The public port of each router that has public addresses, and those addresses. */
export interface PublicAddresses {
  readonly portId: string;
  readonly addresses: readonly string[];
}

/** Router id → its public port and addresses (core /32 routes through an internal port). */
export function publicAddresses(topo: NatView): Map<string, PublicAddresses> {
  const core = topo.routers.find((r) => r.name === CORE);
  const out = new Map<string, { portId: string; addresses: string[] }>();
  if (!core) return out;
  const portOfAddress = new Map<string, { routerId: string; portId: string }>();
  for (const p of topo.ports.values()) {
    if (p.type === 'Router' && p.routerId !== undefined && p.portAddress !== undefined)
      portOfAddress.set(p.portAddress, { routerId: p.routerId, portId: p.id });
  }
  for (const r of topo.routes) {
    if (r.routerId !== core.id || r.dstNetworkLength !== 32 || r.type !== 'Normal') continue;
    if (r.nextHopGateway === undefined || r.nextHopGateway === '0.0.0.0') continue;
    const via = r.nextHopPort === undefined ? undefined : topo.ports.get(r.nextHopPort);
    // through the internal (eucabr-facing) port, not an uplink
    if (via === undefined || via.hostId !== undefined) continue;
    const target = portOfAddress.get(r.nextHopGateway);
    if (target === undefined) continue;
    const entry = out.get(target.routerId) ?? { portId: target.portId, addresses: [] };
    if (!entry.addresses.includes(r.dstNetworkAddr)) entry.addresses.push(r.dstNetworkAddr);
    out.set(target.routerId, entry);
  }
  for (const e of out.values()) e.addresses.sort();
  return out;
}

/** The rules of every chain the router's and its ports' filters reach (jumps followed). */
function routerRules(topo: NatView, router: Router): Rule[] {
  const roots = [
    router.inboundFilterId,
    router.outboundFilterId,
    router.localRedirectChainId,
    router.forwardChainId,
    ...[...topo.ports.values()]
      .filter((p) => p.routerId === router.id)
      .flatMap((p) => [p.inboundFilterId, p.outboundFilterId]),
  ].filter((id): id is string => id !== undefined);
  const seen = new Set<string>();
  const out: Rule[] = [];
  while (roots.length > 0) {
    const id = roots.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const rid of topo.chains.get(id)?.ruleIds ?? []) {
      const rule = topo.rules.get(rid);
      if (!rule) continue;
      out.push(rule);
      if (rule.jumpChainId !== undefined) roots.push(rule.jumpChainId);
    }
  }
  return out;
}

/** The single address a NAT rule translates to (no range, no ports), else undefined. */
function singleTarget(rule: Rule): string | undefined {
  const t = rule.natTargets;
  if (t?.length !== 1 || t[0]!.addressFrom !== t[0]!.addressTo) return undefined;
  if (t[0]!.portFrom > 0 || t[0]!.portTo > 0) return undefined;
  return t[0]!.addressFrom;
}

/** The single source address a rule matches (a /32, or an address group of one), else
 * undefined. */
function singleSource(topo: NatView, rule: Rule): string | undefined {
  const byNw =
    rule.nwSrcAddress !== undefined && rule.nwSrcLength === 32 && !rule.invNwSrc
      ? rule.nwSrcAddress
      : undefined;
  const group =
    rule.ipAddrGroupSrc !== undefined && !rule.invIpAddrGroupSrc
      ? topo.ipAddrGroups.get(rule.ipAddrGroupSrc)?.addresses
      : undefined;
  const byGroup = group?.length === 1 ? group[0] : undefined;
  if (byNw !== undefined && byGroup !== undefined) return byNw === byGroup ? byNw : undefined;
  return byNw ?? byGroup;
}

/**
 * The elastic IPs of a router (public → private), or undefined when one of its public
 * addresses is not a 1:1 translation (the router must stay pinned to one gateway). A router
 * without public addresses gives an empty map.
 */
export function elasticIps(
  topo: NatView,
  routerId: string,
  pub: PublicAddresses | undefined,
): Map<string, string> | undefined {
  const router = topo.routers.find((r) => r.id === routerId);
  const out = new Map<string, string>();
  if (!router || !pub) return out;
  const publics = new Set(pub.addresses);
  const dnat = new Map<string, string>();
  const snat = new Map<string, Set<string | undefined>>();
  for (const rule of routerRules(topo, router)) {
    if (rule.type === 'dnat' && rule.nwDstLength === 32 && !rule.invNwDst) {
      const e = rule.nwDstAddress!;
      if (!publics.has(e)) continue;
      const p = singleTarget(rule);
      if (p === undefined || (dnat.has(e) && dnat.get(e) !== p)) return undefined;
      dnat.set(e, p);
    } else if (rule.type === 'snat') {
      for (const t of rule.natTargets ?? []) {
        for (const e of publics) {
          if (toInt(t.addressFrom) > toInt(e) || toInt(t.addressTo) < toInt(e)) continue;
          const target = singleTarget(rule);
          if (target !== e) return undefined; // many-to-one or with ports
          const set = snat.get(e) ?? new Set();
          set.add(singleSource(topo, rule));
          snat.set(e, set);
        }
      }
    }
  }
  const privates = new Set<string>();
  for (const e of publics) {
    const p = dnat.get(e);
    const sources = snat.get(e);
    if (p === undefined || !sources || sources.size !== 1 || !sources.has(p)) return undefined;
    if (privates.has(p)) return undefined; // one private address behind two elastic IPs
    privates.add(p);
    out.set(e, p);
  }
  return out;
}

/** The stateless elastic IP chains (`eucanetd-eip-in`, `eucanetd-eip-out`). */
export const EIP_IN_CHAIN = 'eucanetd-eip-in';
export const EIP_OUT_CHAIN = 'eucanetd-eip-out';

/**
 * The router's table with its elastic IPs translated statelessly on its public port `dev`:
 * `daddr E → P` in prerouting after conntrack and before the `nat` chains (-150), so the
 * router's stateful `dnat` rule no longer matches and routing sees the private address;
 * `saddr P → E` in forward (before the `nat` postrouting chain, whose `snat` rule then no
 * longer matches). Both run on every packet, whatever conntrack thinks of it (a SYN-ACK whose
 * SYN crossed another gateway is `invalid` and skips the `nat` hooks). The stateful rules stay
 * (they are what the topology says, and still apply where this table is not used).
 */
export function withElasticIps(
  table: NftTableSpec,
  eips: ReadonlyMap<string, string>,
  dev: string | undefined,
): NftTableSpec {
  if (eips.size === 0 || dev === undefined) return table;
  const pairs = [...eips].sort(([a], [b]) => a.localeCompare(b));
  const map = (list: [string, string][]): string =>
    `{ ${list.map(([k, v]) => `${k} : ${v}`).join(', ')} }`;
  const inbound: NftChainSpec = {
    name: EIP_IN_CHAIN,
    hook: { hook: 'prerouting', priority: -150 },
    rules: [`iifname ${JSON.stringify(dev)} ip daddr set ip daddr map ${map(pairs)}`],
  };
  const outbound: NftChainSpec = {
    name: EIP_OUT_CHAIN,
    hook: { hook: 'forward', priority: 0 },
    rules: [
      `oifname ${JSON.stringify(dev)} ip saddr set ip saddr map ${map(
        pairs.map(([e, p]) => [p, e] as [string, string]).sort(([a], [b]) => a.localeCompare(b)),
      )}`,
    ],
  };
  return { ...table, chains: [...table.chains, inbound, outbound] };
}
