/**
 * The topology data model (MidoNet v5 shapes, camelCase REST field names) and the store
 * interface every backend implements (memory, file, etcd, remote API).
 *
 * Field classes:
 * - writable fields: set by clients on create and replaced on update;
 * - back-reference fields (listed in `BACK_REFERENCE_FIELDS`): maintained by the store from the
 *   bindings, ignored when a client sends them, with one exception: `chain.ruleIds` is the
 *   rule evaluation order and an update may send it as a permutation of the current list to
 *   reorder the rules;
 * - `version`: per-object version, bumped by the store on every change of the object (also
 *   when only a back-reference changed); a client may pass it as `expectedVersion`.
 */

/** Every kind of object in the store. */
export type Kind =
  | 'router'
  | 'bridge'
  | 'port'
  | 'chain'
  | 'rule'
  | 'ip-addr-group'
  | 'route'
  | 'dhcp-subnet'
  | 'host'
  | 'tunnel-zone'
  | 'port-group'
  | 'bgp-peer'
  | 'bgp-network'
  | 'arp-entry'
  | 'mac-entry';

/** All kinds, in dependency order: an object only references objects of earlier kinds, except
 * `port.peerId` (port to port; a symmetric binding). */
export const KINDS = [
  'host',
  'tunnel-zone',
  'port-group',
  'chain',
  'ip-addr-group',
  'router',
  'bridge',
  'port',
  'route',
  'rule',
  'dhcp-subnet',
  'arp-entry',
  'mac-entry',
  'bgp-peer',
  'bgp-network',
] as const satisfies readonly Kind[];

/** Fields every stored object has. */
export interface BaseObject {
  /** UUID string. Managed objects use `derivedId` (see src/common/ids.ts). */
  readonly id: string;
  /** Per-object version, assigned by the store (1 on create). */
  readonly version: number;
  /**
   * The GNI entity this object realizes (`vpc-…`, `eni-…`, `sg-…`, `core`, …), written by the
   * controller. Lets the controller hold an entity's objects while its input is invalid.
   */
  readonly owner?: string;
}

export interface Router extends BaseObject {
  readonly name: string;
  readonly tenantId?: string;
  readonly adminStateUp: boolean;
  readonly inboundFilterId?: string;
  readonly outboundFilterId?: string;
  readonly asNumber?: number;
  /** MidoNet's local-redirect chain (a chain id; not bound, like ZOOM's forward chain). */
  readonly localRedirectChainId?: string;
  /** MidoNet's forward chain (a chain id; not bound). */
  readonly forwardChainId?: string;
  // back-references
  readonly portIds: readonly string[];
  readonly routeIds: readonly string[];
  readonly bgpPeerIds: readonly string[];
  readonly bgpNetworkIds: readonly string[];
}

export interface Bridge extends BaseObject {
  readonly name: string;
  readonly tenantId?: string;
  readonly adminStateUp: boolean;
  readonly inboundFilterId?: string;
  readonly outboundFilterId?: string;
  /** VXLAN network identifier used between hosts (assigned by the controller). */
  readonly vni?: number;
  // back-references
  readonly portIds: readonly string[];
  readonly dhcpIds: readonly string[];
  readonly arpEntryIds: readonly string[];
  readonly macEntryIds: readonly string[];
}

/** A router port or a bridge port (`type`), MidoNet's one Port message. */
export interface Port extends BaseObject {
  readonly type: 'Router' | 'Bridge';
  /** Set for router ports. */
  readonly routerId?: string;
  /** Set for bridge ports. */
  readonly bridgeId?: string;
  readonly adminStateUp: boolean;
  readonly peerId?: string;
  /** Binding: the host and the interface name on it (`vn_<eni>`, `eth1`, …). */
  readonly hostId?: string;
  readonly interfaceName?: string;
  /** Router ports: own address, its network, MAC. */
  readonly portAddress?: string;
  readonly networkAddress?: string;
  readonly networkLength?: number;
  readonly portMac?: string;
  readonly vlanId?: number;
  readonly inboundFilterId?: string;
  readonly outboundFilterId?: string;
  readonly portGroupIds: readonly string[];
  // back-references
  readonly routeIds: readonly string[];
  readonly macEntryIds: readonly string[];
}

export interface ChainMetadata {
  readonly key: string;
  readonly value: string;
}

export interface Chain extends BaseObject {
  readonly name: string;
  readonly tenantId?: string;
  readonly metadata: readonly ChainMetadata[];
  // back-references; ruleIds is the evaluation order (reorderable by update)
  readonly ruleIds: readonly string[];
  readonly jumpRuleIds: readonly string[];
  readonly routerInboundIds: readonly string[];
  readonly routerOutboundIds: readonly string[];
  readonly bridgeInboundIds: readonly string[];
  readonly bridgeOutboundIds: readonly string[];
  readonly portInboundIds: readonly string[];
  readonly portOutboundIds: readonly string[];
}

