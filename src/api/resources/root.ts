/**
 * The discovery document (`GET /midonet-api/`) and `system_state`. The document carries every
 * collection key and template midonet-cli reads; collections we do not model (load balancers,
 * mirrors, VTEPs, …) are served empty (see `EMPTY_COLLECTIONS`), so the client reports that
 * nothing is there instead of failing on a missing key.
 */
import type { ApiRouter } from '../context.js';
import { MT } from '../dto.js';
import type { MediaType } from '../http.js';

/** Top-level collections of the discovery document: key → path. */
const COLLECTIONS = {
  routers: 'routers',
  bridges: 'bridges',
  ports: 'ports',
  chains: 'chains',
  hosts: 'hosts',
  ipAddrGroups: 'ip_addr_groups',
  portGroups: 'port_groups',
  tunnelZones: 'tunnel_zones',
  systemState: 'system_state',
  tenants: 'tenants',
} as const;

/**
 * Collections we have no objects of, served as empty lists: root key → path and media type.
 * Their `…Template` keys point under the same path (a GET of one id is a 404).
 */
export const EMPTY_COLLECTIONS: Readonly<Record<string, { path: string; mt: MediaType }>> = {
  healthMonitors: { path: 'health_monitors', mt: { name: 'HealthMonitor', version: 1 } },
  l2insertions: { path: 'l2insertions', mt: { name: 'L2Insertion', version: 1 } },
  loadBalancers: { path: 'load_balancers', mt: { name: 'LoadBalancer', version: 1 } },
  mirrors: { path: 'mirrors', mt: { name: 'Mirror', version: 1 } },
  poolMembers: { path: 'pool_members', mt: { name: 'PoolMember', version: 1 } },
  poolStatistics: { path: 'pool_statistics', mt: { name: 'PoolStatistic', version: 1 } },
  pools: { path: 'pools', mt: { name: 'Pool', version: 1 } },
  qosPolicies: { path: 'qos_policies', mt: { name: 'QOSPolicy', version: 1 } },
  serviceContainerGroups: {
    path: 'service_container_groups',
    mt: { name: 'ServiceContainerGroup', version: 1 },
  },
  serviceContainers: { path: 'service_containers', mt: { name: 'ServiceContainer', version: 1 } },
  traceRequests: { path: 'traces', mt: { name: 'TraceRequest', version: 1 } },
  vips: { path: 'vips', mt: { name: 'VIP', version: 1 } },
  vteps: { path: 'vteps', mt: { name: 'VTEP', version: 2 } },
};

/** Templates of the empty collections (root key → path with `{id}`). */
const EMPTY_TEMPLATES: Readonly<Record<string, string>> = {
  healthMonitorTemplate: 'health_monitors/{id}',
  l2InsertionTemplate: 'l2insertions/{id}',
  loadBalancerTemplate: 'load_balancers/{id}',
  mirrorTemplate: 'mirrors/{id}',
  poolMemberTemplate: 'pool_members/{id}',
  poolStatisticTemplate: 'pool_statistics/{id}',
  poolTemplate: 'pools/{id}',
  qosPolicyTemplate: 'qos_policies/{id}',
  qosBwLimitRuleTemplate: 'qos_bw_limit_rules/{id}',
  qosDscpRuleTemplate: 'qos_dscp_rules/{id}',
  serviceContainerGroupTemplate: 'service_container_groups/{id}',
  serviceContainerTemplate: 'service_containers/{id}',
  traceRequestTemplate: 'traces/{id}',
  vipTemplate: 'vips/{id}',
  vtepTemplate: 'vteps/{id}',
};

/** URI templates of the discovery document: key → path with `{id}`. */
const TEMPLATES = {
  routerTemplate: 'routers/{id}',
  bridgeTemplate: 'bridges/{id}',
  portTemplate: 'ports/{id}',
  chainTemplate: 'chains/{id}',
  ruleTemplate: 'rules/{id}',
  routeTemplate: 'routes/{id}',
  hostTemplate: 'hosts/{id}',
  ipAddrGroupTemplate: 'ip_addr_groups/{id}',
  portGroupTemplate: 'port_groups/{id}',
  tunnelZoneTemplate: 'tunnel_zones/{id}',
  tenantTemplate: 'tenants/{id}',
  bgpPeerTemplate: 'bgp_peers/{id}',
  bgpNetworkTemplate: 'bgp_networks/{id}',
} as const;

/** The API version announced by the discovery document. */
export const API_VERSION = 'v5.0';

/** Builds the discovery document for a base URI. */
export function discoveryDocument(base: string): Record<string, unknown> {
  const doc: Record<string, unknown> = { uri: `${base}/`, version: API_VERSION };
  for (const [k, p] of Object.entries(COLLECTIONS)) doc[k] = `${base}/${p}`;
  for (const [k, p] of Object.entries(TEMPLATES)) doc[k] = `${base}/${p}`;
  for (const [k, { path }] of Object.entries(EMPTY_COLLECTIONS)) doc[k] = `${base}/${path}`;
  for (const [k, p] of Object.entries(EMPTY_TEMPLATES)) doc[k] = `${base}/${p}`;
  // the client reads `poolStatistic` (singular) as the collection of one-id lookups
  doc['poolStatistic'] = `${base}/pool_statistics`;
  doc['eucanetd'] = {
    transaction: `${base}/eucanetd/transaction`,
    watch: `${base}/eucanetd/watch`,
    objects: `${base}/eucanetd/objects/{kind}`,
    revision: `${base}/eucanetd/revision`,
  };
  return doc;
}

/** Registers the root document, system state and the empty collections. */
export function addRootResources(router: ApiRouter): void {
  for (const { path, mt } of Object.values(EMPTY_COLLECTIONS)) {
    router.add('GET', `/${path}`, async () => ({
      status: 200,
      body: [],
      media: mt,
      collection: true,
    }));
  }
  router.add('GET', '/', async (ctx) => ({
    status: 200,
    body: discoveryDocument(ctx.base),
    media: MT.application,
  }));
  router.add('GET', '/system_state', async (ctx) => ({
    status: 200,
    body: {
      state: 'ACTIVE',
      availability: 'READWRITE',
      version: '5.0.0',
      information: null,
      uri: `${ctx.base}/system_state`,
    },
    media: MT.systemState,
  }));
}
