/**
 * Datapath: the per-host agent. It reads the host's share of the topology (ports bound to the
 * host, their bridges, the routers those bridges reach, the chains and groups of those) and
 * reconciles the Linux state of the network namespace it runs in: Linux bridges, one helper
 * namespace per router linked by veth pairs, routes and neighbors, dnsmasq for DHCP, and two
 * nftables tables updated atomically.
 * Invariants: the planner is pure (topology + observed state → actions); the agent only
 * touches objects it made (link alias, namespace prefix, route protocol, its nft tables, its
 * state directory); a pass over unchanged inputs plans nothing.
 */
export {
  runAgent,
  syncHost,
  registerHost,
  assertNotRootNetns,
  defaultStateDir,
  DEFAULT_METADATA_BACKEND,
  type AgentOptions,
  type PassResult,
} from './agent.js';
export {
  readHostTopology,
  CORE_ROUTER,
  METADATA_ROUTER,
  type HostTopology,
  type GatewayLiveness,
  type LivenessContext,
} from './topology.js';
export {
  createHeartbeatLiveness,
  HEARTBEAT_PORT,
  type HeartbeatLiveness,
  type HeartbeatOptions,
} from './heartbeat.js';
export {
  createStoreLiveness,
  isStoredHeartbeatAlive,
  type StoreLiveness,
  type StoreLivenessOptions,
} from './store-liveness.js';
export { ALL_LIVE, isGatewayHost, servingGateway, servedPublicRoutes } from './gateways.js';
export { birdConfig, bgpSpec, BGP_DEFAULT_TIMERS, type BgpSpec, type BgpSession } from './bgp.js';
export {
  desiredHost,
  metadataMap,
  METADATA_IP,
  type DesiredHost,
  type DesiredOptions,
} from './desired.js';
export { buildRouterNft, translateL3Rule } from './router-nft.js';
export { createMetadataProxy, parseBackend, type MetadataEntry } from './md-proxy.js';
export { planHost, routeKey, type Action, type ObservedHost, type ObservedNs } from './plan.js';
export { observeHost, appliedNs, type ObservedCache } from './observe.js';
export {
  createRunner,
  describeAction,
  runAction,
  CommandError,
  type CommandRunner,
} from './exec.js';
export { translateRule, RETURN_FLOW_MARK, type RuleContext, type TranslatedRule } from './rules.js';
export { diffTable, parseNftJson, ruleTag, appliedTable, type NftTableSpec } from './nft.js';
export * from './names.js';
