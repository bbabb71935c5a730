/**
 * The mapping contract: `mapTopology(view, allocations, config) → MappingResult`.
 * Pure: no I/O, no clock. Same input, byte-identical output.
 */
import type { Issue } from '../common/index.js';
import type { Kind, SlotsOf, WritableOf } from '../store/index.js';

/** A desired object: what the controller writes (no version or back-references of its own:
 * at most the store's slots, see slots.ts), with `owner` always set. `chain.ruleIds` is
 * included and gives the desired rule order. */
export type DesiredObject = WritableOf<Kind> & {
  readonly owner: string;
  readonly ruleIds?: readonly string[];
};

/** One desired object of kind `K`: its writable fields plus `owner`; chains also carry
 * `ruleIds`, the desired rule order (mapping always sets it). The mappers write the store's
 * slots into their literals (`version: 0`, back-reference fields `SLOT`: see slots.ts), so a
 * bulk create adopts the object as it is; nothing of the mapping reads them. */
export type DesiredOf<K extends Kind> = WritableOf<K> &
  SlotsOf<K> & {
    readonly owner: string;
  } & (K extends 'chain' ? { readonly ruleIds?: readonly string[] } : unknown);

/** Desired objects by kind, each map keyed by id; iteration order is deterministic. */
export type DesiredTopology = { readonly [K in Kind]: ReadonlyMap<string, DesiredOf<K>> };

/**
 * Numbers allocated to GNI entities, recovered from the store by discovery:
 * - `routerIds`: VPC id or NAT gateway id → rtid (2 .. MIDO_MAX_RTID-1, skipping 10744-10751);
 * - `eniIds`: network interface id → metadata id (10 .. MIDO_MAX_ENIID-1);
 * - `vnis`: subnet id → VXLAN VNI of the subnet's bridge.
 */
export interface Allocations {
  readonly routerIds: ReadonlyMap<string, number>;
  readonly eniIds: ReadonlyMap<string, number>;
  /** Subnet id → VXLAN VNI of its bridge (1 .. 2^24-1), recovered from `bridge.vni`. */
  readonly vnis: ReadonlyMap<string, number>;
}

/** Settings that change the mapping (eucalyptus.conf `MIDO_*` keys and friends). */
export interface MappingConfig {
  /** `MIDO_MAX_RTID`, default 10240. */
  readonly maxRtid: number;
  /** `MIDO_MAX_ENIID`, default 1048576. */
  readonly maxEniid: number;
  /** `MIDO_ENABLE_MIDOMD`, default true. */
  readonly enableMidoMd: boolean;
  /** `MIDO_ENABLE_ARPTABLE`, default true. */
  readonly enableArpTable: boolean;
  /** `DISABLE_L2_ISOLATION`, default false. */
  readonly disableL2Isolation: boolean;
  /** `MIDO_MD_254_EGRESS`, default `tcp:80`. */
  readonly md254Egress: string;
  /** `MIDO_MD_253_EGRESS`, default `udp:53 tcp:53 udp:5353 tcp:5353`. */
  readonly md253Egress: string;
  /** Version stamped into `euca_version` (dotted, e.g. `5.0.0.0`). */
  readonly eucaVersion: string;
  /** Tenant of named objects, default `euca_tenant_1`. */
  readonly tenantId: string;
}

/** What mapping returns. */
export interface MappingResult {
  readonly desired: DesiredTopology;
  readonly issues: readonly Issue[];
  /** Allocations after this mapping (existing ones kept, new ones added, stale ones dropped). */
  readonly allocations: Allocations;
  /**
   * Owners whose input is invalid this time: the reconciler neither changes nor deletes
   * existing objects with these owners.
   */
  readonly held: ReadonlySet<string>;
  /** Why each owner in `held` is held (e.g. `invalid`, `its subnet subnet-1 is held`). */
  readonly heldReasons: ReadonlyMap<string, string>;
  /**
   * Patch passes only (`mapTopology` given a previous result it could patch): what changed
   * relative to the previous result's desired topology. Every desired object not in `put` is
   * the very object the previous result had.
   */
  readonly delta?: TopologyDelta;
}

/** Per kind: the objects a patch pass put (new, or replacing the object with that id) and the
 * ids it removed, relative to the previous result. */
export type TopologyDelta = {
  readonly [K in Kind]: {
    readonly put: readonly DesiredOf<K>[];
    readonly removed: readonly string[];
  };
};
