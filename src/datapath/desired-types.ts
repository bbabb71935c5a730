/**
 * Desired host state types: the shapes of what the Linux side of one host must hold (router
 * namespaces and their links, routes, rules, neighbors, VXLAN devices and forwarding entries,
 * helper processes) and the planner's options. Types only.
 */
import type { Issue } from '../common/index.js';
import type { buildNftTables } from './nft-model.js';
import type { NftTableSpec } from './nft.js';
import type { DesiredDhcp } from './dhcp.js';

/**
 * A link of a router namespace. `veth` (default): host end `hostDev` enslaved to the bridge
 * `master`, router end `nsDev`. `macvlan`: a macvlan of the host interface `hostDev` (a bound
 * uplink), moved into the namespace. `nsveth`: a veth whose other end `peerDev` is in the
 * helper namespace `peerNs` (the metadata endpoint). `transit`: a VXLAN device (VNI `vni`)
 * whose socket is in the host namespace, carrying traffic of a router copy to the router host.
 * `peer`: the far end of an `nsveth`, only configured here.
 */
export interface DesiredRouterLink {
  readonly routerPortId: string;
  readonly kind?: 'veth' | 'macvlan' | 'nsveth' | 'transit' | 'peer';
  readonly hostDev: string;
  readonly nsDev: string;
  readonly master: string;
  readonly mac?: string;
  /** `a.b.c.d/len` */
  readonly address?: string;
  readonly peerNs?: string;
  readonly peerDev?: string;
  readonly vni?: number;
}

/** A policy-routing rule in a router namespace (source-based routes). */
export interface DesiredRule {
  readonly pref: number;
  /** `a.b.c.d/len` */
  readonly src: string;
  readonly table: number;
}

/** A VXLAN forwarding entry: `mac` is behind the VTEP `dst`. */
export interface DesiredFdb {
  readonly mac: string;
  readonly dev: string;
  readonly dst: string;
}

/** A static bridge entry: `mac` is behind the bridge port `dev`. */
export interface DesiredPortFdb {
  readonly mac: string;
  readonly dev: string;
}

/** The VXLAN device of a bridge that spans hosts. */
export interface DesiredVxlan {
  readonly dev: string;
  readonly vni: number;
  readonly master: string;
  readonly local?: string;
  /** Link alias; carries the VNI and local address, so a change recreates the device. */
  readonly alias: string;
}

/** A long-running helper process (the metadata proxy). */
export interface DesiredProcess {
  readonly key: string;
  /** What to spawn (`ip netns exec NS node …`). */
  readonly argv: readonly string[];
  /** The command line the running process must have (NUL-joined in /proc). */
  readonly cmdline: readonly string[];
  readonly pidPath: string;
  readonly logPath: string;
  /** How a running process takes a change of its kept `files` without a restart (a BGP
   * speaker's `birdc configure`); absent: the files are re-read by the process itself. */
  readonly reload?: { readonly files: readonly string[]; readonly argv: readonly string[] };
}

/** A route in a router namespace (`dst` is a CIDR or `default`). */
export interface DesiredRoute {
  readonly type: 'unicast' | 'blackhole' | 'unreachable';
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
  readonly metric: number;
  /** Routing table (source-based routes); the main table when absent. */
  readonly table?: number;
  /** Through a nexthop object (the transit group of a per-flow router) instead of via/dev. */
  readonly nhid?: number;
}

/**
 * A nexthop object of a router namespace: one gateway (`via` an `onlink` address on the
 * transit device `dev`), or a resilient group of such nexthops (`group`: their ids).
 */
export type DesiredNexthop =
  | { readonly id: number; readonly via: string; readonly dev: string }
  | { readonly id: number; readonly group: readonly number[] };

/** A permanent neighbor entry in a router namespace (from the bridge ARP table). */
export interface DesiredNeighbor {
  readonly ip: string;
  readonly mac: string;
  readonly dev: string;
}

/** One router's helper namespace. */
export interface DesiredRouterNs {
  readonly ns: string;
  readonly routerId: string;
  readonly links: readonly DesiredRouterLink[];
  readonly routes: readonly DesiredRoute[];
  readonly neighbors: readonly DesiredNeighbor[];
  readonly rules?: readonly DesiredRule[];
  /** VXLAN forwarding entries of the namespace's transit device. */
  readonly fdb?: readonly DesiredFdb[];
  /** Nexthop objects (a compute host's copy of a per-flow router: one per live gateway and
   * their resilient group). */
  readonly nexthops?: readonly DesiredNexthop[];
  /** The namespace's `ip eucanetd` table (router host), undefined elsewhere. */
  readonly nft?: NftTableSpec;
}

/** Everything the host should hold. */
export interface DesiredHost {
  /** Linux bridges: dev → topology bridge id. */
  readonly bridges: ReadonlyMap<string, string>;
  /** Bound interfaces (`vn_<eni>`) → the bridge dev they belong to. Learning is off on them:
   * a frame sent from an instance never moves or adds a forwarding entry. */
  readonly slaves: ReadonlyMap<string, string>;
  /** Static bridge entries of the instances' own MACs on their interfaces (`mac-entry` of the
   * bound port), so traffic to them is forwarded without learning. */
  readonly portFdb?: readonly DesiredPortFdb[];
  readonly routerNamespaces: readonly DesiredRouterNs[];
  readonly dhcp: readonly DesiredDhcp[];
  readonly nft: ReturnType<typeof buildNftTables>;
  readonly vxlans?: readonly DesiredVxlan[];
  /** Static forwarding entries of the VXLAN devices (also written as static bridge entries). */
  readonly fdb?: readonly DesiredFdb[];
  /** Permanent neighbors on the VXLAN devices: ARP for remote addresses is answered locally. */
  readonly proxyNeighbors?: readonly DesiredNeighbor[];
  readonly processes?: readonly DesiredProcess[];
  /** Files the agent keeps (the metadata map). */
  readonly files?: readonly { readonly path: string; readonly content: string }[];
  /** Unsupported rule fields (warning) and objects not realized yet (`not_realized`). */
  readonly issues: readonly Issue[];
}

/** Options of the planner. */
export interface DesiredOptions {
  /** Prefix of the helper namespaces. */
  readonly netnsPrefix: string;
  /** Directory of the DHCP servers' config and pid files. */
  readonly stateDir: string;
  /** MTU offered to instances by DHCP (option 26) when a subnet sets none. */
  readonly instanceMtu?: number;
  /** The metadata proxy: node binary, script and backend URL (no proxy when absent). */
  readonly metadataProxy?: {
    readonly node: string;
    readonly script: string;
    readonly backend: string;
  };
}
