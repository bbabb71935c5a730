/**
 * The rule translator: one MidoNet rule (its condition and action fields) becomes one
 * nftables statement for the agent's `bridge` table. Translation is generic, from the fields,
 * never from chain names. Fields that cannot be expressed yet are reported; the rule then
 * fails closed: an `accept` or `jump` rule with an unsupported condition is left out (it can
 * only let less through), a `drop` rule keeps the conditions it can express (it can only
 * drop more).
 */
import type { Rule } from '../store/index.js';

/** Mark bit set on packets of established/related flows (inet prerouting, after conntrack). */
export const RETURN_FLOW_MARK = 0x1;

/** What the translator needs to resolve references. */
export interface RuleContext {
  /** nft chain name of a topology chain (undefined when the chain is not realized here). */
  chainName(chainId: string): string | undefined;
  /** nft set name of an IP address group (undefined when not realized). */
  setName(groupId: string): string | undefined;
  /** Interface name of a port on this host (undefined when the port is not here). */
  portDev(portId: string): string | undefined;
  /** Interface names of this host's ports in a port group (absent: port-group conditions are
   * unsupported and the rule fails closed). */
  portGroupDevs?(groupId: string): readonly string[];
}

/** The translation of one rule. */
export interface TranslatedRule {
  /** The nft statement (without the trailing comment), or undefined when left out. */
  readonly text: string | undefined;
  /** Fields that could not be expressed (empty when the translation is exact). */
  readonly unsupported: readonly string[];
}

const ARP = 0x0806;
const IPV4 = 0x0800;

function eq(inv: boolean | undefined): string {
  return inv ? '!= ' : '';
}

function cidr(addr: string, len: number | undefined): string {
  return len === undefined || len === 32 ? addr : `${addr}/${len}`;
}

function range(r: { start: number; end: number }): string {
  return r.start === r.end ? String(r.start) : `${r.start}-${r.end}`;
}

function quoted(names: readonly string[]): string {
  return `{ ${names.map((n) => JSON.stringify(n)).join(', ')} }`;
}

/** Translates one rule. */
export function translateRule(rule: Rule, ctx: RuleContext): TranslatedRule {
  const parts: string[] = [];
  const unsupported: string[] = [];
  let impossible = false;
  const isArp = rule.dlType === ARP && !rule.invDlType;

  if (rule.condInvert) unsupported.push('condInvert');
  if (rule.portGroup !== undefined) unsupported.push('portGroup');
  if (rule.noVlan) unsupported.push('noVlan');
  if (rule.vlan !== undefined) unsupported.push('vlan');
  if (rule.fragmentPolicy !== undefined && rule.fragmentPolicy !== 'any') {
    unsupported.push('fragmentPolicy');
  }
  if (rule.matchReturnFlow)
    parts.push(`meta mark & ${hex(RETURN_FLOW_MARK)} == ${hex(RETURN_FLOW_MARK)}`);
  if (rule.matchForwardFlow) parts.push(`meta mark & ${hex(RETURN_FLOW_MARK)} == 0x00000000`);
  for (const [field, ports, inv, key] of [
    ['inPorts', rule.inPorts, rule.invInPorts, 'iifname'],
    ['outPorts', rule.outPorts, rule.invOutPorts, 'oifname'],
  ] as const) {
    if (ports === undefined || ports.length === 0) continue;
    const devs = ports.map((p) => ctx.portDev(p)).filter((d): d is string => d !== undefined);
    if (devs.length > 0) parts.push(`${key} ${eq(inv)}${quoted(devs)}`);
    else if (!inv) impossible = true; // none of the ports is on this host: cannot match here
    void field;
  }
  for (const [field, group, inv, key] of [
    ['inPortGroup', rule.inPortGroup, rule.invInPortGroup, 'iifname'],
    ['outPortGroup', rule.outPortGroup, rule.invOutPortGroup, 'oifname'],
  ] as const) {
    if (group === undefined) continue;
    // like inPorts/outPorts: the group's ports on this host, by interface name
    const devs = ctx.portGroupDevs?.(group);
    if (devs === undefined) unsupported.push(field);
    else if (devs.length > 0) parts.push(`${key} ${eq(inv)}${quoted(devs)}`);
    else if (!inv) impossible = true;
  }
  if (rule.dlType !== undefined) parts.push(`ether type ${eq(rule.invDlType)}${hex4(rule.dlType)}`);
  for (const [field, mac, mask, inv, key] of [
    ['dlSrc', rule.dlSrc, rule.dlSrcMask, rule.invDlSrc, 'saddr'],
    ['dlDst', rule.dlDst, rule.dlDstMask, rule.invDlDst, 'daddr'],
  ] as const) {
    if (mac === undefined) continue;
    if (mask !== undefined && mask.toLowerCase() !== 'ff:ff:ff:ff:ff:ff') {
      unsupported.push(`${field}Mask`);
      continue;
    }
    parts.push(`ether ${key} ${eq(inv)}${mac.toLowerCase()}`);
  }
  if (isArp) {
    if (rule.nwProto !== undefined)
      parts.push(`arp operation ${eq(rule.invNwProto)}${rule.nwProto}`);
    if (rule.nwSrcAddress !== undefined) {
      parts.push(`arp saddr ip ${eq(rule.invNwSrc)}${cidr(rule.nwSrcAddress, rule.nwSrcLength)}`);
    }
    if (rule.nwDstAddress !== undefined) {
      parts.push(`arp daddr ip ${eq(rule.invNwDst)}${cidr(rule.nwDstAddress, rule.nwDstLength)}`);
    }
    if (rule.nwTos !== undefined) unsupported.push('nwTos');
    if (rule.tpSrc !== undefined) unsupported.push('tpSrc');
    if (rule.tpDst !== undefined) unsupported.push('tpDst');
    if (rule.ipAddrGroupSrc !== undefined) unsupported.push('ipAddrGroupSrc');
    if (rule.ipAddrGroupDst !== undefined) unsupported.push('ipAddrGroupDst');
  } else {
    if (!ipConditions(rule, ctx, parts, unsupported)) impossible = true;
  }

  const action = actionOf(rule, ctx, unsupported);
  const isPermissive = rule.type !== 'drop' && rule.type !== 'reject';
  if (impossible || action === undefined || (isPermissive && unsupported.length > 0)) {
    return { text: undefined, unsupported };
  }
  return { text: [...parts, action].join(' '), unsupported };
}

