import { derivedId } from '../../src/common/index.js';
import type { GlobalView, Vpc } from '../../src/gni/index.js';
import type { Kind } from '../../src/store/index.js';
import {
  DEFAULT_MAPPING_CONFIG,
  emptyAllocations,
  mapTopology,
  SLOT_FIELDS,
  type DesiredTopology,
  type MappingConfig,
  type MappingResult,
} from '../../src/mapping/index.js';
import {
  defaultAcl,
  igwRoute,
  instance,
  makeView,
  natGateway,
  routeTable,
  securityGroup,
  subnet,
  vpc,
} from './view-builder.js';

export const V = 'vpc-11111111';
export const S1 = 'subnet-11111111';
export const S2 = 'subnet-22222222';
export const NAT = 'nat-0a1b2c3d4e5f60718';
export const SG1 = 'sg-11111111';
export const SG2 = 'sg-22222222';

export function testVpc(over: Partial<Vpc> = {}): Vpc {
  return vpc(V, '10.1.0.0/16', {
    subnets: [
      subnet(S1, '10.1.1.0/24', 'acl-11111111', 'rtb-11111111'),
      subnet(S2, '10.1.2.0/24', 'acl-11111111', 'rtb-22222222'),
    ],
    networkAcls: [defaultAcl('acl-11111111')],
    routeTables: [
      routeTable('rtb-11111111', '10.1.0.0/16', [igwRoute('0.0.0.0/0', 'igw-11111111')]),
      routeTable('rtb-22222222', '10.1.0.0/16', [
        {
          destinationCidr: '0.0.0.0/0',
          natGatewayId: NAT,
          target: { type: 'natGateway', id: NAT },
        },
        {
          destinationCidr: '192.168.0.0/16',
          networkInterfaceId: 'eni-00000002',
          target: { type: 'networkInterface', id: 'eni-00000002' },
        },
        {
          destinationCidr: '172.16.0.0/12',
          gatewayId: 'pcx-1234',
          target: { type: 'unsupported', id: 'pcx-1234' },
        },
      ]),
    ],
    natGateways: [natGateway(NAT, V, S1, '10.1.1.250', '198.51.100.50')],
    internetGateways: ['igw-11111111'],
    ...over,
  });
}

export function testView(
  over: { vpc?: Partial<Vpc>; invalid?: string[]; sg1?: Parameters<typeof securityGroup>[1] } = {},
): GlobalView {
  return makeView({
    vpcs: [testVpc(over.vpc)],
    instances: [
      instance('i-00000001', '10.30.0.1', [
        {
          id: 'eni-00000001',
          vpc: V,
          subnet: S1,
          privateIp: '10.1.1.10',
          publicIp: '198.51.100.17',
          securityGroups: [SG1],
        },
        {
          id: 'eni-00000002',
          vpc: V,
          subnet: S1,
          privateIp: '10.1.1.11',
          securityGroups: [SG1, SG2],
          sourceDestCheck: false,
        },
      ]),
      instance('i-00000002', '10.30.0.2', [
        { id: 'eni-00000003', vpc: V, subnet: S2, privateIp: '10.1.2.10', securityGroups: [SG2] },
      ]),
    ],
    securityGroups: [
      securityGroup(
        SG1,
        over.sg1 ?? [{ protocol: 6, fromPort: 22, toPort: 22, cidr: '203.0.113.0/24' }],
      ),
      securityGroup(SG2, [
        { protocol: 6, fromPort: 5432, toPort: 5432, groupId: SG1 },
        { protocol: 1, icmpType: 8, icmpCode: -1, cidr: '0.0.0.0/0' },
        { protocol: 47, cidr: '10.0.0.0/8' },
        { protocol: -1, groupId: 'sg-99999999' },
      ]),
    ],
    invalid: over.invalid ?? [],
  });
}

export function run(view: GlobalView, config: Partial<MappingConfig> = {}): MappingResult {
  return mapTopology(view, emptyAllocations(), { ...DEFAULT_MAPPING_CONFIG, ...config });
}

export const byName = <T extends { name?: string }>(m: ReadonlyMap<string, T>, name: string): T => {
  for (const o of m.values()) if (o.name === name) return o;
  throw new Error(`no object named ${name}`);
};
export const id = (key: string): string => derivedId(key);

export function rulesOf(d: DesiredTopology, chain: string): Record<string, unknown>[] {
  const c = byName(d.chain, chain);
  return (c.ruleIds ?? []).map((r) => {
    const rule = d.rule.get(r);
    if (rule === undefined) throw new Error(`rule ${r} of ${chain} missing`);
    const { id: _i, chainId: _c, owner: _o, ...rest } = rule;
    return withoutSlots('rule', rest);
  });
}

/** A desired object's fields without the store's slots (`version`, back-references: see
 * src/mapping/slots.ts), which mean nothing to the mapping. */
export function withoutSlots(kind: Kind, o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!SLOT_FIELDS[kind].has(k)) out[k] = v;
  return out;
}