export type RuleType =
  | 'accept'
  | 'drop'
  | 'reject'
  | 'return'
  | 'jump'
  | 'continue'
  | 'dnat'
  | 'snat'
  | 'rev_dnat'
  | 'rev_snat';

export type FlowAction = 'accept' | 'continue' | 'return';
export type FragmentPolicy = 'any' | 'nonheader' | 'header' | 'unfragmented';

export interface PortRange {
  readonly start: number;
  readonly end: number;
}

export interface NatTarget {
  readonly addressFrom: string;
  readonly addressTo: string;
  readonly portFrom: number;
  readonly portTo: number;
}

/** A rule: MidoNet's flat REST shape (condition fields plus subtype fields). */
export interface Rule extends BaseObject {
  readonly chainId: string;
  readonly type: RuleType;
  // condition
  readonly condInvert?: boolean;
  readonly matchForwardFlow?: boolean;
  readonly matchReturnFlow?: boolean;
  readonly inPorts?: readonly string[];
  readonly invInPorts?: boolean;
  readonly outPorts?: readonly string[];
  readonly invOutPorts?: boolean;
  readonly portGroup?: string;
  readonly invPortGroup?: boolean;
  /** Ingress port in this port group (not bound, like `portGroup`). */
  readonly inPortGroup?: string;
  readonly invInPortGroup?: boolean;
  /** Egress port in this port group (not bound). */
  readonly outPortGroup?: string;
  readonly invOutPortGroup?: boolean;
  /** Matches only untagged frames. */
  readonly noVlan?: boolean;
  /** Matches frames tagged with this VLAN id. */
  readonly vlan?: number;
  readonly ipAddrGroupSrc?: string;
  readonly invIpAddrGroupSrc?: boolean;
  readonly ipAddrGroupDst?: string;
  readonly invIpAddrGroupDst?: boolean;
  readonly dlType?: number;
  readonly invDlType?: boolean;
  readonly dlSrc?: string;
  readonly dlSrcMask?: string;
  readonly invDlSrc?: boolean;
  readonly dlDst?: string;
  readonly dlDstMask?: string;
  readonly invDlDst?: boolean;
  readonly nwTos?: number;
  readonly invNwTos?: boolean;
  readonly nwProto?: number;
  readonly invNwProto?: boolean;
  readonly nwSrcAddress?: string;
  readonly nwSrcLength?: number;
  readonly invNwSrc?: boolean;
  readonly nwDstAddress?: string;
  readonly nwDstLength?: number;
  readonly invNwDst?: boolean;
  readonly tpSrc?: PortRange;
  readonly invTpSrc?: boolean;
  readonly tpDst?: PortRange;
  readonly invTpDst?: boolean;
  readonly fragmentPolicy?: FragmentPolicy;
  // jump
  readonly jumpChainId?: string;
  readonly jumpChainName?: string;
  // dnat / snat / rev_*
  readonly natTargets?: readonly NatTarget[];
  readonly flowAction?: FlowAction;
  readonly metadata?: readonly ChainMetadata[];
}

export interface IpAddrGroup extends BaseObject {
  readonly name: string;
  readonly tenantId?: string;
  /** Member addresses (IPv4 strings), kept in the order given. */
  readonly addresses: readonly string[];
  // back-references: rules whose ipAddrGroupSrc/Dst name this group
  readonly ruleIds: readonly string[];
}

export type RouteType = 'Normal' | 'BlackHole' | 'Reject' | 'Local';

export interface Route extends BaseObject {
  readonly routerId: string;
  readonly type: RouteType;
  readonly srcNetworkAddr: string;
  readonly srcNetworkLength: number;
  readonly dstNetworkAddr: string;
  readonly dstNetworkLength: number;
  readonly nextHopPort?: string;
  readonly nextHopGateway?: string;
  readonly weight: number;
  readonly attributes?: string;
}

export interface Opt121Route {
  readonly destinationPrefix: string;
  readonly destinationLength: number;
  readonly gatewayAddr: string;
}

export interface ExtraDhcpOpt {
  readonly optName: string;
  readonly optValue: string;
}

export interface DhcpHost {
  readonly macAddr: string;
  readonly ipAddr: string;
  readonly name: string;
  readonly extraDhcpOpts: readonly ExtraDhcpOpt[];
}

/** One IPv4 DHCP subnet of a bridge, with its static hosts nested (as MidoNet keeps them). */
export interface DhcpSubnet extends BaseObject {
  readonly bridgeId: string;
  readonly subnetPrefix: string;
  readonly subnetLength: number;
  readonly defaultGateway?: string;
  readonly serverAddr?: string;
  readonly dnsServerAddrs: readonly string[];
  readonly domainName?: string;
  readonly ntpServers: readonly string[];
  readonly interfaceMTU?: number;
  readonly opt121Routes: readonly Opt121Route[];
  readonly enabled: boolean;
  readonly hosts: readonly DhcpHost[];
}

