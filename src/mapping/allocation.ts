/**
 * Allocation of router ids (VPCs and NAT gateways share one pool: 2 .. MIDO_MAX_RTID-1,
 * skipping 10744-10751), metadata ids (10 .. MIDO_MAX_ENIID-1) and subnet VNIs (1 upward).
 * Numbers already held by an entity still in the view are kept; new ones are the lowest free,
 * handed out in sorted id order, except router ids: those go in GNI order, each VPC then its NAT
 * gateways, as eucanetd's pass 3 hands them out (so a fresh install gets eucanetd's ids); numbers of entities gone from the view are dropped (held
 * entities are still in the view, so theirs are kept).
 */
import type { Allocations, MappingConfig } from './types.js';
import type { TopologyBuilder } from './builder.js';
import type { ViewIndex } from './context.js';
import { PLAN } from './config.js';

/** A number pool over [first, limit) with some numbers reserved. */
class Pool {
  private readonly used = new Set<number>();
  private cursor: number;

  constructor(
    private readonly first: number,
    private readonly limit: number,
    private readonly reserved: (n: number) => boolean = () => false,
  ) {
    this.cursor = first;
  }

  /** Claims `n` if it is in range, not reserved and free. */
  claim(n: number): boolean {
    if (!Number.isInteger(n) || n < this.first || n >= this.limit) return false;
    if (this.reserved(n) || this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  /** The lowest free number (claimed), or `undefined` when the pool is exhausted. All `claim`s
   * happen before the first `next`, so the scan only moves forward. */
  next(): number | undefined {
    while (this.cursor < this.limit && (this.used.has(this.cursor) || this.reserved(this.cursor))) {
      this.cursor++;
    }
    if (this.cursor >= this.limit) return undefined;
    this.used.add(this.cursor);
    return this.cursor++;
  }
}

interface Candidate {
  readonly id: string;
  /** The owner to hold when no number is left. */
  readonly owner: string;
  /** False for held entities: they keep a number but never get a new one. */
  readonly wanted: boolean;
}

function assign(
  candidates: readonly Candidate[],
  previous: ReadonlyMap<string, number>,
  pool: Pool,
  b: TopologyBuilder,
  what: string,
  inGivenOrder = false,
): Map<string, number> {
  const out = new Map<string, number>();
  const missing: string[] = [];
  const owners = new Map<string, string>();
  for (const c of candidates) {
    const n = previous.get(c.id);
    if (n !== undefined && pool.claim(n)) out.set(c.id, n);
    else if (c.wanted) {
      missing.push(c.id);
      owners.set(c.id, c.owner);
    }
  }
  if (!inGivenOrder) missing.sort();
  for (const id of missing) {
    const n = pool.next();
    if (n === undefined) {
      b.error('mapping.allocation-exhausted', id, `no free ${what} for ${id}`);
      b.hold(owners.get(id) ?? id, id, `no free ${what}`);
      continue;
    }
    out.set(id, n);
  }
  return out;
}

/** Computes the allocations for this view, keeping `previous` numbers where possible. */
export function allocate(
  idx: ViewIndex,
  previous: Allocations,
  config: MappingConfig,
  b: TopologyBuilder,
): Allocations {
  const routers: Candidate[] = [];
  for (const vpc of idx.vpcs) {
    routers.push({ id: vpc.id, owner: vpc.id, wanted: !b.held.has(vpc.id) });
    for (const nat of vpc.natGateways) {
      routers.push({ id: nat.id, owner: nat.id, wanted: !b.held.has(nat.id) });
    }
  }
  const maxRtid = Math.min(config.maxRtid, 32751);
  const rtPool = new Pool(
    PLAN.firstRtid,
    maxRtid,
    (n) => n >= PLAN.rtidSkipFrom && n <= PLAN.rtidSkipTo,
  );
  const routerIds = assign(routers, previous.routerIds, rtPool, b, 'router id', true);

  const enis: Candidate[] = idx.interfaces.map((e) => ({
    id: e.iface.id,
    owner: e.key,
    wanted: config.enableMidoMd && !e.held,
  }));
  const eniPool = new Pool(PLAN.firstEniid, Math.min(config.maxEniid, 16777216));
  const eniIds = assign(enis, previous.eniIds, eniPool, b, 'metadata id');

  const subnets: Candidate[] = [];
  for (const { subnet } of idx.subnets.values()) {
    subnets.push({ id: subnet.id, owner: subnet.id, wanted: !b.held.has(subnet.id) });
  }
  const vnis = assign(subnets, previous.vnis, new Pool(1, PLAN.maxVni + 1), b, 'VNI');
  return { routerIds, eniIds, vnis };
}
