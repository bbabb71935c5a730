/**
 * Network ACLs (eucanetd-vpc.md §3.10): chains `acl_ingress/egress_<vpc>_<acl>` with one rule
 * per entry, `accept` for allow and `drop` otherwise, ingress matching the source and egress
 * the destination. Beyond eucanetd (which kept GNI order), entries are applied in rule-number
 * order. Rule ids are keyed by the entry number, an entry's identity, so a changed entry is
 * an update of one rule. Owner `<vpc>/<acl>`.
 */
import type { AclEntry, NetworkAcl, Vpc } from '../gni/index.js';
import type { RuleFields, TopologyBuilder } from './builder.js';
import { formatIp, parseCidr } from './ip.js';
import { applyProtocol } from './protocol.js';

/** Adds both chains of every non-held ACL of a VPC. */
export function mapNetworkAcls(b: TopologyBuilder, vpc: Vpc): void {
  const seen = new Set<string>();
  for (const acl of vpc.networkAcls) {
    const owner = `${vpc.id}/${acl.id}`;
    if (seen.has(acl.id) || b.held.has(owner)) continue;
    seen.add(acl.id);
    mapEntries(b, vpc, acl, 'ingress', acl.ingressEntries, owner);
    mapEntries(b, vpc, acl, 'egress', acl.egressEntries, owner);
  }
}

function mapEntries(
  b: TopologyBuilder,
  vpc: Vpc,
  acl: NetworkAcl,
  dir: 'ingress' | 'egress',
  entries: readonly AclEntry[],
  owner: string,
): void {
  const chain = b.chain(`acl_${dir}_${vpc.id}_${acl.id}`, owner);
  const sorted = [...entries].sort((x, y) => x.number - y.number);
  const seen = new Map<number, number>();
  for (const entry of sorted) {
    const path = `vpc/${vpc.id}/networkAcl/${acl.id}/${dir}Entries/${entry.number}`;
    const f: RuleFields = { type: entry.action === 'allow' ? 'accept' : 'drop' };
    const bad = applyProtocol(f, {
      protocol: entry.protocol,
      fromPort: entry.portRangeFrom,
      toPort: entry.portRangeTo,
      icmpType: entry.icmpType,
      icmpCode: entry.icmpCode,
    });
    const net = parseCidr(entry.cidr ?? '0.0.0.0/0');
    if (bad !== undefined || net === undefined) {
      b.warn(
        'mapping.bad-rule',
        path,
        `entry skipped: ${bad ?? `CIDR ${entry.cidr ?? ''} malformed`}`,
      );
      continue;
    }
    if (dir === 'ingress') {
      f.nwSrcAddress = formatIp(net.addr);
      f.nwSrcLength = net.len;
    } else {
      f.nwDstAddress = formatIp(net.addr);
      f.nwDstLength = net.len;
    }
    const n = (seen.get(entry.number) ?? 0) + 1;
    seen.set(entry.number, n);
    b.rule(chain, n === 1 ? String(entry.number) : `${entry.number}#${n}`, owner, f);
  }
}
