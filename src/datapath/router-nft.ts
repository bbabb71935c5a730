/**
 * The nftables table of one router namespace on the router host (`table ip eucanetd`): the
 * router's and its ports' filter chains, including NAT (`dnat`/`snat` rules; `rev_*` rules
 * are conntrack's reverse translation, so they only accept). Port inbound and router inbound
 * filters run in a `nat` prerouting base chain, router outbound and port outbound filters in
 * a `nat` postrouting base chain, so every chain sees the first packet of a flow and
 * conntrack carries the decision (and the translation) for the rest of the flow. NAT is only
 * realized here, on the one host that holds the router's uplink: stateful NAT happens in one
 * place per flow.
 */
import type { Issue } from '../common/index.js';
import type { Chain, Router, Rule } from '../store/index.js';
import type { HostTopology } from './topology.js';
import type { NftChainSpec, NftSetSpec, NftTableSpec } from './nft.js';
import { idTag, NFT_TABLE } from './names.js';
import { filterVerdict, ipv4Clauses } from './rules.js';

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;
const ARP = 0x0806;

function ne(inv: boolean | undefined): string {
  return inv ? '!= ' : '';
}

/** What the L3 translator resolves. */
export interface L3RuleContext {
  chainName(chainId: string): string | undefined;
  setName(groupId: string): string | undefined;
  portDev(portId: string): string | undefined;
}

/**
 * Translates one rule for an IPv4 (`ip` family) chain. Returns undefined text when the rule
 * cannot match here (ARP-only, ports not on this host) or uses unsupported fields (listed).
 */
export function translateL3Rule(
  rule: Rule,
  ctx: L3RuleContext,
): { text: string | undefined; unsupported: string[] } {
  const parts: string[] = [];
  const unsupported: string[] = [];
  if (rule.dlType === ARP && !rule.invDlType) return { text: undefined, unsupported };
  if (rule.dlType !== undefined && rule.dlType !== ARP && rule.dlType !== 0x0800 && !rule.invDlType)
    return { text: undefined, unsupported };
  if (rule.condInvert) unsupported.push('condInvert');
  if (rule.portGroup !== undefined) unsupported.push('portGroup');
  if (rule.inPortGroup !== undefined) unsupported.push('inPortGroup');
  if (rule.outPortGroup !== undefined) unsupported.push('outPortGroup');
  if (rule.noVlan) unsupported.push('noVlan');
  if (rule.vlan !== undefined) unsupported.push('vlan');
  if (rule.dlSrc !== undefined) unsupported.push('dlSrc');
  if (rule.dlDst !== undefined) unsupported.push('dlDst');
  if (rule.matchReturnFlow) parts.push('ct state established,related');
  if (rule.matchForwardFlow) parts.push('ct state new');
  for (const [ports, inv, key] of [
    [rule.inPorts, rule.invInPorts, 'iifname'],
    [rule.outPorts, rule.invOutPorts, 'oifname'],
  ] as const) {
    if (ports === undefined || ports.length === 0) continue;
    const devs = ports.map((p) => ctx.portDev(p)).filter((d): d is string => d !== undefined);
    if (devs.length > 0)
      parts.push(`${key} ${ne(inv)}{ ${devs.map((d) => JSON.stringify(d)).join(', ')} }`);
    else if (!inv) return { text: undefined, unsupported };
  }
  if (!ipv4Clauses(rule, ctx, parts, unsupported)) return { text: undefined, unsupported };
  const action = l3Action(rule, ctx, unsupported);
  const permissive = rule.type !== 'drop' && rule.type !== 'reject';
  if (action === undefined || (permissive && unsupported.length > 0))
    return { text: undefined, unsupported };
  const head = parts.length > 0 ? parts.join(' ') + ' ' : '';
  return {
    text: action
      .split('\n')
      .map((a) => head + a)
      .join('\n'),
    unsupported,
  };
}

function natTarget(rule: Rule): string | undefined {
  const t = rule.natTargets?.[0];
  if (!t) return undefined;
  const addr = t.addressFrom === t.addressTo ? t.addressFrom : `${t.addressFrom}-${t.addressTo}`;
  const hasPorts = t.portFrom > 0 && t.portTo > 0;
  const ports = !hasPorts
    ? ''
    : t.portFrom === t.portTo
      ? `:${t.portFrom}`
      : `:${t.portFrom}-${t.portTo}`;
  return addr + ports;
}

function l3Action(rule: Rule, ctx: L3RuleContext, unsupported: string[]): string | undefined {
  switch (rule.type) {
    case 'dnat':
    case 'snat': {
      const to = natTarget(rule);
      if (to === undefined) unsupported.push('natTargets');
      if (to === undefined) return undefined;
      // a port range needs a transport protocol match; other protocols keep the address
      // only (a second rule, after a line break: see buildRouterNft)
      if (!to.includes(':')) return `${rule.type} to ${to}`;
      return `meta l4proto { tcp, udp } ${rule.type} to ${to}\n${rule.type} to ${to.split(':')[0]!}`;
    }
    case 'rev_dnat':
    case 'rev_snat':
      return 'accept'; // conntrack reverses the translation of the flow
    default:
      return filterVerdict(rule, ctx, unsupported);
  }
}

