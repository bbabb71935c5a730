/** The discovery document (`GET /midonet-api/`) and `system_state`. */
import type { ApiRouter } from '../context.js';
import { MT } from '../dto.js';

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
} as const;

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
} as const;

/** The API version announced by the discovery document. */
export const API_VERSION = 'v5.0';

/** Builds the discovery document for a base URI. */
export function discoveryDocument(base: string): Record<string, unknown> {
  const doc: Record<string, unknown> = { uri: `${base}/`, version: API_VERSION };
  for (const [k, p] of Object.entries(COLLECTIONS)) doc[k] = `${base}/${p}`;
  for (const [k, p] of Object.entries(TEMPLATES)) doc[k] = `${base}/${p}`;
  doc['eucanetd'] = {
    transaction: `${base}/eucanetd/transaction`,
    watch: `${base}/eucanetd/watch`,
    objects: `${base}/eucanetd/objects/{kind}`,
    revision: `${base}/eucanetd/revision`,
  };
  return doc;
}

/** Registers the root document and system state. */
export function addRootResources(router: ApiRouter): void {
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
