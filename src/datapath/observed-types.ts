/** The host state the agent observed (observe.ts reads it, plan.ts compares it with the desired
 * state). */
import type { NftFamily, ObservedNftTable } from './nft.js';

/** One link as observed. */
export interface ObservedLink {
  readonly name: string;
  readonly isUp: boolean;
  readonly master?: string;
  readonly alias?: string;
  readonly mac?: string;
  /** Learning of a bridge port (absent: not a bridge port). */
  readonly learning?: boolean;
  /** IPv4 `addr/len` list (router namespaces only). */
  readonly addrs?: readonly string[];
}

/** One router namespace as observed. */
export interface ObservedNs {
  readonly links: ReadonlyMap<string, ObservedLink>;
  /** Route keys (see `routeKey`) of the routes carrying the agent's protocol. */
  readonly routes: ReadonlySet<string>;
  /** Permanent neighbors as `ip mac dev`. */
  readonly neighbors: ReadonlySet<string>;
  /** The router namespace sysctls are set (forwarding, L4 multipath hash). */
  readonly isForwarding: boolean;
  /** Policy rules in the agent's preference range, as `pref src table`. */
  readonly rules?: ReadonlySet<string>;
  /** VXLAN forwarding entries of the namespace (`mac dev dst`). */
  readonly fdb?: ReadonlySet<string>;
  /** Nexthop objects (see `nexthopKey`). */
  readonly nexthops?: ReadonlySet<string>;
  /** The namespace's `ip eucanetd` table. */
  readonly nft?: ObservedNftTable;
}

/** A helper process as observed (pid file and /proc). */
export interface ObservedProcess {
  readonly pid?: number;
  /** NUL-separated command line of the live process ('' when not running). */
  readonly cmdline: string;
}

/** One DHCP server as observed (from its files and its process). */
export interface ObservedDhcp {
  readonly key: string;
  readonly pid?: number;
  readonly isRunning: boolean;
  readonly conf?: string;
  readonly hosts?: string;
  readonly confPath: string;
  readonly hostsPath: string;
  readonly pidPath: string;
}

/** What the agent found on the host. */
export interface ObservedHost {
  readonly links: ReadonlyMap<string, ObservedLink>;
  /** Helper namespaces carrying the prefix, with their state. */
  readonly namespaces: ReadonlyMap<string, ObservedNs>;
  readonly dhcp: ReadonlyMap<string, ObservedDhcp>;
  readonly nft: ReadonlyMap<NftFamily, ObservedNftTable | undefined>;
  readonly isBridgeNfCallOn: boolean;
  /** VXLAN entries of the agent's devices: `mac dev dst` (self); static entries of the ports
   * of the agent's bridges (VXLAN devices and instance ports): `mac dev` (master). */
  readonly fdb?: ReadonlySet<string>;
  readonly masterFdb?: ReadonlySet<string>;
  /** Permanent neighbors on the agent's VXLAN devices (`ip mac dev`). */
  readonly proxyNeighbors?: ReadonlySet<string>;
  readonly processes?: ReadonlyMap<string, ObservedProcess>;
  /** Content of the agent's kept files (absent: missing). */
  readonly files?: ReadonlyMap<string, string>;
}
