/**
 * The element schema of a GNI document, shared by the XML scanner and the JSON normalizer.
 * Both turn their input into the same "plain" form (the JSON form of spec §15, with every
 * scalar as a string and every list as an array), so one builder makes the GlobalView and
 * the same document gives the same view whatever its syntax.
 */

/** How a child element (or JSON key) of an object is read. */
export type ChildSpec =
  /** A leaf with text: `obj[key] = text` (a repeated leaf: the last one wins). */
  | { readonly k: 'scalar' }
  /** A repeated leaf collected into `obj[key]: string[]` (the `value` of a property). */
  | { readonly k: 'scalarList' }
  /** One nested object: `obj[key] = {…}`. */
  | { readonly k: 'obj'; readonly schema: ObjSchema }
  /** A repeated nested object collected into `obj[key]: {…}[]` (`property`, `cluster`, …). */
  | { readonly k: 'objList'; readonly schema: ObjSchema }
  /** A wrapper whose `item` children become `obj[key]: {…}[]` (`subnets/subnet`, …). */
  | { readonly k: 'wrapper'; readonly item: string; readonly schema: ObjSchema }
  /** A wrapper of `value` leaves: `obj[key]: string[]` (`securityGroups/value`, …). */
  | { readonly k: 'values' }
  /** A known element that is read past in silence (the legacy `rules` list of 4.1). */
  | { readonly k: 'ignore' };

/** An object element: its known attributes and children. */
export interface ObjSchema {
  readonly attrs: ReadonlySet<string>;
  readonly children: ReadonlyMap<string, ChildSpec>;
}

const SCALAR: ChildSpec = { k: 'scalar' };
const VALUES: ChildSpec = { k: 'values' };

function obj(
  attrs: readonly string[],
  scalars: readonly string[],
  more: [string, ChildSpec][] = [],
): ObjSchema {
  const children = new Map<string, ChildSpec>();
  for (const s of scalars) children.set(s, SCALAR);
  for (const [name, spec] of more) children.set(name, spec);
  return { attrs: new Set(attrs), children };
}

/** `<property name>` with values, or one of the structured property variants (§15.1 rule 6). */
const propertyChildren = new Map<string, ChildSpec>();
export const PROPERTY: ObjSchema = { attrs: new Set(['name']), children: propertyChildren };
const NAMED_PROPERTY_SET = obj(['name'], [], [['property', { k: 'objList', schema: PROPERTY }]]);
const GATEWAY = obj([], [], [['property', { k: 'objList', schema: PROPERTY }]]);
const NODE = obj(['name'], [], [['instanceIds', VALUES]]);
const CLUSTER = obj(
  ['name'],
  [],
  [
    ['subnet', { k: 'obj', schema: NAMED_PROPERTY_SET }],
    ['property', { k: 'objList', schema: PROPERTY }],
  ],
);
propertyChildren.set('value', { k: 'scalarList' });
propertyChildren.set('property', { k: 'objList', schema: PROPERTY });
propertyChildren.set('gateway', { k: 'objList', schema: GATEWAY });
propertyChildren.set('cluster', { k: 'objList', schema: CLUSTER });
propertyChildren.set('node', { k: 'objList', schema: NODE });
propertyChildren.set('subnet', { k: 'objList', schema: NAMED_PROPERTY_SET });
propertyChildren.set('managedSubnet', { k: 'obj', schema: NAMED_PROPERTY_SET });

const CONFIGURATION = obj([], [], [['property', { k: 'objList', schema: PROPERTY }]]);

const SUBNET = obj(['name'], ['ownerId', 'cidr', 'cluster', 'networkAcl', 'routeTable']);
const ENTRY = obj(
  ['number'],
  ['protocol', 'action', 'cidr', 'icmpCode', 'icmpType', 'portRangeFrom', 'portRangeTo'],
);
const NETWORK_ACL = obj(
  ['name'],
  ['ownerId'],
  [
    ['ingressEntries', { k: 'wrapper', item: 'entry', schema: ENTRY }],
    ['egressEntries', { k: 'wrapper', item: 'entry', schema: ENTRY }],
  ],
);
const ROUTE = obj([], ['destinationCidr', 'gatewayId', 'networkInterfaceId', 'natGatewayId']);
const ROUTE_TABLE = obj(
  ['name'],
  ['ownerId'],
  [['routes', { k: 'wrapper', item: 'route', schema: ROUTE }]],
);
const NAT_GATEWAY = obj(
  ['name'],
  ['ownerId', 'macAddress', 'publicIp', 'privateIp', 'vpc', 'subnet'],
);
const VPC = obj(
  ['name'],
  ['ownerId', 'cidr', 'dhcpOptionSet'],
  [
    ['subnets', { k: 'wrapper', item: 'subnet', schema: SUBNET }],
    ['networkAcls', { k: 'wrapper', item: 'networkAcl', schema: NETWORK_ACL }],
    ['routeTables', { k: 'wrapper', item: 'routeTable', schema: ROUTE_TABLE }],
    ['natGateways', { k: 'wrapper', item: 'natGateway', schema: NAT_GATEWAY }],
    ['internetGateways', VALUES],
  ],
);
const NETWORK_INTERFACE = obj(
  ['name'],
  [
    'ownerId',
    'deviceIndex',
    'attachmentId',
    'macAddress',
    'privateIp',
    'publicIp',
    'sourceDestCheck',
    'vpc',
    'subnet',
  ],
  [['securityGroups', VALUES]],
);
const INSTANCE = obj(
  ['name'],
  ['ownerId', 'macAddress', 'publicIp', 'privateIp', 'vpc', 'subnet'],
  [
    ['networkInterfaces', { k: 'wrapper', item: 'networkInterface', schema: NETWORK_INTERFACE }],
    ['securityGroups', VALUES],
  ],
);
const DHCP_OPTION_SET = obj(
  ['name'],
  ['ownerId'],
  [['property', { k: 'objList', schema: PROPERTY }]],
);
const INTERNET_GATEWAY = obj(['name'], ['ownerId']);
const RULE = obj(
  [],
  ['protocol', 'fromPort', 'toPort', 'icmpType', 'icmpCode', 'groupId', 'groupOwnerId', 'cidr'],
);
const SECURITY_GROUP = obj(
  ['name'],
  ['ownerId'],
  [
    ['ingressRules', { k: 'wrapper', item: 'rule', schema: RULE }],
    ['egressRules', { k: 'wrapper', item: 'rule', schema: RULE }],
    ['rules', { k: 'ignore' }],
  ],
);

/** The root element `network-data`. */
export const ROOT: ObjSchema = obj(
  ['version', 'applied-version', 'applied-time'],
  [],
  [
    ['configuration', { k: 'obj', schema: CONFIGURATION }],
    ['vpcs', { k: 'wrapper', item: 'vpc', schema: VPC }],
    ['instances', { k: 'wrapper', item: 'instance', schema: INSTANCE }],
    ['dhcpOptionSets', { k: 'wrapper', item: 'dhcpOptionSet', schema: DHCP_OPTION_SET }],
    ['internetGateways', { k: 'wrapper', item: 'internetGateway', schema: INTERNET_GATEWAY }],
    ['securityGroups', { k: 'wrapper', item: 'securityGroup', schema: SECURITY_GROUP }],
  ],
);

/** The name of the root element. */
export const ROOT_NAME = 'network-data';

/** A plain object of the §15 form (scalars are strings, lists are arrays). */
export type Plain = Record<string, unknown>;
