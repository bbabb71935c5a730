/**
 * The protocol part of security-group and network-ACL rules: protocol -1 (all) sets no
 * `nwProto`; TCP/UDP put the port range in `tpDst`, also the full range 0-65535 (as eucanetd
 * does: an L4 match makes MidoNet's fragment policy `header`, so non-first fragments do not
 * match the accept); ICMP puts the type in `tpSrc` and the code
 * in `tpDst` (-1 means any), as eucanetd does; other protocol numbers pass through without
 * ports. Every such rule matches IPv4 only (`dlType` 0x0800).
 */
import type { RuleFields } from './builder.js';

/** Protocol and port/ICMP fields of one GNI rule or ACL entry. */
export interface ProtocolSpec {
  readonly protocol: number;
  readonly fromPort?: number | undefined;
  readonly toPort?: number | undefined;
  readonly icmpType?: number | undefined;
  readonly icmpCode?: number | undefined;
}

/** Sets the protocol fields on `f`; returns a reason when the spec cannot be mapped. */
export function applyProtocol(f: RuleFields, p: ProtocolSpec): string | undefined {
  f.dlType = 0x0800;
  const proto = p.protocol;
  if (proto === -1) return undefined;
  if (!Number.isInteger(proto) || proto < 0 || proto > 255) return `protocol ${proto} out of range`;
  f.nwProto = proto;
  if (proto === 6 || proto === 17) {
    if (p.fromPort === undefined && p.toPort === undefined) return undefined;
    const start = p.fromPort ?? p.toPort!;
    const end = p.toPort ?? start;
    if (start < 0 || end > 65535 || start > end) return `port range ${start}-${end} invalid`;
    f.tpDst = { start, end };
  } else if (proto === 1) {
    if (p.icmpType !== undefined && p.icmpType !== -1)
      f.tpSrc = { start: p.icmpType, end: p.icmpType };
    if (p.icmpCode !== undefined && p.icmpCode !== -1)
      f.tpDst = { start: p.icmpCode, end: p.icmpCode };
  }
  return undefined;
}

/** A compact, stable text of the protocol part, used inside rule keys. */
export function protocolKey(p: ProtocolSpec): string {
  if (p.protocol === 6 || p.protocol === 17)
    return `${p.protocol}:${p.fromPort ?? ''}-${p.toPort ?? ''}`;
  if (p.protocol === 1) return `1:${p.icmpType ?? ''}/${p.icmpCode ?? ''}`;
  return String(p.protocol);
}
