/**
 * Mapping: GlobalView + Allocations + config → DesiredTopology (eucanetd-vpc.md §2, §3, §5.1).
 *
 * Invariants:
 * - Pure: no I/O, no clock, no logging; never throws on bad input (issues instead).
 * - Deterministic: the same inputs give byte-identical `serializeDesired` output.
 * - Names follow eucanetd exactly; ids are `derivedId('<kind>:<name>')` for named objects and
 *   `derivedId(<stable key>)` otherwise (see docs/mapping.md), never including an allocated
 *   number except through a router name.
 * - Every desired object has an `owner`; owners in `held` produce no objects this pass.
 * - Allocations already made are kept for entities still in the view.
 */
export * from './types.js';
export { DEFAULT_MAPPING_CONFIG, emptyAllocations } from './config.js';
export { mapTopology, mapTopologyWithKeys, prepareNextPatch } from './map-topology.js';
export { serializeDesired } from './serialize.js';
export { SLOT, SLOT_FIELDS } from './slots.js';
export { recoverAllocations, type RecoverableObject } from './recover.js';
export {
  parseRouterName,
  parseBridgeName,
  hostInterfaceName,
  shortId,
  vpcRouterName,
  natRouterName,
  subnetBridgeName,
  type ParsedRouterName,
} from './names.js';
export { parseEgress, type EgressItem } from './metadata.js';
export { ENI_KEY, INSTANCE_KEY } from './network-interface.js';