/** Builds the router namespace's table (router host only). `portDev` maps the router's
 * realized ports to their device in the namespace. */
export function buildRouterNft(
  router: Router,
  topo: HostTopology,
  portDev: (portId: string) => string | undefined,
  issues: Issue[],
): NftTableSpec {
  const pre: string[] = [];
  const post: string[] = [];
  const roots: string[] = [];
  const ports = [...topo.ports.values()]
    .filter((p) => p.routerId === router.id)
    .sort((a, b) => a.id.localeCompare(b.id));
  const chainIds = new Map<string, string>();
  const name = (id: string): string | undefined => {
    const c = topo.chains.get(id);
    if (!c) return undefined;
    if (!chainIds.has(id)) {
      const used = new Set(chainIds.values());
      const n = NAME_RE.test(c.name) && !used.has(c.name) ? c.name : `chain-${idTag(c.id)}`;
      chainIds.set(id, n);
    }
    return chainIds.get(id);
  };
  for (const p of ports) {
    const dev = portDev(p.id);
    if (dev === undefined) continue;
    const inName = p.inboundFilterId === undefined ? undefined : name(p.inboundFilterId);
    if (inName) {
      pre.push(`iifname ${JSON.stringify(dev)} jump ${inName}`);
      roots.push(p.inboundFilterId!);
    }
  }
  // as MidoNet's RouterMapper: the local-redirect chain runs before the inbound filter, the
  // forward chain before the outbound filter
  for (const [id, list] of [
    [router.localRedirectChainId, pre],
    [router.inboundFilterId, pre],
    [router.forwardChainId, post],
    [router.outboundFilterId, post],
  ] as const) {
    const chain = id === undefined ? undefined : name(id);
    if (!chain) continue;
    list.push(`jump ${chain}`);
    roots.push(id!);
  }
  for (const p of ports) {
    const dev = portDev(p.id);
    if (dev === undefined) continue;
    const outName = p.outboundFilterId === undefined ? undefined : name(p.outboundFilterId);
    if (outName) {
      post.push(`oifname ${JSON.stringify(dev)} jump ${outName}`);
      roots.push(p.outboundFilterId!);
    }
  }
  // the chains reachable from the roots
  const chains: Chain[] = [];
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const c = topo.chains.get(id);
    if (!c) continue;
    chains.push(c);
    for (const rid of c.ruleIds) {
      const r = topo.rules.get(rid);
      if (r?.jumpChainId !== undefined && name(r.jumpChainId) !== undefined)
        queue.push(r.jumpChainId);
    }
  }
  const setNames = new Map<string, string>();
  const sets: NftSetSpec[] = [];
  const setName = (gid: string): string | undefined => {
    const g = topo.ipAddrGroups.get(gid);
    if (!g) return undefined;
    if (!setNames.has(gid)) {
      const base = `iag_${g.name}`;
      const n = NAME_RE.test(base) ? base : `iag_${idTag(g.id)}`;
      setNames.set(gid, n);
      sets.push({
        name: n,
        type: 'ipv4_addr',
        isVerdictMap: false,
        elements: new Map(
          g.addresses.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)).map((a) => [a, '']),
        ),
      });
    }
    return setNames.get(gid);
  };
  const ctx: L3RuleContext = { chainName: name, setName, portDev };
  const specs: NftChainSpec[] = chains
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((c) => ({
      name: name(c.id)!,
      rules: c.ruleIds.flatMap((rid) => {
        const r = topo.rules.get(rid);
        if (!r) return [];
        const t = translateL3Rule(r, ctx);
        if (t.unsupported.length > 0)
          issues.push({
            path: `rule/${r.id}`,
            code: 'unsupported_field',
            message: `chain ${c.name}: ${t.unsupported.join(', ')} not supported${t.text === undefined ? ' (rule left out)' : ''}`,
            severity: 'warning',
          });
        return t.text === undefined ? [] : t.text.split('\n');
      }),
    }));
  return {
    family: 'ip',
    name: NFT_TABLE,
    sets: sets.sort((a, b) => a.name.localeCompare(b.name)),
    chains: [
      {
        name: 'eucanetd-pre',
        hook: { hook: 'prerouting', priority: -100, type: 'nat' },
        rules: pre,
      },
      {
        name: 'eucanetd-post',
        hook: { hook: 'postrouting', priority: 100, type: 'nat' },
        rules: post,
      },
      ...specs,
    ],
  };
}
