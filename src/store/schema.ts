/**
 * The bindings table: every two-way reference the store maintains, declared once (MidoNet's
 * `setupBindings`, plus the nested fields ZOOM could not bind). The transaction engine and the
 * verifier are driven by this table only.
 */
import { BACK_REFERENCE_FIELDS, KINDS, type Kind } from './types.js';

/** What happens to the objects a deleted object's field points to. */
export type DeleteAction = 'CASCADE' | 'CLEAR' | 'ERROR';

/** One side of a binding: a field of a kind holding ids of the other side's kind. */
export interface BindingEnd {
  readonly kind: Kind;
  /** Top-level field name (for a nested end, the list of objects that holds the id). */
  readonly field: string;
  /** Nested ends only: the id property inside each element of `field`. */
  readonly key?: string;
  /** True when the field holds a list of ids. */
  readonly many: boolean;
  /** Applied to the referenced objects when an object of this side is deleted. */
  readonly onDelete: DeleteAction;
}

/**
 * A two-way binding. `forward` is the side clients write; `back` is the back-reference the
 * store keeps. A symmetric binding (`port.peerId`) has the same end on both sides.
 */
export interface Binding {
  readonly forward: BindingEnd;
  readonly back: BindingEnd;
  readonly symmetric?: boolean;
}

function one(kind: Kind, field: string, onDelete: DeleteAction): BindingEnd {
  return { kind, field, many: false, onDelete };
}
function many(kind: Kind, field: string, onDelete: DeleteAction): BindingEnd {
  return { kind, field, many: true, onDelete };
}
function bind(forward: BindingEnd, back: BindingEnd): Binding {
  return { forward, back };
}

/** Every binding, in the order of the design table (docs/store.md). */
export const SCHEMA: readonly Binding[] = [
  bind(one('port', 'bridgeId', 'CLEAR'), many('bridge', 'portIds', 'CASCADE')),
  bind(one('port', 'routerId', 'CLEAR'), many('router', 'portIds', 'CASCADE')),
  {
    forward: one('port', 'peerId', 'CLEAR'),
    back: one('port', 'peerId', 'CLEAR'),
    symmetric: true,
  },
  bind(one('route', 'routerId', 'CLEAR'), many('router', 'routeIds', 'CASCADE')),
  bind(one('route', 'nextHopPort', 'CLEAR'), many('port', 'routeIds', 'CASCADE')),
  bind(one('dhcp-subnet', 'bridgeId', 'CLEAR'), many('bridge', 'dhcpIds', 'CASCADE')),
  bind(one('port', 'hostId', 'CLEAR'), many('host', 'portIds', 'CLEAR')),
  bind(
    { kind: 'tunnel-zone', field: 'hosts', key: 'hostId', many: true, onDelete: 'CLEAR' },
    many('host', 'tunnelZoneIds', 'CLEAR'),
  ),
  bind(many('port', 'portGroupIds', 'CLEAR'), many('port-group', 'portIds', 'CLEAR')),
  bind(one('bridge', 'inboundFilterId', 'CLEAR'), many('chain', 'bridgeInboundIds', 'CLEAR')),
  bind(one('bridge', 'outboundFilterId', 'CLEAR'), many('chain', 'bridgeOutboundIds', 'CLEAR')),
  bind(one('router', 'inboundFilterId', 'CLEAR'), many('chain', 'routerInboundIds', 'CLEAR')),
  bind(one('router', 'outboundFilterId', 'CLEAR'), many('chain', 'routerOutboundIds', 'CLEAR')),
  bind(one('port', 'inboundFilterId', 'CLEAR'), many('chain', 'portInboundIds', 'CLEAR')),
  bind(one('port', 'outboundFilterId', 'CLEAR'), many('chain', 'portOutboundIds', 'CLEAR')),
  bind(one('rule', 'chainId', 'CLEAR'), many('chain', 'ruleIds', 'CASCADE')),
  bind(one('rule', 'jumpChainId', 'CLEAR'), many('chain', 'jumpRuleIds', 'ERROR')),
  bind(one('rule', 'ipAddrGroupSrc', 'CLEAR'), many('ip-addr-group', 'ruleIds', 'ERROR')),
  bind(one('rule', 'ipAddrGroupDst', 'CLEAR'), many('ip-addr-group', 'ruleIds', 'ERROR')),
  bind(one('bgp-peer', 'routerId', 'CLEAR'), many('router', 'bgpPeerIds', 'CASCADE')),
  bind(one('bgp-network', 'routerId', 'CLEAR'), many('router', 'bgpNetworkIds', 'CASCADE')),
  bind(one('arp-entry', 'bridgeId', 'CLEAR'), many('bridge', 'arpEntryIds', 'CASCADE')),
  bind(one('mac-entry', 'bridgeId', 'CLEAR'), many('bridge', 'macEntryIds', 'CASCADE')),
  bind(one('mac-entry', 'portId', 'CLEAR'), many('port', 'macEntryIds', 'CASCADE')),
];

