/**
 * The typed, immutable model of one GNI document (`GlobalView`), the same whether it was read
 * from XML or from its JSON form. Field names follow the GNI element names where they exist.
 *
 * Conventions:
 * - Every list is present (absent, null and empty lists are all `[]`).
 * - Optional scalars are absent, never `''` (an empty element `<publicIp/>` is absent).
 * - Text is trimmed; MACs are lower-case; integers are numbers; `sourceDestCheck` is boolean.
 * - Collections keep document order. Duplicate ids are kept in the view and flagged; lookups
 *   resolve to the first occurrence (as eucanetd's linear lookups did).
 * - Entity-level validity: `GlobalView.invalid` holds the keys (see `entityKey`) of every entity
 *   that failed validation. Such entities stay in the view so the reconciler can hold (neither
 *   change nor delete) what was built for them earlier; mapping must skip them.
 */

import type { Issue } from '../common/index.js';

/** A GNI id string such as `vpc-6a3e91c4` or `eni-0a1b2c3d4e5f60718`. */
export type GniId = string;

/** Entity kinds that validation can mark invalid one by one. */
export type EntityKind =
  | 'vpc'
  | 'subnet'
  | 'networkAcl'
  | 'routeTable'
  | 'natGateway'
  | 'internetGateway'
  | 'instance'
  | 'networkInterface'
  | 'securityGroup'
  | 'dhcpOptionSet'
  | 'gateway'
  | 'cluster'
  | 'node';

/**
 * The key of an entity in `GlobalView.invalid`: `<kind>:<id>`, e.g. `subnet:subnet-0b7d1e52`.
 * Gateways are keyed by their index in document order (`gateway:0`), nodes by name.
 */
export function entityKey(kind: EntityKind, id: string): string {
  return `${kind}:${id}`;
}

/** One MidoNet gateway (4.4 format; legacy properties are folded in by the reader). */
export interface Gateway {
  /** The gateway host as MidoNet knows it (`ip`, legacy `gatewayHost`). */
  readonly host: string;
  readonly externalCidr?: string;
  readonly externalDevice?: string;
  readonly externalIp?: string;
  /** Static upstream router (`externalRouterIp`, legacy `publicGatewayIP`). */
  readonly externalRouterIp?: string;
  readonly bgpPeerIp?: string;
  readonly bgpPeerAsn?: number;
  readonly bgpAdRoutes: readonly string[];
}

/** The `mido` configuration block. */
export interface MidoConfig {
  readonly gateways: readonly Gateway[];
  readonly eucanetdHost?: string;
  readonly bgpAsn?: number;
  /** Legacy shared values, kept as read (already folded into each gateway). */
  readonly publicNetworkCidr?: string;
  readonly publicGatewayIP?: string;
}

/** A node (NC host) and the instances it runs, as listed in the GNI. */
export interface Node {
  readonly name: string;
  readonly instanceIds: readonly GniId[];
}

/** A cluster (availability zone / partition). */
export interface Cluster {
  readonly name: string;
  readonly enabledCCIp?: string;
  readonly macPrefix?: string;
  readonly privateIps: readonly string[];
  readonly nodes: readonly Node[];
}

/** The `configuration` section. */
export interface GniConfig {
  readonly mode?: string;
  readonly publicIps: readonly string[];
  readonly enabledCLCIp?: string;
  readonly instanceDNSDomain?: string;
  readonly instanceDNSServers: readonly string[];
  readonly publicGateway?: string;
  readonly mido?: MidoConfig;
  readonly clusters: readonly Cluster[];
}

export interface Subnet {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly cidr?: string;
  /** Availability zone (the GNI element is named `cluster`). */
  readonly cluster?: string;
  readonly networkAcl?: GniId;
  readonly routeTable?: GniId;
}

/** One network ACL entry. `action` is normalised: exactly `allow` is allow, anything else deny. */
export interface AclEntry {
  readonly number: number;
  readonly protocol: number;
  readonly action: 'allow' | 'deny';
  readonly cidr?: string;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly portRangeFrom?: number;
  readonly portRangeTo?: number;
}

export interface NetworkAcl {
  readonly id: GniId;
  readonly ownerId?: string;
  /** Entries in document order (the producer sorts them by rule number). */
  readonly ingressEntries: readonly AclEntry[];
  readonly egressEntries: readonly AclEntry[];
}

