/**
 * Seeded edits of a generated view's VPCs, as a cloud makes them between two GNI documents:
 * routes added and removed, NAT gateways, subnets, route-table associations, network ACL
 * entries, internet gateways attached and detached, VPCs added and removed, DHCP option sets.
 * Every edit keeps the unchanged entities (contract C1): only the edited VPC (or option set)
 * is a new object. Used by the change propagation tests (src/mapping/propagate*.test.ts).
 */
import type { AclEntry, DhcpOptionSet, GlobalView, Route, Vpc } from '../../src/gni/index.js';
import { EDITS, pick, type Edit } from './view-edits.js';

let counter = 0;

/** A new number for ids and addresses (unique within the process). */
function fresh(): number {
  return ++counter;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

function replaceAt<T>(xs: readonly T[], i: number, x: T): T[] {
  return xs.map((y, j) => (j === i ? x : y));
}

/** Edits one VPC (picked among those `ok` accepts); the view unchanged when none is. */
function onVpc(f: (x: Vpc, v: GlobalView, r: () => number) => Vpc, ok = (_: Vpc) => true): Edit {
  return (v, r) => {
    const candidates = v.vpcs.filter(ok);
    if (candidates.length === 0) return v;
    const x = pick(candidates, r);
    const i = v.vpcs.indexOf(x);
    return { ...v, vpcs: replaceAt(v.vpcs, i, f(x, v, r)) };
  };
}

/** `x` with `route` added to its route table `k` (the first by default). */
function withRoute(x: Vpc, route: Route, k = 0): Vpc {
  if (x.routeTables.length === 0) return x;
  return {
    ...x,
    routeTables: x.routeTables.map((t, j) =>
      j === k ? { ...t, routes: [...t.routes, route] } : t,
    ),
  };
}

/** The id a route targets (none for a local route). */
function targetId(rt: Route): string | undefined {
  const t = rt.target;
  return t === undefined || t.type === 'local' ? undefined : t.id;
}

/** The first two octets of a VPC's CIDR. */
function prefixOf(x: Vpc): string {
  return (x.cidr ?? '10.0.0.0/16').split('/')[0]!.split('.').slice(0, 2).join('.');
}

/** `d` with its property `name` set to `values` (the document is written from properties). */
function withOption(d: DhcpOptionSet, name: string, values: string[]): DhcpOptionSet {
  const rest = d.properties.filter((p) => p.name !== name);
  return { ...d, properties: [...rest, { name, values }] };
}

function aclEntry(number: number, r: () => number): AclEntry {
  const port = 1000 + Math.floor(r() * 9000);
  return {
    number,
    protocol: 6,
    action: r() < 0.7 ? 'allow' : 'deny',
    cidr: `10.${Math.floor(r() * 250)}.0.0/16`,
    portRangeFrom: port,
    portRangeTo: port + 10,
  };
}

export const VPC_EDITS: Record<string, Edit> = {
  'route to an internet gateway': onVpc(
    (x) =>
      withRoute(x, {
        destinationCidr: `172.23.${fresh() % 250}.0/24`,
        gatewayId: x.internetGateways[0]!,
        target: { type: 'internetGateway', id: x.internetGateways[0]! },
      }),
    (x) => x.internetGateways.length > 0,
  ),
  'route to a NAT gateway': onVpc(
    (x) =>
      withRoute(x, {
        destinationCidr: `172.21.${fresh() % 250}.0/24`,
        natGatewayId: x.natGateways[0]!.id,
        target: { type: 'natGateway', id: x.natGateways[0]!.id },
      }),
    (x) => x.natGateways.length > 0,
  ),
  'route to an interface of this VPC': (v, r) =>
    onVpc((x) => {
      const e = v.instances.find((i) => i.vpc === x.id)?.networkInterfaces[0];
      if (e === undefined) return x;
      return withRoute(x, {
        destinationCidr: `172.22.${Math.floor(r() * 250)}.0/24`,
        networkInterfaceId: e.id,
        target: { type: 'networkInterface', id: e.id },
      });
    })(v, r),
  'remove a route': onVpc(
    (x, _v, r) => {
      const k = x.routeTables.findIndex((t) => t.routes.some((rt) => rt.target?.type !== 'local'));
      const t = x.routeTables[k]!;
      const rs = t.routes.filter((rt) => rt.target?.type !== 'local');
      const gone = pick(rs, r);
      const table = { ...t, routes: t.routes.filter((rt) => rt !== gone) };
      return { ...x, routeTables: replaceAt(x.routeTables, k, table) };
    },
    (x) => x.routeTables.some((t) => t.routes.some((rt) => rt.target?.type !== 'local')),
  ),
  'add a NAT gateway': onVpc(
    (x, _v, r) => {
      const n = fresh();
      const s = x.subnets[0]!;
      const base = (s.cidr ?? '10.0.0.0/24').split('/')[0]!.split('.').slice(0, 3).join('.');
      const id = `nat-a${hex(n, 7)}`;
      const added = {
        ...x,
        natGateways: [
          ...x.natGateways,
          {
            id,
            ...(x.ownerId === undefined ? {} : { ownerId: x.ownerId }),
            macAddress: `d0:0d:aa:00:${hex((n >> 8) & 255, 2)}:${hex(n & 255, 2)}`,
            publicIp: `203.0.113.${(n % 250) + 1}`,
            privateIp: `${base}.${240 + (n % 10)}`,
            vpc: x.id,
            subnet: s.id,
          },
        ],
      };
      // usually with a route to it
      if (r() < 0.3) return added;
      const k = Math.floor(r() * x.routeTables.length);
      return withRoute(
        added,
        {
          destinationCidr: `172.24.${n % 250}.0/24`,
          natGatewayId: id,
          target: { type: 'natGateway', id },
        },
        k,
      );
    },
    (x) => x.subnets.length > 0,
  ),
  'remove a NAT gateway': onVpc(
    (x, _v, r) => {
      const gone = pick(x.natGateways, r);
      const rest = { ...x, natGateways: x.natGateways.filter((n) => n !== gone) };
      // usually with the routes to it
      if (r() < 0.3) return rest;
      return {
        ...rest,
        routeTables: x.routeTables.map((t) => ({
          ...t,
          routes: t.routes.filter((rt) => targetId(rt) !== gone.id),
        })),
      };
    },
    (x) => x.natGateways.length > 0,
  ),
  'add a subnet': onVpc(
    (x) => {
      const n = fresh();
      return {
        ...x,
        subnets: [
          ...x.subnets,
          {
            ...x.subnets[0]!,
            id: `subnet-a${hex(n, 7)}`,
            cidr: `${prefixOf(x)}.${200 + (n % 50)}.0/24`,
          },
        ],
      };
    },
    (x) => x.subnets.length > 0 && x.cidr !== undefined,
  ),
  'remove a subnet': onVpc(
    (x, _v, r) => {
      const gone = pick(x.subnets, r);
      return { ...x, subnets: x.subnets.filter((s) => s !== gone) };
    },
    (x) => x.subnets.length > 1,
  ),
  'remove a subnet no interface is in': (v, r) => {
    const used = new Set<string>();
    for (const i of v.instances) {
      if (i.subnet !== undefined) used.add(i.subnet);
      for (const e of i.networkInterfaces) if (e.subnet !== undefined) used.add(e.subnet);
    }
    const nats = (x: Vpc): Set<string> => new Set(x.natGateways.map((n) => n.subnet ?? ''));
    return onVpc(
      (x) => {
        const gone = x.subnets.find((s) => !used.has(s.id) && !nats(x).has(s.id))!;
        return { ...x, subnets: x.subnets.filter((s) => s !== gone) };
      },
      (x) => x.subnets.some((s) => !used.has(s.id) && !nats(x).has(s.id)),
    )(v, r);
  },
  'change the route table of a subnet': onVpc(
    (x, _v, r) => {
      const k = Math.floor(r() * x.subnets.length);
      const s = x.subnets[k]!;
      const others = x.routeTables.filter((t) => t.id !== s.routeTable);
      const to = others.length === 0 || r() < 0.1 ? 'rtb-missing' : pick(others, r).id;
      return { ...x, subnets: replaceAt(x.subnets, k, { ...s, routeTable: to }) };
    },
    (x) => x.subnets.length > 0,
  ),
  'change a subnet CIDR': onVpc(
    (x, _v, r) => {
      const k = Math.floor(r() * x.subnets.length);
      const cidr = `${prefixOf(x)}.${150 + (fresh() % 40)}.0/24`;
      return { ...x, subnets: replaceAt(x.subnets, k, { ...x.subnets[k]!, cidr }) };
    },
    (x) => x.subnets.length > 0,
  ),
  'change a VPC CIDR': onVpc((x) => ({ ...x, cidr: `${prefixOf(x)}.0.0/15` })),
  'add a network ACL entry': onVpc(
    (x, _v, r) => {
      const k = Math.floor(r() * x.networkAcls.length);
      const a = x.networkAcls[k]!;
      const e = aclEntry(50 + (fresh() % 40), r);
      const acl =
        r() < 0.5
          ? { ...a, ingressEntries: [...a.ingressEntries, e] }
          : { ...a, egressEntries: [...a.egressEntries, e] };
      return { ...x, networkAcls: replaceAt(x.networkAcls, k, acl) };
    },
    (x) => x.networkAcls.length > 0,
  ),
  'remove a network ACL entry': onVpc(
    (x, _v, r) => {
      const k = x.networkAcls.findIndex((a) => a.ingressEntries.length > 0);
      const a = x.networkAcls[k]!;
      const gone = pick(a.ingressEntries, r);
      const acl = { ...a, ingressEntries: a.ingressEntries.filter((e) => e !== gone) };
      return { ...x, networkAcls: replaceAt(x.networkAcls, k, acl) };
    },
    (x) => x.networkAcls.some((a) => a.ingressEntries.length > 0),
  ),
  'change a network ACL entry': onVpc(
    (x, _v, r) => {
      const k = x.networkAcls.findIndex((a) => a.egressEntries.length > 0);
      const a = x.networkAcls[k]!;
      const j = Math.floor(r() * a.egressEntries.length);
      const e = { ...aclEntry(a.egressEntries[j]!.number, r) };
      const acl = { ...a, egressEntries: replaceAt(a.egressEntries, j, e) };
      return { ...x, networkAcls: replaceAt(x.networkAcls, k, acl) };
    },
    (x) => x.networkAcls.some((a) => a.egressEntries.length > 0),
  ),
  'attach an internet gateway': (v, r) => {
    const id = `igw-a${hex(fresh(), 7)}`;
    const attached = onVpc((x) =>
      withRoute(
        { ...x, internetGateways: [...x.internetGateways, id] },
        {
          destinationCidr: `172.25.${counter % 250}.0/24`,
          gatewayId: id,
          target: { type: 'internetGateway', id },
        },
      ),
    )(v, r);
    return { ...attached, internetGateways: [...v.internetGateways, { id }] };
  },
  'detach an internet gateway': onVpc(
    (x, _v, r) => {
      const gone = pick(x.internetGateways, r);
      const rest = { ...x, internetGateways: x.internetGateways.filter((g) => g !== gone) };
      // the routes to it usually go with it (a route left names an igw not attached: a warning)
      if (r() < 0.2) return rest;
      return {
        ...rest,
        routeTables: x.routeTables.map((t) => ({
          ...t,
          routes: t.routes.filter((rt) => targetId(rt) !== gone),
        })),
      };
    },
    (x) => x.internetGateways.length > 0,
  ),
  'add a VPC': (v, r) => {
    const src = pick(v.vpcs, r);
    const n = fresh();
    const re = (id: string): string => `${id}-c${n}`;
    const vpc: Vpc = {
      ...src,
      id: re(src.id),
      cidr: `172.${16 + (n % 15)}.0.0/16`,
      subnets: src.subnets.map((s, k) => ({
        ...s,
        id: re(s.id),
        cidr: `172.${16 + (n % 15)}.${k}.0/24`,
        ...(s.networkAcl === undefined ? {} : { networkAcl: re(s.networkAcl) }),
        ...(s.routeTable === undefined ? {} : { routeTable: re(s.routeTable) }),
      })),
      networkAcls: src.networkAcls.map((a) => ({ ...a, id: re(a.id) })),
      routeTables: src.routeTables.map((t) => ({ ...t, id: re(t.id), routes: [] })),
      natGateways: [],
    };
    // somewhere in the list (a cloud lists VPCs sorted by id)
    const at = Math.floor(r() * (v.vpcs.length + 1));
    return { ...v, vpcs: [...v.vpcs.slice(0, at), vpc, ...v.vpcs.slice(at)] };
  },
  'remove a VPC': EDITS['remove a VPC']!,
  'change a DHCP option set': (v, r) => {
    if (v.dhcpOptionSets.length === 0) return v;
    const k = Math.floor(r() * v.dhcpOptionSets.length);
    const d = v.dhcpOptionSets[k]!;
    const dns = [`10.20.0.${Math.floor(r() * 200) + 2}`];
    const changed =
      r() < 0.5
        ? withOption({ ...d, domainNameServers: dns }, 'domain-name-servers', dns)
        : withOption({ ...d, domainName: [`d${fresh()}.example.internal`] }, 'domain-name', [
            `d${counter}.example.internal`,
          ]);
    return { ...v, dhcpOptionSets: replaceAt(v.dhcpOptionSets, k, changed) };
  },
  'add a DHCP option set': (v) => {
    const id = `dopt-a${hex(fresh(), 7)}`;
    const d: DhcpOptionSet = {
      id,
      properties: [
        { name: 'domain-name', values: [`${id}.internal`] },
        { name: 'domain-name-servers', values: ['10.30.0.2'] },
      ],
      domainName: [`${id}.internal`],
      domainNameServers: ['10.30.0.2'],
      ntpServers: [],
      netbiosNameServers: [],
    };
    return { ...v, dhcpOptionSets: [...v.dhcpOptionSets, d] };
  },
  'change the DHCP option set of a VPC': (v, r) =>
    onVpc((x) => {
      const to = r() < 0.2 ? undefined : pick(v.dhcpOptionSets, r)?.id;
      const { dhcpOptionSet: _old, ...rest } = x;
      return to === undefined ? rest : { ...rest, dhcpOptionSet: to };
    })(v, r),
};

/** The VPC edits whose documents read back clean (no reference to anything missing, nothing
 * the reader marks invalid), for chains of documents read with `readGniWithState`. */
export const CLEAN_VPC_EDITS = [
  'route to an internet gateway',
  'route to a NAT gateway',
  'route to an interface of this VPC',
  'remove a route',
  'add a NAT gateway',
  'add a subnet',
  'remove a subnet no interface is in',
  'add a network ACL entry',
  'remove a network ACL entry',
  'change a network ACL entry',
  'change a DHCP option set',
  'add a DHCP option set',
  'change the DHCP option set of a VPC',
];