export interface Host extends BaseObject {
  readonly name: string;
  readonly addresses: readonly string[];
  /** MidoNet's flooding-proxy weight (0-65535); unset means MidoNet's default 1. */
  readonly floodingProxyWeight?: number;
  /** The host's interfaces as its agent last reported them. */
  readonly interfaces?: readonly HostInterface[];
  /** When the host's agent last reported (ms since the epoch) and how long that counts
   * (`alive` until `heartbeatAt + heartbeatTtlMs`). */
  readonly heartbeatAt?: number;
  readonly heartbeatTtlMs?: number;
  // back-references
  readonly portIds: readonly string[];
  readonly tunnelZoneIds: readonly string[];
}

/** One interface of a host, as its agent reports it. */
export interface HostInterface {
  readonly name: string;
  readonly mac?: string;
  readonly mtu?: number;
  readonly isUp: boolean;
  /** IPv4 addresses (`a.b.c.d`). */
  readonly addresses: readonly string[];
}

export interface TunnelZoneHost {
  readonly hostId: string;
  readonly ipAddress: string;
}

export interface TunnelZone extends BaseObject {
  readonly name: string;
  readonly type: 'gre' | 'vxlan' | 'vtep';
  /** Members; `hosts[].hostId` is bound to `host.tunnelZoneIds`. */
  readonly hosts: readonly TunnelZoneHost[];
}

export interface PortGroup extends BaseObject {
  readonly name: string;
  readonly tenantId?: string;
  readonly stateful: boolean;
  // back-references
  readonly portIds: readonly string[];
}

export interface BgpPeer extends BaseObject {
  readonly routerId: string;
  readonly asNumber: number;
  readonly address: string;
  readonly keepAlive?: number;
  readonly holdTime?: number;
  readonly connectRetry?: number;
  readonly password?: string;
}

export interface BgpNetwork extends BaseObject {
  readonly routerId: string;
  readonly subnetAddress: string;
  readonly subnetLength: number;
}

/** A bridge ARP table entry (IP → MAC). */
export interface ArpEntry extends BaseObject {
  readonly bridgeId: string;
  readonly ip: string;
  readonly mac: string;
}

/** A bridge MAC table entry (MAC → port). */
export interface MacEntry extends BaseObject {
  readonly bridgeId: string;
  readonly macAddr: string;
  readonly portId: string;
  readonly vlanId?: number;
}

/** Maps each kind to its object type. */
export interface ObjectsByKind {
  router: Router;
  bridge: Bridge;
  port: Port;
  chain: Chain;
  rule: Rule;
  'ip-addr-group': IpAddrGroup;
  route: Route;
  'dhcp-subnet': DhcpSubnet;
  host: Host;
  'tunnel-zone': TunnelZone;
  'port-group': PortGroup;
  'bgp-peer': BgpPeer;
  'bgp-network': BgpNetwork;
  'arp-entry': ArpEntry;
  'mac-entry': MacEntry;
}

export type ObjectOf<K extends Kind> = ObjectsByKind[K];
export type AnyObject = ObjectsByKind[Kind];

/** Back-reference fields per kind: store-maintained, never written by clients (but see
 * `chain.ruleIds`). */
export const BACK_REFERENCE_FIELDS = {
  router: ['portIds', 'routeIds', 'bgpPeerIds', 'bgpNetworkIds'],
  bridge: ['portIds', 'dhcpIds', 'arpEntryIds', 'macEntryIds'],
  port: ['routeIds', 'macEntryIds'],
  chain: [
    'ruleIds',
    'jumpRuleIds',
    'routerInboundIds',
    'routerOutboundIds',
    'bridgeInboundIds',
    'bridgeOutboundIds',
    'portInboundIds',
    'portOutboundIds',
  ],
  rule: [],
  'ip-addr-group': ['ruleIds'],
  route: [],
  'dhcp-subnet': [],
  host: ['portIds', 'tunnelZoneIds'],
  'tunnel-zone': [],
  'port-group': ['portIds'],
  'bgp-peer': [],
  'bgp-network': [],
  'arp-entry': [],
  'mac-entry': [],
} as const satisfies { readonly [K in Kind]: readonly (keyof ObjectOf<K>)[] };

type BackRefKeys<K extends Kind> = (typeof BACK_REFERENCE_FIELDS)[K][number];

