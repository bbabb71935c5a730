/**
 * Building `GlobalView`s directly in tests (no parser): small entity factories with sensible
 * defaults, `makeView` to assemble them, and `syntheticView` for large deterministic views.
 */
import type {
  AclEntry,
  DhcpOptionSet,
  GlobalView,
  Instance,
  NatGateway,
  NetworkAcl,
  NetworkInterface,
  Route,
  RouteTable,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
} from '../../src/gni/index.js';

/** Allow-all ingress/egress (rule 100) and the final deny (32767), as a default ACL has. */
export function defaultAcl(id: string): NetworkAcl {
  const entries: AclEntry[] = [
    { number: 100, protocol: -1, action: 'allow', cidr: '0.0.0.0/0' },
    { number: 32767, protocol: -1, action: 'deny', cidr: '0.0.0.0/0' },
  ];
  return { id, ownerId: '000123456789', ingressEntries: entries, egressEntries: entries };
}

/** A route table with a local route plus the given routes. */
export function routeTable(id: string, vpcCidr: string, routes: readonly Route[] = []): RouteTable {
  return {
    id,
    ownerId: '000123456789',
    routes: [
      { destinationCidr: vpcCidr, gatewayId: 'local', target: { type: 'local' } },
      ...routes,
    ],
  };
}

/** A route to an internet gateway. */
export function igwRoute(dst: string, igw: string): Route {
  return { destinationCidr: dst, gatewayId: igw, target: { type: 'internetGateway', id: igw } };
}

/** A subnet using `acl` and `rtb`. */
export function subnet(
  id: string,
  cidr: string,
  acl: string,
  rtb: string,
  over: Partial<Subnet> = {},
): Subnet {
  return {
    id,
    ownerId: '000123456789',
    cidr,
    cluster: 'az1',
    networkAcl: acl,
    routeTable: rtb,
    ...over,
  };
}

/** A VPC. */
export function vpc(id: string, cidr: string, over: Partial<Vpc> = {}): Vpc {
  return {
    id,
    ownerId: '000123456789',
    cidr,
    subnets: [],
    networkAcls: [],
    routeTables: [],
    natGateways: [],
    internetGateways: [],
    ...over,
  };
}

/** A NAT gateway. */
export function natGateway(
  id: string,
  vpcId: string,
  subnetId: string,
  privateIp: string,
  publicIp?: string,
): NatGateway {
  return {
    id,
    ownerId: '000123456789',
    macAddress: 'd0:0d:aa:bb:cc:dd',
    privateIp,
    vpc: vpcId,
    subnet: subnetId,
    ...(publicIp === undefined ? {} : { publicIp }),
  };
}

/** MAC from an ENI id as the CLC derives it (gni-format §2.2). */
export function macOf(eniId: string): string {
  const hex = eniId.slice(eniId.indexOf('-') + 1, eniId.indexOf('-') + 9);
  return `d0:0d:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`;
}

/** One interface description for `instance`. */
export interface IfaceSpec {
  readonly id: string;
  readonly vpc: string;
  readonly subnet: string;
  readonly privateIp: string;
  readonly publicIp?: string;
  readonly securityGroups: readonly string[];
  readonly sourceDestCheck?: boolean;
  readonly macAddress?: string;
}

/** An instance whose first interface is primary (deviceIndex 0). */
export function instance(
  id: string,
  node: string | undefined,
  ifaces: readonly IfaceSpec[],
): Instance {
  const nis: NetworkInterface[] = ifaces.map((f, i) => ({
    id: f.id,
    ownerId: '000123456789',
    deviceIndex: i,
    macAddress: f.macAddress ?? macOf(f.id),
    privateIp: f.privateIp,
    ...(f.publicIp === undefined ? {} : { publicIp: f.publicIp }),
    sourceDestCheck: f.sourceDestCheck ?? true,
    vpc: f.vpc,
    subnet: f.subnet,
    securityGroups: f.securityGroups,
  }));
  const p = ifaces[0]!;
  return {
    id,
    ownerId: '000123456789',
    macAddress: nis[0]!.macAddress!,
    privateIp: p.privateIp,
    ...(p.publicIp === undefined ? {} : { publicIp: p.publicIp }),
    vpc: p.vpc,
    subnet: p.subnet,
    networkInterfaces: nis,
    securityGroups: p.securityGroups,
    ...(node === undefined ? {} : { node, cluster: 'az1' }),
  };
}

/** A security group. */
export function securityGroup(
  id: string,
  ingressRules: readonly SecurityGroupRule[],
  egressRules: readonly SecurityGroupRule[] = [{ protocol: -1, cidr: '0.0.0.0/0' }],
): SecurityGroup {
  return { id, ownerId: '000123456789', ingressRules, egressRules };
}

/** Parts of a view; everything optional. */
export interface ViewParts {
  readonly vpcs?: readonly Vpc[];
  readonly instances?: readonly Instance[];
  readonly securityGroups?: readonly SecurityGroup[];
  readonly dhcpOptionSets?: readonly DhcpOptionSet[];
  readonly invalid?: Iterable<string>;
  readonly nodes?: readonly string[];
  readonly gateways?: NonNullable<GlobalView['configuration']['mido']>['gateways'];
  readonly bgpAsn?: number;
}

