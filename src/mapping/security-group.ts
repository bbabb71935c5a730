/**
 * Security groups (eucanetd-vpc.md §3.9): chains `sg_ingress/egress_<sg>` with one `accept`
 * rule per GNI rule in GNI order, and address groups `sg_priv/pub/all_<sg>` with the member
 * interfaces' addresses. Rule ids come from the rule's content (protocol, ports, source), with
 * `#<n>` for the n-th duplicate, so one changed GNI rule changes one rule id; the chain's
 * `ruleIds` carries the order. A rule naming a group absent from the view is skipped with a
 * warning, as eucanetd did.
 */
import type { SecurityGroup, SecurityGroupRule } from '../gni/index.js';
import type { DraftChain, RuleFields, TopologyBuilder } from './builder.js';
import { formatIp, parseCidr } from './ip.js';
import { applyProtocol, protocolKey } from './protocol.js';
import { SLOT } from './slots.js';

/** Member addresses collected while interfaces are mapped. */
export interface SgMembers {
  readonly priv: Set<string>;
  readonly pub: Set<string>;
  readonly all: Set<string>;
}

/** Adds both chains of every non-held SG; returns the member sets to fill. `unit`, when
 * given, is called for each SG with the function that maps it (to record or replay it). */
export function mapSecurityGroups(
  b: TopologyBuilder,
  groups: ReadonlyMap<string, SecurityGroup>,
  unit: (sg: SecurityGroup, map: () => void) => void = (_, map) => map(),
): Map<string, SgMembers> {
  const members = new Map<string, SgMembers>();
  for (const sg of groups.values()) {
    if (b.held.has(sg.id)) continue;
    members.set(sg.id, { priv: new Set(), pub: new Set(), all: new Set() });
    unit(sg, () => mapSecurityGroup(b, sg, groups));
  }
  return members;
}

/** Adds both chains of one SG (`groups`: every SG of the view, for rules naming a group). */
export function mapSecurityGroup(
  b: TopologyBuilder,
  sg: SecurityGroup,
  groups: ReadonlyMap<string, SecurityGroup>,
): void {
  mapRules(b, sg, 'ingress', sg.ingressRules, groups);
  mapRules(b, sg, 'egress', sg.egressRules, groups);
}

function mapRules(
  b: TopologyBuilder,
  sg: SecurityGroup,
  dir: 'ingress' | 'egress',
  rules: readonly SecurityGroupRule[],
  groups: ReadonlyMap<string, SecurityGroup>,
): void {
  const chain: DraftChain = b.chain(`sg_${dir}_${sg.id}`, sg.id);
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    const path = `securityGroup/${sg.id}/${dir}Rules/${i}`;
    const f: RuleFields = { type: 'accept' };
    const bad = applyProtocol(f, rule);
    if (bad !== undefined) {
      b.warn('mapping.bad-rule', path, `rule skipped: ${bad}`);
      return;
    }
    let peer: string;
    if (rule.groupId !== undefined) {
      if (!groups.has(rule.groupId)) {
        b.warn('mapping.sg-reference-missing', path, `${rule.groupId} referenced but not found`);
        return;
      }
      const iag = b.id(`ip-addr-group:sg_all_${rule.groupId}`);
      if (dir === 'ingress') f.ipAddrGroupSrc = iag;
      else f.ipAddrGroupDst = iag;
      peer = rule.groupId;
    } else {
      const net = parseCidr(rule.cidr ?? '0.0.0.0/0');
      if (net === undefined) {
        b.warn('mapping.bad-rule', path, `rule skipped: CIDR ${rule.cidr ?? ''} malformed`);
        return;
      }
      const addr = formatIp(net.addr);
      if (dir === 'ingress') {
        f.nwSrcAddress = addr;
        f.nwSrcLength = net.len;
      } else {
        f.nwDstAddress = addr;
        f.nwDstLength = net.len;
      }
      peer = `${addr}/${net.len}`;
    }
    const base = `${protocolKey(rule)}:${peer}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    b.rule(chain, n === 1 ? base : `${base}#${n}`, sg.id, f);
  });
}

/** Adds the three address groups of every mapped SG. */
export function finishSecurityGroups(
  b: TopologyBuilder,
  members: ReadonlyMap<string, SgMembers>,
): void {
  for (const [sg, m] of members) {
    for (const [kind, set] of [
      ['priv', m.priv],
      ['pub', m.pub],
      ['all', m.all],
    ] as const) {
      const name = `sg_${kind}_${sg}`;
      b.put('ip-addr-group', {
        id: b.id(`ip-addr-group:${name}`),
        owner: sg,
        name,
        tenantId: b.config.tenantId,
        addresses: [...set],
        ruleIds: SLOT,
        version: 0,
      });
    }
  }
}
