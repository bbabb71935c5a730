/**
 * Mapping defaults: eucalyptus.conf's `MIDO_*` defaults and the address plan constants
 * (eucanetd-vpc.md §1.9, §2.1).
 */
import type { Allocations, MappingConfig } from './types.js';

/**
 * The version stamped into `euca_version` by default: that of the eucanetd we replace
 * (Eucalyptus 4.4.2; eucanetd writes EUCA_VERSION as four dotted numbers). A 4.4 eucanetd
 * started after us refuses to run on a newer stamp ("Downgrading … not supported").
 */
export const EUCANETD_VERSION = '4.4.2.0';

/** The defaults eucanetd uses when eucalyptus.conf sets nothing. */
export const DEFAULT_MAPPING_CONFIG: MappingConfig = Object.freeze({
  maxRtid: 10240,
  maxEniid: 1048576,
  enableMidoMd: true,
  enableArpTable: true,
  disableL2Isolation: false,
  md254Egress: 'tcp:80',
  md253Egress: 'udp:53 tcp:53 udp:5353 tcp:5353',
  eucaVersion: EUCANETD_VERSION,
  tenantId: 'euca_tenant_1',
});

/** Allocations with nothing allocated (a fresh store). */
export function emptyAllocations(): Allocations {
  return { routerIds: new Map(), eniIds: new Map(), vnis: new Map() };
}

/** The fixed address plan (only the defaults are valid, as in eucanetd's `validate_mido`). */
export const PLAN = {
  /** 169.254.0.0/17: eucart ↔ VPC and NAT routers. */
  intRtNet: 0xa9fe0000,
  intRtLen: 17,
  /** 169.254.128.0/17: eucamdrt ↔ VPC MD uplinks. */
  intMdNet: 0xa9fe8000,
  intMdLen: 17,
  /** 169.254.169.248/29: eucamdrt external port network. */
  extMdNet: 0xa9fea9f8,
  extMdLen: 29,
  /** 255.0.0.0/8: per-interface metadata source addresses. */
  mdNet: 0xff000000,
  /** Router ids skipped because they would land on 169.254.169.248/29. */
  rtidSkipFrom: 10744,
  rtidSkipTo: 10751,
  firstRtid: 2,
  firstEniid: 10,
  maxVni: 0xffffff,
  /** eucanetd's DNS fallback when the GNI lists none. */
  fallbackDns: '8.8.8.8',
} as const;