/** Assembles a view with one cluster `az1` whose nodes run the instances. */
export function makeView(parts: ViewParts): GlobalView {
  const instances = parts.instances ?? [];
  const byNode = new Map<string, string[]>();
  for (const n of parts.nodes ?? []) byNode.set(n, []);
  for (const i of instances) {
    if (i.node === undefined) continue;
    const list = byNode.get(i.node) ?? [];
    list.push(i.id);
    byNode.set(i.node, list);
  }
  return {
    version: '1',
    configuration: {
      mode: 'VPCMIDO',
      publicIps: [],
      enabledCLCIp: '10.20.0.10',
      instanceDNSDomain: 'eucalyptus.internal',
      instanceDNSServers: ['10.20.0.2'],
      mido: {
        gateways: parts.gateways ?? [
          {
            host: '10.20.0.21',
            externalCidr: '198.51.100.0/24',
            externalDevice: 'eth1',
            externalIp: '198.51.100.2',
            externalRouterIp: '198.51.100.1',
            bgpAdRoutes: [],
          },
        ],
        ...(parts.bgpAsn === undefined ? {} : { bgpAsn: parts.bgpAsn }),
      },
      clusters: [
        {
          name: 'az1',
          privateIps: [],
          nodes: [...byNode].map(([name, instanceIds]) => ({ name, instanceIds })),
        },
      ],
    },
    vpcs: parts.vpcs ?? [],
    instances,
    dhcpOptionSets: parts.dhcpOptionSets ?? [],
    internetGateways: [],
    securityGroups: parts.securityGroups ?? [],
    invalid: new Set(parts.invalid ?? []),
  };
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * A large deterministic view: `vpcs` VPCs with 4 subnets each, `instances` instances spread
 * evenly (one interface each, every third with a public IP, every tenth with a secondary
 * interface), two SGs per VPC (one referencing the other), a NAT gateway in every fourth VPC.
 */
export function syntheticView(opts: {
  readonly vpcs: number;
  readonly instances: number;
}): GlobalView {
  const vpcs: Vpc[] = [];
  const sgs: SecurityGroup[] = [];
  const instances: Instance[] = [];
  for (let v = 0; v < opts.vpcs; v++) {
    const id = `vpc-${hex8(v + 1)}`;
    const cidr = `10.${v % 250}.0.0/16`;
    const acl = `acl-${hex8(v + 1)}`;
    const rtb = `rtb-${hex8(v + 1)}`;
    const igw = `igw-${hex8(v + 1)}`;
    const subnets = [0, 1, 2, 3].map((s) =>
      subnet(`subnet-${hex8(v * 4 + s + 1)}`, `10.${v % 250}.${s}.0/24`, acl, rtb),
    );
    const nats =
      v % 4 === 0
        ? [
            natGateway(
              `nat-${hex8(v + 1)}0000000aa`,
              id,
              subnets[0]!.id,
              `10.${v % 250}.0.250`,
              `203.0.${v % 256}.1`,
            ),
          ]
        : [];
    const routes = [igwRoute('0.0.0.0/0', igw)];
    vpcs.push(
      vpc(id, cidr, {
        subnets,
        networkAcls: [defaultAcl(acl)],
        routeTables: [routeTable(rtb, cidr, routes)],
        natGateways: nats,
        internetGateways: [igw],
      }),
    );
    const web = `sg-${hex8(v * 2 + 1)}`;
    const db = `sg-${hex8(v * 2 + 2)}`;
    sgs.push(
      securityGroup(web, [
        { protocol: 6, fromPort: 22, toPort: 22, cidr: '203.0.113.0/24' },
        { protocol: 6, fromPort: 443, toPort: 443, cidr: '0.0.0.0/0' },
        { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '0.0.0.0/0' },
      ]),
      securityGroup(db, [
        { protocol: 6, fromPort: 5432, toPort: 5432, groupId: web },
        { protocol: 6, fromPort: 5432, toPort: 5432, groupId: db },
      ]),
    );
  }
  for (let i = 0; i < opts.instances; i++) {
    const v = i % opts.vpcs;
    const k = Math.floor(i / opts.vpcs);
    const vp = vpcs[v]!;
    const sn = vp.subnets[k % 4]!;
    const host = 10 + Math.floor(k / 4);
    const ip = `10.${v % 250}.${k % 4}.${(host % 240) + 10}`;
    const sg = `sg-${hex8(v * 2 + 1 + (i % 2))}`;
    const ifaces: IfaceSpec[] = [
      {
        id: `eni-${hex8(i * 2 + 1)}`,
        vpc: vp.id,
        subnet: sn.id,
        privateIp: ip,
        securityGroups: [sg],
        ...(i % 3 === 0
          ? {
              publicIp: `198.${18 + Math.floor(i / 65536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
            }
          : {}),
      },
    ];
    if (i % 10 === 0) {
      ifaces.push({
        id: `eni-${hex8(i * 2 + 2)}`,
        vpc: vp.id,
        subnet: sn.id,
        privateIp: `10.${v % 250}.${k % 4}.${(host % 240) + 10}`.replace(
          /\.(\d+)$/,
          (_, d) => `.${Number(d) + 1}`,
        ),
        securityGroups: [sg],
        sourceDestCheck: false,
      });
    }
    instances.push(
      instance(`i-${hex8(i + 1)}`, `10.30.${Math.floor(i / 40) % 256}.${(i % 40) + 1}`, ifaces),
    );
  }
  return makeView({ vpcs, instances, securityGroups: sgs });
}