/** References that are deliberately not bound (they may dangle); documented in docs/store.md. */
export const UNBOUND_REFERENCES: readonly string[] = [
  'rule.inPorts',
  'rule.outPorts',
  'rule.portGroup',
  'rule.inPortGroup',
  'rule.outPortGroup',
  'router.localRedirectChainId',
  'router.forwardChainId',
];

/** Kinds that have a `name` field (and a name index). */
export const NAMED_KINDS: ReadonlySet<Kind> = new Set<Kind>([
  'router',
  'bridge',
  'chain',
  'ip-addr-group',
  'host',
  'tunnel-zone',
  'port-group',
]);

/** Per-kind view of the table, precomputed for the transaction engine. */
export interface KindBindings {
  /** Bindings whose forward side is this kind (excluding the symmetric one). */
  readonly forward: readonly Binding[];
  /** Back-reference fields of this kind, each with every binding that feeds it. */
  readonly back: ReadonlyMap<string, readonly Binding[]>;
  /** The symmetric binding on this kind, if any. */
  readonly symmetric?: Binding;
}

function indexSchema(): ReadonlyMap<Kind, KindBindings> {
  const out = new Map<Kind, KindBindings>();
  for (const kind of KINDS) {
    const forward = SCHEMA.filter((b) => !b.symmetric && b.forward.kind === kind);
    const back = new Map<string, Binding[]>();
    for (const b of SCHEMA) {
      if (b.symmetric || b.back.kind !== kind) continue;
      const list = back.get(b.back.field) ?? [];
      list.push(b);
      back.set(b.back.field, list);
    }
    const symmetric = SCHEMA.find((b) => b.symmetric && b.forward.kind === kind);
    out.set(kind, symmetric ? { forward, back, symmetric } : { forward, back });
  }
  return out;
}

/** Bindings per kind. */
export const BINDINGS_BY_KIND: ReadonlyMap<Kind, KindBindings> = indexSchema();

/** The bindings of one kind. */
export function bindingsOf(kind: Kind): KindBindings {
  const b = BINDINGS_BY_KIND.get(kind);
  if (!b) throw new Error(`unknown kind ${kind}`);
  return b;
}

/** Ids a forward end of `obj` points to (deduplicated, in field order). */
export function forwardTargets(end: BindingEnd, obj: Readonly<Record<string, unknown>>): string[] {
  const v = obj[end.field];
  if (v === undefined || v === null) return [];
  if (!end.many) return [v as string];
  const list = v as readonly unknown[];
  if (end.key !== undefined) {
    const key = end.key;
    return dedupe(list.map((e) => (e as Record<string, string>)[key] as string));
  }
  return dedupe(list as readonly string[]);
}

function dedupe(list: readonly string[]): string[] {
  if (list.length < 2) return [...list];
  return [...new Set(list)];
}

/** Kinds of the back-reference fields, checked against the contract once at load. */
function checkAgainstContract(): void {
  for (const kind of KINDS) {
    const declared = new Set<string>(BACK_REFERENCE_FIELDS[kind]);
    const bound = new Set(bindingsOf(kind).back.keys());
    for (const f of declared)
      if (!bound.has(f)) throw new Error(`schema: ${kind}.${f} is not bound`);
    for (const f of bound)
      if (!declared.has(f)) throw new Error(`schema: ${kind}.${f} not declared`);
  }
}
checkAgainstContract();
