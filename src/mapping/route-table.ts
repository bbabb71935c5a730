/**
 * Route tables (eucanetd-vpc.md §3.4): every entry of a subnet's route table becomes a
 * source route on the VPC router (src = subnet CIDR) with weight 10 via the uplink to eucart
 * for an internet gateway, 20 via the NAT gateway's private IP for a NAT gateway and 30 via
 * the interface's private IP for an interface. `local` needs nothing (the subnet route does
 * it); other targets give a warning, never a crash. Owner `<subnet>/routes`.
 */
import type { RouteTable, Vpc } from '../gni/index.js';
import type { TopologyBuilder } from './builder.js';
import { PLAN } from './config.js';
import type { ViewIndex } from './context.js';
import { formatIp, parseCidr } from './ip.js';
import type { SubnetCtx } from './subnet.js';

/** Adds the routes of one subnet's route table. */
export function mapRouteTable(b: TopologyBuilder, idx: ViewIndex, s: SubnetCtx): void {
  const owner = `${s.subnet.id}/routes`;
  if (b.held.has(owner)) return;
  const v = s.vpc;
  const path = `subnet/${s.subnet.id}/routeTable`;
  const rtId = s.subnet.routeTable;
  const table: RouteTable | undefined = v.vpc.routeTables.find((t) => t.id === rtId);
  if (table === undefined) {
    b.warn('mapping.route-table-missing', path, `route table for ${s.subnet.id} not found`);
    return;
  }
  const badIgw = table.routes.find(
    (r) => r.target?.type === 'internetGateway' && idx.invalid('internetGateway', r.target.id),
  );
  if (badIgw !== undefined) {
    b.hold(owner, path, `internet gateway ${badIgw.gatewayId ?? ''} invalid`);
    return;
  }
  const seen = new Set<string>();
  for (const route of table.routes) {
    const target = route.target;
    if (target === undefined || target.type === 'local') continue;
    const dst = route.destinationCidr === undefined ? undefined : parseCidr(route.destinationCidr);
    const rpath = `vpc/${v.vpc.id}/routeTable/${table.id}/${route.destinationCidr ?? ''}`;
    if (dst === undefined) {
      b.warn(
        'mapping.bad-route',
        rpath,
        `route destination ${route.destinationCidr ?? ''} malformed`,
      );
      continue;
    }
    const via = resolveTarget(b, idx, v.vpc, v.routerName, target, rpath);
    if (via === undefined) continue;
    const port = via.port ?? v.uplinkId;
    const src = formatIp(s.cidr.addr);
    const dstText = formatIp(dst.addr);
    const key = `route:${v.routerName}:${src}/${s.cidr.len}:${dstText}/${dst.len}:${via.role}`;
    // the same route listed twice is one route (merged silently, as eucanetd does)
    if (seen.has(key)) continue;
    seen.add(key);
    b.put('route', {
      id: b.id(key),
      owner,
      routerId: v.routerId,
      type: 'Normal',
      srcNetworkAddr: src,
      srcNetworkLength: s.cidr.len,
      dstNetworkAddr: dstText,
      dstNetworkLength: dst.len,
      nextHopPort: port,
      nextHopGateway: via.gateway,
      weight: via.weight,
      version: 0,
    });
  }
}

interface Via {
  readonly role: string;
  /** Absent: the VPC uplink. */
  readonly port?: string;
  readonly gateway: string;
  readonly weight: number;
}

function resolveTarget(
  b: TopologyBuilder,
  idx: ViewIndex,
  vpc: Vpc,
  routerName: string,
  target: NonNullable<RouteTable['routes'][number]['target']>,
  path: string,
): Via | undefined {
  switch (target.type) {
    case 'internetGateway':
      if (!vpc.internetGateways.includes(target.id)) {
        b.warn('mapping.bad-route-target', path, `Invalid igw route target ${target.id}`);
        return undefined;
      }
      return { role: `igw:${target.id}`, gateway: formatIp(PLAN.intRtNet + 1), weight: 10 };
    case 'natGateway': {
      const nat = vpc.natGateways.find((n) => n.id === target.id);
      if (nat === undefined || nat.subnet === undefined || nat.privateIp === undefined) {
        b.warn('mapping.bad-route-target', path, `Invalid nat gateway route target ${target.id}`);
        return undefined;
      }
      const port = b.id(`port:${routerName}:sub:${nat.subnet}`);
      return { role: `nat:${nat.id}`, port, gateway: nat.privateIp, weight: 20 };
    }
    case 'networkInterface': {
      const e = idx.eniById.get(target.id);
      if (
        e === undefined ||
        e.vpcId !== vpc.id ||
        e.privateIp === undefined ||
        e.subnetId === undefined
      ) {
        b.warn('mapping.bad-route-target', path, `Invalid eni route target ${target.id}`);
        return undefined;
      }
      const port = b.id(`port:${routerName}:sub:${e.subnetId}`);
      return { role: `eni:${target.id}`, port, gateway: formatIp(e.privateIp), weight: 30 };
    }
    case 'unsupported':
      b.warn(
        'mapping.unsupported-route-target',
        path,
        `Invalid or unsupported route target ${target.id}`,
      );
      return undefined;
    case 'local':
      return undefined;
  }
}
