/**
 * Object names, exactly as eucanetd names them (eucanetd-vpc.md §3.1), and the parsers that
 * let discovery recover allocated numbers from names. Ids are never truncated in names,
 * except in the Linux interface name `vn_<id>` (≤ 15 characters), which uses the 8-hex short
 * form of a long id as eucanetd's `euca_truncate_interfaceid` did.
 */

/** Tenant-independent names of the core and metadata-core objects. */
export const CORE = {
  version: 'euca_version',
  router: 'eucart',
  bridge: 'eucabr',
  portGroup: 'eucapg',
  metadataIp: 'metadata_ip',
  bridgeInfilter: 'eucabr_infilter',
  mdRouter: 'eucamdrt',
  mdBridge: 'eucamdbr',
  mdExtOut: 'eucamdrt_extportout',
  mdVeth: 'eucamd_mido',
} as const;

/** `vr_<vpc>_<rtid>`: the VPC router. */
export function vpcRouterName(vpcId: string, rtid: number): string {
  return `vr_${vpcId}_${rtid}`;
}

/** `vb_<vpc>_<subnet>`: the subnet bridge. */
export function subnetBridgeName(vpcId: string, subnetId: string): string {
  return `vb_${vpcId}_${subnetId}`;
}

/** `natr_<nat>_<subnet>_<rtid>`: the NAT gateway router. */
export function natRouterName(natId: string, subnetId: string, rtid: number): string {
  return `natr_${natId}_${subnetId}_${rtid}`;
}

/**
 * The 8-hex short form of a long EC2-style id (`i-0e5d4c3b2a1908f7e` → `i-0e5d4c3b`); short
 * and unrecognised ids are returned unchanged.
 */
export function shortId(id: string): string {
  const dash = id.indexOf('-');
  if (dash > 0 && id.length - dash - 1 === 17 && /^[0-9a-f]{17}$/.test(id.slice(dash + 1))) {
    return id.slice(0, dash + 9);
  }
  return id;
}

/** The host interface name of an interface's port, `vn_<short id>`, at most 15 characters. */
export function hostInterfaceName(nameKey: string): string {
  return `vn_${shortId(nameKey)}`.slice(0, 15);
}

/** What `parseRouterName` recovers from a managed router name. */
export type ParsedRouterName =
  | { readonly kind: 'vpc'; readonly vpcId: string; readonly rtid: number }
  | {
      readonly kind: 'nat';
      readonly natId: string;
      readonly subnetId: string;
      readonly rtid: number;
    };

const VPC_ROUTER_RE = /^vr_(vpc-[0-9a-z]+)_(\d{1,5})$/;
const NAT_ROUTER_RE = /^natr_(nat-[0-9a-z]+)_(subnet-[0-9a-z]+)_(\d{1,5})$/;
const SUBNET_BRIDGE_RE = /^vb_(vpc-[0-9a-z]+)_(subnet-[0-9a-z]+)$/;

/** Parses `vr_<vpc>_<rtid>` or `natr_<nat>_<subnet>_<rtid>`; `undefined` for any other name. */
export function parseRouterName(name: string): ParsedRouterName | undefined {
  let m = VPC_ROUTER_RE.exec(name);
  if (m) {
    const rtid = Number(m[2]);
    return rtid > 0 ? { kind: 'vpc', vpcId: m[1]!, rtid } : undefined;
  }
  m = NAT_ROUTER_RE.exec(name);
  if (m) {
    const rtid = Number(m[3]);
    return rtid > 0 ? { kind: 'nat', natId: m[1]!, subnetId: m[2]!, rtid } : undefined;
  }
  return undefined;
}

/** Parses `vb_<vpc>_<subnet>`; `undefined` for any other name. */
export function parseBridgeName(
  name: string,
): { readonly vpcId: string; readonly subnetId: string } | undefined {
  const m = SUBNET_BRIDGE_RE.exec(name);
  return m ? { vpcId: m[1]!, subnetId: m[2]! } : undefined;
}