/** Adds the IPv4 conditions; returns false when the rule can never match. */
function ipConditions(
  rule: Rule,
  ctx: RuleContext,
  parts: string[],
  unsupported: string[],
): boolean {
  const needsIp =
    rule.dlType === undefined &&
    (rule.nwSrcAddress !== undefined ||
      rule.nwDstAddress !== undefined ||
      rule.nwProto !== undefined ||
      rule.nwTos !== undefined ||
      rule.ipAddrGroupSrc !== undefined ||
      rule.ipAddrGroupDst !== undefined);
  if (needsIp) parts.push(`ether type ${hex4(IPV4)}`);
  return ipv4Clauses(rule, ctx, parts, unsupported);
}

/**
 * Adds the IPv4 clauses of a rule (TOS, protocol, addresses, address-group sets, ports or
 * ICMP type/code), shared by bridge and router tables; returns false when the rule can never
 * match ("not in 0.0.0.0/0").
 */
export function ipv4Clauses(
  rule: Rule,
  ctx: { setName(groupId: string): string | undefined },
  parts: string[],
  unsupported: string[],
): boolean {
  let possible = true;
  if (rule.nwTos !== undefined) parts.push(`ip dscp ${eq(rule.invNwTos)}${rule.nwTos >> 2}`);
  if (rule.nwProto !== undefined && rule.nwProto !== 0) {
    parts.push(`ip protocol ${eq(rule.invNwProto)}${rule.nwProto}`);
  }
  for (const [addr, len, inv, key] of [
    [rule.nwSrcAddress, rule.nwSrcLength, rule.invNwSrc, 'saddr'],
    [rule.nwDstAddress, rule.nwDstLength, rule.invNwDst, 'daddr'],
  ] as const) {
    if (addr === undefined) continue;
    if (len === 0) {
      if (inv) possible = false; // "not in 0.0.0.0/0" never matches
      continue;
    }
    parts.push(`ip ${key} ${eq(inv)}${cidr(addr, len)}`);
  }
  for (const [field, group, inv, key] of [
    ['ipAddrGroupSrc', rule.ipAddrGroupSrc, rule.invIpAddrGroupSrc, 'saddr'],
    ['ipAddrGroupDst', rule.ipAddrGroupDst, rule.invIpAddrGroupDst, 'daddr'],
  ] as const) {
    if (group === undefined) continue;
    const set = ctx.setName(group);
    if (set === undefined) unsupported.push(field);
    else parts.push(`ip ${key} ${eq(inv)}@${set}`);
  }
  transportConditions(rule, parts);
  return possible;
}

function transportConditions(rule: Rule, parts: string[]): void {
  const proto = rule.invNwProto ? undefined : rule.nwProto;
  if (proto === 1) {
    // eucanetd puts the ICMP type in tpSrc and the code in tpDst
    if (rule.tpSrc !== undefined) parts.push(`icmp type ${eq(rule.invTpSrc)}${range(rule.tpSrc)}`);
    if (rule.tpDst !== undefined) parts.push(`icmp code ${eq(rule.invTpDst)}${range(rule.tpDst)}`);
    return;
  }
  const l4 = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : 'th';
  if (rule.tpSrc !== undefined) parts.push(`${l4} sport ${eq(rule.invTpSrc)}${range(rule.tpSrc)}`);
  if (rule.tpDst !== undefined) parts.push(`${l4} dport ${eq(rule.invTpDst)}${range(rule.tpDst)}`);
}

function actionOf(rule: Rule, ctx: RuleContext, unsupported: string[]): string | undefined {
  switch (rule.type) {
    case 'dnat':
    case 'snat':
    case 'rev_dnat':
    case 'rev_snat':
      unsupported.push(`type:${rule.type}`); // NAT lives in router namespaces, not on bridges
      return undefined;
    default:
      return filterVerdict(rule, ctx, unsupported);
  }
}

/**
 * The nft verdict of a filtering rule type (accept, drop, reject, return, continue, jump), shared
 * by bridge and router tables; NAT types are the caller's (undefined here, nothing reported).
 */
export function filterVerdict(
  rule: Rule,
  ctx: { chainName(chainId: string): string | undefined },
  unsupported: string[],
): string | undefined {
  switch (rule.type) {
    case 'accept':
      return 'accept';
    case 'drop':
    case 'reject':
      return 'drop';
    case 'return':
      return 'return';
    case 'continue':
      return 'continue';
    case 'jump': {
      const target = rule.jumpChainId === undefined ? undefined : ctx.chainName(rule.jumpChainId);
      if (target === undefined) unsupported.push('jumpChainId');
      return target === undefined ? undefined : `jump ${target}`;
    }
    default:
      return undefined;
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}
