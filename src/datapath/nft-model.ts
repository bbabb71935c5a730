/**
 * Builds the agent's two nftables tables from the host's topology.
 *
 * `bridge eucanetd` does the filtering, in four base chains on the bridge forward hook that
 * mirror MidoNet's filter stages: port inbound filter (by input port), bridge inbound filter,
 * bridge outbound filter, port outbound filter (by output port). An `accept` inside a stage
 * ends that stage only (the next base chain still runs), a `drop` ends everything, falling
 * off a chain accepts, exactly as MidoNet evaluates chains. DHCP between an instance and the
 * router port bypasses the filters, as MidoNet answers DHCP before simulating the filters.
 *
 * `inet eucanetd` only prepares state for it: a conntrack zone per bridge (overlapping VPC
 * address ranges never share flows) and a mark bit on packets of established/related flows,
 * read by `matchReturnFlow` rules (bridge-family conntrack is not available; br_netfilter runs
 * the inet prerouting hook before the bridge forward hook).
 */
import type { Issue } from '../common/index.js';
import type { Chain } from '../store/index.js';
import type { HostTopology } from './topology.js';
import type { NftChainSpec, NftSetSpec, NftTableSpec } from './nft.js';
import { RETURN_FLOW_MARK, translateRule, type RuleContext } from './rules.js';
import { idTag } from './names.js';

/** Names of the fixed objects in the agent's tables. */
export const FIXED = {
  stages: [
    { chain: 'eucanetd-port-in', map: 'port_in', key: 'iifname', priority: -200 },
    { chain: 'eucanetd-bridge-in', map: 'bridge_in', key: 'iifname', priority: -199 },
    { chain: 'eucanetd-bridge-out', map: 'bridge_out', key: 'oifname', priority: -198 },
    { chain: 'eucanetd-port-out', map: 'port_out', key: 'oifname', priority: -197 },
  ],
  routerPorts: 'router_ports',
  dhcpAddrs: 'dhcp_daddr',
  zoneChain: 'eucanetd-zone',
  flowChain: 'eucanetd-flow',
} as const;

