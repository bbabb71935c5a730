/**
 * A seeded generator of realistic, valid GNI views for tests and benchmarks: VPCs of about
 * ten instances each, public and private subnets, NAT gateways with custom route tables,
 * network ACLs, security groups with CIDR, group and self references, elastic IPs from the
 * publicIps pool, secondary interfaces, nodes in two clusters and one or two gateways.
 * Same options and seed ⇒ the same view. Serialize with writeGniXml / writeGniJson.
 */
import type {
  AclEntry,
  Cluster,
  DhcpOptionSet,
  Gateway,
  GlobalView,
  Instance,
  InternetGateway,
  NatGateway,
  NetworkAcl,
  NetworkInterface,
  RouteTable,
  SecurityGroup,
  Subnet,
  Vpc,
} from '../../src/gni/index.js';

/** Named sizes (instances): S 100, M 1,000, L 10,000, XL 50,000. */
export const SIZES = { S: 100, M: 1000, L: 10_000, XL: 50_000 } as const;
export type Size = keyof typeof SIZES;

/** Options of `generateView`; `instances` overrides `size` (default S); seed defaults to 1. */
export interface GenerateOptions {
  readonly size?: Size;
  readonly instances?: number;
  readonly seed?: number;
  /**
   * The gateways: `'mixed'` (default) one with a static upstream router and, above 100
   * instances (or by chance), a second one peering with its own BGP router; `'shared-peer'`
   * two gateways on one external network, both peering with the same upstream BGP router (the
   * usual way to run two gateways).
   */
  readonly gateways?: 'mixed' | 'shared-peer';
}

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PUBLIC_POOL_START = (198 << 24) | (18 << 16); // 198.18.0.0/15, benchmarking range
const PUBLIC_POOL = '198.18.0.10-198.19.255.250';