/** Route target, classified as eucanetd did (gatewayId first, then ENI, then NAT gateway). */
export type RouteTarget =
  | { readonly type: 'local' }
  | { readonly type: 'internetGateway'; readonly id: GniId }
  | { readonly type: 'networkInterface'; readonly id: GniId }
  | { readonly type: 'natGateway'; readonly id: GniId }
  | { readonly type: 'unsupported'; readonly id: string };

export interface Route {
  readonly destinationCidr?: string;
  readonly target?: RouteTarget;
  /** Raw target fields as read, for round-tripping. */
  readonly gatewayId?: string;
  readonly networkInterfaceId?: string;
  readonly natGatewayId?: string;
}

export interface RouteTable {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly routes: readonly Route[];
}

export interface NatGateway {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly macAddress?: string;
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly vpc?: GniId;
  readonly subnet?: GniId;
}

export interface Vpc {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly cidr?: string;
  readonly dhcpOptionSet?: GniId;
  readonly subnets: readonly Subnet[];
  readonly networkAcls: readonly NetworkAcl[];
  readonly routeTables: readonly RouteTable[];
  readonly natGateways: readonly NatGateway[];
  readonly internetGateways: readonly GniId[];
}

export interface NetworkInterface {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly deviceIndex?: number;
  readonly attachmentId?: string;
  readonly macAddress?: string;
  readonly privateIp?: string;
  readonly publicIp?: string;
  /** Defaults to true when absent. */
  readonly sourceDestCheck: boolean;
  readonly vpc?: GniId;
  readonly subnet?: GniId;
  readonly securityGroups: readonly GniId[];
}

export interface Instance {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly macAddress?: string;
  readonly publicIp?: string;
  readonly privateIp?: string;
  readonly vpc?: GniId;
  readonly subnet?: GniId;
  readonly networkInterfaces: readonly NetworkInterface[];
  readonly securityGroups: readonly GniId[];
  /** The node that runs it, resolved from the cluster node lists (last listing wins). */
  readonly node?: string;
  /** The cluster of that node. */
  readonly cluster?: string;
}

/** A generic `<property name><value>...</value></property>`. */
export interface Property {
  readonly name: string;
  readonly values: readonly string[];
}

export interface DhcpOptionSet {
  readonly id: GniId;
  readonly ownerId?: string;
  /** Every property in document order (unknown keys included). */
  readonly properties: readonly Property[];
  /** Known options, parsed. */
  readonly domainName: readonly string[];
  readonly domainNameServers: readonly string[];
  readonly ntpServers: readonly string[];
  readonly netbiosNameServers: readonly string[];
  readonly netbiosNodeType?: number;
}

export interface InternetGateway {
  readonly id: GniId;
  readonly ownerId?: string;
}

/** One security group rule: either `cidr` or `groupId` (+ `groupOwnerId`). */
export interface SecurityGroupRule {
  readonly protocol: number;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly icmpType?: number;
  readonly icmpCode?: number;
  readonly groupId?: GniId;
  readonly groupOwnerId?: string;
  readonly cidr?: string;
}

export interface SecurityGroup {
  readonly id: GniId;
  readonly ownerId?: string;
  readonly ingressRules: readonly SecurityGroupRule[];
  readonly egressRules: readonly SecurityGroupRule[];
}

/** The whole document. */
export interface GlobalView {
  readonly version?: string;
  readonly appliedVersion?: string;
  readonly appliedTime?: string;
  readonly configuration: GniConfig;
  readonly vpcs: readonly Vpc[];
  readonly instances: readonly Instance[];
  readonly dhcpOptionSets: readonly DhcpOptionSet[];
  readonly internetGateways: readonly InternetGateway[];
  readonly securityGroups: readonly SecurityGroup[];
  /** Keys (`entityKey`) of entities that failed validation; mapping skips them. */
  readonly invalid: ReadonlySet<string>;
}

/**
 * Outcome of reading a document: `view` is present unless the document was rejected as a
 * whole (then `issues` holds at least one issue with severity `error` and a document-level
 * path). Entity-level errors leave `view` present and list the entity in `view.invalid`.
 */
export interface ReadResult {
  readonly view?: GlobalView;
  readonly issues: readonly Issue[];
  /** Bytes read, and the format detected. */
  readonly bytes: number;
  readonly format: 'xml' | 'json';
}