/**
 * The slots a handed-over object may carry for what the store fills in (docs/store.md,
 * "Slots"): `version` (a number, written as 1) and the kind's back-reference fields (each
 * `BACK_REFERENCE_SLOT`, filled with the store's lists). A bulk create adopts an object that
 * carries all of them without reshaping it; anywhere else they are ignored, as `version` and
 * back-references in client input always were.
 */
export type SlotsOf<K extends Kind> = { readonly version?: number } & {
  readonly [P in BackRefKeys<K>]?: readonly string[];
};

/**
 * What a client writes: the object without `version` and without back-references. Creating
 * with back-reference fields present is allowed; the store ignores them.
 */
export type WritableOf<K extends Kind> = Omit<ObjectOf<K>, 'version' | BackRefKeys<K>>;

/** One operation of a transaction. */
export type Op =
  | {
      readonly op: 'create';
      readonly kind: Kind;
      readonly object: WritableOf<Kind>;
      /** Rules only: 1-based place in the chain's `ruleIds` (default: appended at the end). */
      readonly position?: number;
    }
  | {
      readonly op: 'update';
      readonly kind: Kind;
      /** Replaces every writable field (absent optional fields are unset). `chain` updates may
       * carry `ruleIds` as a permutation of the current list to reorder rules. */
      readonly object: WritableOf<Kind> & { readonly ruleIds?: readonly string[] };
      readonly expectedVersion?: number;
    }
  | {
      readonly op: 'delete';
      readonly kind: Kind;
      readonly id: string;
      readonly expectedVersion?: number;
      /** Succeed silently when the object is already gone (e.g. deleted by a cascade). */
      readonly ignoreMissing?: boolean;
    };

/** What a committed transaction returns. */
export interface CommitResult {
  /** The global revision of this commit (strictly increasing per store). */
  readonly revision: number;
}

/** One changed object inside a committed transaction. Cascaded deletes and back-reference
 * updates appear as their own changes. */
export interface Change {
  readonly kind: Kind;
  readonly id: string;
  readonly type: 'created' | 'updated' | 'deleted';
  /** The object after the change (absent for `deleted`). */
  readonly object?: AnyObject;
}

/** One committed transaction, as seen by watchers. */
export interface ChangeEvent {
  readonly revision: number;
  readonly changes: readonly Change[];
}

/** Field-equality filter for `list` (every given field must equal). */
export type ListFilter = { readonly [field: string]: string | number | boolean };

/** Read side of a store. */
export interface TopologyReader {
  get<K extends Kind>(kind: K, id: string): Promise<ObjectOf<K> | undefined>;
  /** First object of that kind with that `name` (kinds that have names). */
  getByName<K extends Kind>(kind: K, name: string): Promise<ObjectOf<K> | undefined>;
  /** All objects of a kind, optionally filtered; order is by id. */
  list<K extends Kind>(kind: K, filter?: ListFilter): Promise<readonly ObjectOf<K>[]>;
  /** The revision of the latest commit (0 for an empty, never-written store). */
  revision(): Promise<number>;
  /**
   * Embedded stores only: the committed objects of a kind by id, live (the map changes with
   * every commit; its objects are frozen and never change). Read-only: lets a reader in the
   * same process follow the store without a copy of its own (see discovery's `discoverLive`).
   */
  committedObjects?<K extends Kind>(kind: K): ReadonlyMap<string, ObjectOf<K>>;
}

/** Write side of a store. */
export interface TopologyWriter {
  /** Commits all ops atomically or none (throws a StoreError subclass). */
  transaction(ops: readonly Op[]): Promise<CommitResult>;
  /**
   * Creates many new objects as one commit, much faster than `transaction` on a large batch
   * (a cold build, a rebuild after a flush): the same validation, bindings, rule order and
   * errors, but every op must be a create of an object that does not exist yet, and references
   * may point anywhere in the batch. Optional: backends without it take chunked transactions.
   */
  bulkCreate?(ops: readonly Extract<Op, { readonly op: 'create' }>[]): Promise<CommitResult>;
  /**
   * Deletes many objects as one commit (a flush): the result of a transaction of the same
   * deletes in an order that works (cascades, ERROR refusals, CLEARed fields and edited lists
   * of the objects that stay), computed for the whole set at once. Optional like `bulkCreate`.
   */
  bulkDelete?(ops: readonly Extract<Op, { readonly op: 'delete' }>[]): Promise<CommitResult>;
}

/** A store backend. */
export interface TopologyStore extends TopologyReader, TopologyWriter {
  /**
   * Committed changes after `fromRevision`, in commit order, then live ones as they commit,
   * until `signal` aborts. Throws `RevisionCompactedError` (from the iterator) when the store no
   * longer holds the history from that revision; the caller then re-lists.
   */
  watch(fromRevision: number, signal?: AbortSignal): AsyncIterable<ChangeEvent>;
  /** Releases locks, files and connections. */
  close(): Promise<void>;
}