/** Inputs besides the topology. */
export interface NftBuildContext {
  /** Port id → interface name on this host (bound ports and router-link host ends). */
  readonly portDevs: ReadonlyMap<string, string>;
  readonly routerDevs: readonly string[];
  readonly routerAddrs: readonly string[];
  /** Bridge dev → conntrack zone. */
  readonly zones: ReadonlyMap<string, number>;
  readonly table: string;
  /** Collects unsupported fields. */
  readonly issues: Issue[];
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

/** Builds the `bridge` and `inet` tables. */
export function buildNftTables(topo: HostTopology, ctx: NftBuildContext): NftTableSpec[] {
  const chainNames = nameChains(topo.chains);
  const setNames = new Map<string, string>();
  const sets: NftSetSpec[] = [];
  for (const g of [...topo.ipAddrGroups.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const base = `iag_${g.name}`;
    const name = NAME_RE.test(base) && !setNames.has(base) ? base : `iag_${idTag(g.id)}`;
    setNames.set(g.id, name);
    const members = g.addresses.filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    sets.push({
      name,
      type: 'ipv4_addr',
      isVerdictMap: false,
      elements: new Map(members.map((a) => [a, ''])),
    });
  }
  const rctx: RuleContext = {
    chainName: (id) => chainNames.get(id),
    setName: (id) => setNames.get(id),
    portDev: (id) => ctx.portDevs.get(id),
    portGroupDevs: (groupId) =>
      [...topo.ports.values()]
        .filter((p) => p.portGroupIds.includes(groupId))
        .map((p) => ctx.portDevs.get(p.id))
        .filter((d): d is string => d !== undefined)
        .sort(),
  };
  const chains: NftChainSpec[] = [];
  for (const chain of [...topo.chains.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    chains.push({
      name: chainNames.get(chain.id)!,
      rules: chainRules(chain, topo, rctx, ctx.issues),
    });
  }
  const maps = dispatchMaps(topo, ctx, chainNames);
  const dhcpBypass = [
    `iifname @${FIXED.routerPorts} udp sport 67 udp dport 68 accept`,
    `oifname @${FIXED.routerPorts} udp sport 68 udp dport 67 ip daddr @${FIXED.dhcpAddrs} accept`,
  ];
  const stageChains: NftChainSpec[] = FIXED.stages.map((s) => ({
    name: s.chain,
    hook: { hook: 'forward', priority: s.priority },
    rules: [...dhcpBypass, `${s.key} vmap @${s.map}`],
  }));
  const bridgeTable: NftTableSpec = {
    family: 'bridge',
    name: ctx.table,
    sets: [
      ifnameSet(FIXED.routerPorts, ctx.routerDevs),
      {
        name: FIXED.dhcpAddrs,
        type: 'ipv4_addr',
        isVerdictMap: false,
        elements: new Map(['255.255.255.255', ...ctx.routerAddrs].map((a) => [a, ''])),
      },
      ...maps,
      ...sets,
    ],
    chains: [...stageChains, ...chains],
  };
  return [bridgeTable, inetTable(ctx)];
}

function inetTable(ctx: NftBuildContext): NftTableSpec {
  const zones = [...ctx.zones].sort(([a], [b]) => a.localeCompare(b));
  const bridgeList = zones.map(([dev]) => JSON.stringify(dev)).join(', ');
  const mark = '0x' + RETURN_FLOW_MARK.toString(16).padStart(8, '0');
  return {
    family: 'inet',
    name: ctx.table,
    sets: [],
    chains: [
      {
        name: FIXED.zoneChain,
        hook: { hook: 'prerouting', priority: -300 },
        rules:
          zones.length === 0
            ? []
            : [
                `ct zone set iifname map { ${zones.map(([d, z]) => `${JSON.stringify(d)} : ${z}`).join(', ')} }`,
              ],
      },
      {
        name: FIXED.flowChain,
        hook: { hook: 'prerouting', priority: -150 },
        rules:
          zones.length === 0
            ? []
            : [
                `iifname { ${bridgeList} } ct state established,related meta mark set meta mark | ${mark}`,
              ],
      },
    ],
  };
}

function ifnameSet(name: string, devs: readonly string[]): NftSetSpec {
  return { name, type: 'ifname', isVerdictMap: false, elements: new Map(devs.map((d) => [d, ''])) };
}

function nameChains(chains: ReadonlyMap<string, Chain>): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const c of [...chains.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    let name = c.name;
    if (!NAME_RE.test(name) || name.startsWith('eucanetd') || used.has(name))
      name = `chain-${idTag(c.id)}`;
    used.add(name);
    names.set(c.id, name);
  }
  return names;
}

function chainRules(
  chain: Chain,
  topo: HostTopology,
  rctx: RuleContext,
  issues: Issue[],
): string[] {
  const out: string[] = [];
  for (const ruleId of chain.ruleIds) {
    const rule = topo.rules.get(ruleId);
    if (!rule) continue;
    const t = translateRule(rule, rctx);
    if (t.unsupported.length > 0) {
      issues.push({
        path: `rule/${rule.id}`,
        code: 'unsupported_field',
        message: `chain ${chain.name}: ${t.unsupported.join(', ')} not supported${t.text === undefined ? ' (rule left out)' : ''}`,
        severity: 'warning',
      });
    }
    if (t.text !== undefined) out.push(t.text);
  }
  return out;
}

function dispatchMaps(
  topo: HostTopology,
  ctx: NftBuildContext,
  chainNames: ReadonlyMap<string, string>,
): NftSetSpec[] {
  const entries = FIXED.stages.map(() => new Map<string, string>());
  const jump = (id: string | undefined): string | undefined => {
    const name = id === undefined ? undefined : chainNames.get(id);
    return name === undefined ? undefined : `jump ${name}`;
  };
  const bridges = new Map(topo.bridges.map((b) => [b.id, b]));
  for (const [portId, dev] of [...ctx.portDevs].sort(([, a], [, b]) => a.localeCompare(b))) {
    const port = topo.ports.get(portId) ?? topo.boundPorts.find((p) => p.id === portId);
    const bridge = port?.bridgeId === undefined ? undefined : bridges.get(port.bridgeId);
    if (!port || !bridge) continue;
    const verdicts = [
      jump(port.inboundFilterId),
      jump(bridge.inboundFilterId),
      jump(bridge.outboundFilterId),
      jump(port.outboundFilterId),
    ];
    verdicts.forEach((v, i) => {
      if (v !== undefined) entries[i]!.set(dev, v);
    });
  }
  return FIXED.stages.map((s, i) => ({
    name: s.map,
    type: 'ifname',
    isVerdictMap: true,
    elements: entries[i]!,
  }));
}