function ipOf(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

class Gen {
  private readonly rand: () => number;
  private readonly used = new Set<string>();
  private nextPublic = PUBLIC_POOL_START + 10;

  constructor(seed: number) {
    this.rand = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  chance(p: number): boolean {
    return this.rand() < p;
  }

  /** A unique id `<prefix>-<8 or 17 hex>`. */
  id(prefix: string, long = false): string {
    for (;;) {
      let hex = '';
      for (let i = 0; i < (long ? 17 : 8); i++) hex += '0123456789abcdef'[this.int(16)];
      const id = `${prefix}-${hex}`;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }

  publicIp(): string {
    return ipOf(this.nextPublic++);
  }
}

function macOf(eniId: string): string {
  const hex = eniId.slice(eniId.indexOf('-') + 1, eniId.indexOf('-') + 9);
  return `d0:0d:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

const byId = <T extends { readonly id: string }>(a: T, b: T): number =>
  a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

function entries(custom: boolean): AclEntry[] {
  const deny: AclEntry = { number: 32767, protocol: -1, action: 'deny', cidr: '0.0.0.0/0' };
  if (!custom) return [{ number: 100, protocol: -1, action: 'allow', cidr: '0.0.0.0/0' }, deny];
  return [
    {
      number: 90,
      protocol: 6,
      action: 'deny',
      cidr: '192.0.2.0/24',
      portRangeFrom: 22,
      portRangeTo: 22,
    },
    {
      number: 100,
      protocol: 6,
      action: 'allow',
      cidr: '0.0.0.0/0',
      portRangeFrom: 0,
      portRangeTo: 65535,
    },
    { number: 110, protocol: 1, action: 'allow', cidr: '0.0.0.0/0', icmpCode: -1, icmpType: -1 },
    {
      number: 120,
      protocol: 17,
      action: 'allow',
      cidr: '10.0.0.0/8',
      portRangeFrom: 53,
      portRangeTo: 53,
    },
    deny,
  ];
}

interface VpcPlan {
  readonly vpc: Vpc;
  readonly subnets: readonly { readonly subnet: Subnet; readonly base: number; next: number }[];
  readonly groups: readonly string[];
}

/** Generates a valid view (zero errors when read back) for the given size and seed. */
export function generateView(options: GenerateOptions = {}): GlobalView {
  const total = options.instances ?? SIZES[options.size ?? 'S'];
  const g = new Gen(options.seed ?? 1);
  const accounts = Array.from({ length: 20 }, (_, i) =>
    String(100000000000 + i * 7919 + g.int(7000)).padStart(12, '0'),
  );
  const clusterNames = ['az1', 'az2'];
  const nodeCount = Math.max(2, Math.ceil(total / 25));
  const nodes = clusterNames.map(() => [] as { name: string; ids: string[] }[]);
  for (let i = 0; i < nodeCount; i++) {
    const c = i % 2;
    const k = Math.floor(i / 2) + 1;
    nodes[c]!.push({ name: `10.${21 + c}.${k >> 8}.${k & 255}`, ids: [] });
  }
  const dopts: DhcpOptionSet[] = [];
  for (let i = 0; i < Math.min(20, Math.max(1, Math.ceil(total / 100))); i++) {
    const domain = `tenant${i}.example.internal`;
    dopts.push({
      id: g.id('dopt'),
      ownerId: accounts[i % accounts.length]!,
      properties: [
        { name: 'domain-name', values: [domain] },
        { name: 'domain-name-servers', values: ['10.20.0.2', '10.20.0.3'] },
        ...(i % 3 === 0 ? [{ name: 'ntp-servers', values: ['10.20.0.5'] }] : []),
      ],
      domainName: [domain],
      domainNameServers: ['10.20.0.2', '10.20.0.3'],
      ntpServers: i % 3 === 0 ? ['10.20.0.5'] : [],
      netbiosNameServers: [],
    });
  }
  const vpcs: Vpc[] = [];
  const igws: InternetGateway[] = [];
  const groups: SecurityGroup[] = [];
  const instances: Instance[] = [];
  let made = 0;
  for (let k = 0; made < total; k++) {
    const count = Math.min(total - made, 5 + g.int(11));
    const plan = makeVpc(
      g,
      k,
      accounts[k % accounts.length]!,
      dopts[k % dopts.length]!.id,
      groups,
      igws,
    );
    makeInstances(g, plan, count, instances, nodes);
    vpcs.push(plan.vpc);
    made += count;
  }
  instances.sort(byId);
  const placement = new Map<string, { node: string; cluster: string }>();
  nodes.forEach((list, c) =>
    list.forEach((n) =>
      n.ids.forEach((id) => placement.set(id, { node: n.name, cluster: clusterNames[c]! })),
    ),
  );
  const placed = instances.map((i) => ({ ...i, ...placement.get(i.id)! }));
  const clusters: Cluster[] = clusterNames.map((name, c) => ({
    name,
    enabledCCIp: `10.20.0.${11 + c}`,
    macPrefix: 'd0:0d',
    privateIps: ['172.31.0.5'],
    nodes: nodes[c]!.map((n) => ({ name: n.name, instanceIds: n.ids.sort() })),
  }));
  const mixed = mixedGateways(g, total); // drawn either way: the rest stays the same
  const gateways = options.gateways === 'shared-peer' ? sharedPeerGateways() : mixed;
  const version = (g.int(0xffffffff) >>> 0).toString(16).padStart(8, '0');
  return {
    version,
    configuration: {
      mode: 'VPCMIDO',
      publicIps: [PUBLIC_POOL],
      enabledCLCIp: '10.20.0.10',
      instanceDNSDomain: 'eucalyptus.internal',
      instanceDNSServers: ['10.20.0.2'],
      mido: {
        gateways,
        eucanetdHost: '10.20.0.10',
        ...(gateways.length > 1 ? { bgpAsn: 64512 } : {}),
      },
      clusters,
    },
    vpcs: vpcs.sort(byId),
    instances: placed,
    dhcpOptionSets: dopts.sort(byId),
    internetGateways: igws.sort(byId),
    securityGroups: groups.sort(byId),
    invalid: new Set(),
  };
}

function mixedGateways(g: Gen, total: number): Gateway[] {
  const gateways: Gateway[] = [
    {
      host: '10.20.0.21',
      externalCidr: '192.0.2.0/28',
      externalDevice: 'eth1',
      externalIp: '192.0.2.2',
      externalRouterIp: '192.0.2.1',
      bgpAdRoutes: [],
    },
  ];
  if (total > 100 || g.chance(0.5)) {
    gateways.push({
      host: '10.20.0.22',
      externalCidr: '192.0.2.16/28',
      externalDevice: 'eth1.101',
      externalIp: '192.0.2.18',
      bgpPeerIp: '192.0.2.17',
      bgpPeerAsn: 65011,
      bgpAdRoutes: ['198.18.0.0/15'],
    });
  }
  return gateways;
}

/** Two gateways on 192.0.2.0/28 that both peer with the upstream router 192.0.2.1. */
function sharedPeerGateways(): Gateway[] {
  return ['10.20.0.21', '10.20.0.22'].map((host, i) => ({
    host,
    externalCidr: '192.0.2.0/28',
    externalDevice: 'eth1',
    externalIp: `192.0.2.${2 + i}`,
    bgpPeerIp: '192.0.2.1',
    bgpPeerAsn: 65011,
    bgpAdRoutes: ['198.18.0.0/15'],
  }));
}

function makeVpc(
  g: Gen,
  k: number,
  owner: string,
  dopt: string,
  groups: SecurityGroup[],
  igws: InternetGateway[],
): VpcPlan {
  const id = g.id('vpc', g.chance(0.05));
  const a = k % 256;
  const igw = g.id('igw');
  igws.push({ id: igw, ownerId: owner });
  const defaultAcl: NetworkAcl = {
    id: g.id('acl'),
    ownerId: owner,
    ingressEntries: entries(false),
    egressEntries: entries(false),
  };
  const customAcl: NetworkAcl | undefined = g.chance(0.3)
    ? {
        id: g.id('acl'),
        ownerId: owner,
        ingressEntries: entries(true),
        egressEntries: entries(false),
      }
    : undefined;
  const main: RouteTable = {
    id: g.id('rtb'),
    ownerId: owner,
    routes: [
      { destinationCidr: `10.${a}.0.0/16`, target: { type: 'local' }, gatewayId: 'local' },
      {
        destinationCidr: '0.0.0.0/0',
        target: { type: 'internetGateway', id: igw },
        gatewayId: igw,
      },
    ],
  };
  const subnetCount = 2 + g.int(3);
  const subnets: { subnet: Subnet; base: number; next: number }[] = [];
  const withNat = g.chance(0.3);
  const nats: NatGateway[] = [];
  const tables: RouteTable[] = [main];
  let privateTable: RouteTable | undefined;
  for (let j = 0; j < subnetCount; j++) {
    const base = (10 << 24) | (a << 16) | (j << 8);
    const subnetId = g.id('subnet', g.chance(0.05));
    let routeTable = main.id;
    if (j > 0 && withNat) {
      if (privateTable === undefined) {
        const natId = g.id('nat', true);
        const pub = subnets[0]!;
        nats.push({
          id: natId,
          ownerId: owner,
          macAddress: macOf(g.id('eni')),
          publicIp: g.publicIp(),
          privateIp: ipOf(pub.base + pub.next++),
          vpc: id,
          subnet: pub.subnet.id,
        });
        privateTable = {
          id: g.id('rtb'),
          ownerId: owner,
          routes: [
            { destinationCidr: `10.${a}.0.0/16`, target: { type: 'local' }, gatewayId: 'local' },
            {
              destinationCidr: '0.0.0.0/0',
              target: { type: 'natGateway', id: natId },
              natGatewayId: natId,
            },
          ],
        };
        tables.push(privateTable);
      }
      routeTable = privateTable.id;
    }
    const acl = customAcl !== undefined && j % 2 === 1 ? customAcl.id : defaultAcl.id;
    subnets.push({
      subnet: {
        id: subnetId,
        ownerId: owner,
        cidr: ipOf(base) + '/24',
        cluster: j % 2 === 0 ? 'az1' : 'az2',
        networkAcl: acl,
        routeTable,
      },
      base,
      next: 4,
    });
  }
  const vpcGroups = makeGroups(g, owner, a, groups);
  const vpc: Vpc = {
    id,
    ownerId: owner,
    cidr: `10.${a}.0.0/16`,
    dhcpOptionSet: dopt,
    subnets: subnets.map((s) => s.subnet).sort(byId),
    networkAcls: (customAcl ? [defaultAcl, customAcl] : [defaultAcl]).sort(byId),
    routeTables: tables,
    natGateways: nats,
    internetGateways: [igw],
  };
  return { vpc, subnets, groups: vpcGroups };
}

function makeGroups(g: Gen, owner: string, a: number, groups: SecurityGroup[]): string[] {
  const def = g.id('sg');
  const web = g.id('sg');
  const db = g.id('sg');
  const egress = [{ protocol: -1, cidr: '0.0.0.0/0' }];
  groups.push(
    {
      id: def,
      ownerId: owner,
      ingressRules: [{ protocol: -1, groupId: def, groupOwnerId: owner }],
      egressRules: egress,
    },
    {
      id: web,
      ownerId: owner,
      ingressRules: [
        { protocol: 6, fromPort: 22, toPort: 22, cidr: '203.0.113.0/24' },
        { protocol: 6, fromPort: 80, toPort: 80, cidr: '0.0.0.0/0' },
        { protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' },
        { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '0.0.0.0/0' },
      ],
      egressRules: egress,
    },
    {
      id: db,
      ownerId: owner,
      ingressRules: [
        { protocol: 6, fromPort: 5432, toPort: 5432, groupId: web, groupOwnerId: owner },
        { protocol: 6, fromPort: 5432, toPort: 5432, groupId: db, groupOwnerId: owner },
        { protocol: 17, fromPort: 514, toPort: 514, cidr: `10.${a}.0.0/16` },
      ],
      egressRules: egress,
    },
  );
  return [def, web, db];
}

function makeInstances(
  g: Gen,
  plan: VpcPlan,
  count: number,
  out: Instance[],
  nodes: { name: string; ids: string[] }[][],
): void {
  const vpc = plan.vpc;
  const eniTargets: string[] = [];
  for (let n = 0; n < count; n++) {
    const s = plan.subnets[g.int(plan.subnets.length)]!;
    const id = g.id('i', g.chance(0.05));
    const sgs = g.chance(0.5)
      ? [plan.groups[0]!, plan.groups[1 + g.int(2)]!]
      : [plan.groups[1 + g.int(2)]!];
    const eni = (sub: typeof s, deviceIndex: number, publicIp?: string): NetworkInterface => {
      const eniId = g.id('eni', g.chance(0.05));
      return {
        id: eniId,
        ownerId: vpc.ownerId!,
        deviceIndex,
        attachmentId: g.id('eni-attach'),
        macAddress: macOf(eniId),
        privateIp: ipOf(sub.base + sub.next++),
        ...(publicIp === undefined ? {} : { publicIp }),
        sourceDestCheck: true,
        vpc: vpc.id,
        subnet: sub.subnet.id,
        securityGroups: sgs,
      };
    };
    const primary = eni(s, 0, g.chance(0.3) ? g.publicIp() : undefined);
    const enis = [primary];
    if (g.chance(0.1)) {
      const other = plan.subnets.find((x) => x !== s && x.subnet.cluster === s.subnet.cluster) ?? s;
      enis.push(eni(other, 1));
    }
    eniTargets.push(primary.id);
    const cluster = s.subnet.cluster === 'az1' ? 0 : 1;
    nodes[cluster]![g.int(nodes[cluster]!.length)]!.ids.push(id);
    out.push({
      id,
      ownerId: vpc.ownerId!,
      macAddress: primary.macAddress!,
      ...(primary.publicIp === undefined ? {} : { publicIp: primary.publicIp }),
      privateIp: primary.privateIp!,
      vpc: vpc.id,
      subnet: s.subnet.id,
      networkInterfaces: enis.sort(byId),
      securityGroups: sgs,
    });
  }
  // A custom route to an appliance instance's interface in some VPCs.
  if (eniTargets.length > 0 && g.chance(0.2)) {
    const main = vpc.routeTables[0]!;
    const target = eniTargets[0]!;
    (main.routes as unknown[]).push({
      destinationCidr: '192.168.0.0/16',
      target: { type: 'networkInterface', id: target },
      networkInterfaceId: target,
    });
  }
  (vpc.routeTables as RouteTable[]).sort(byId);
}
