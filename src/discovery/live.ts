/**
 * The actual topology as a live view of an embedded store's committed objects, instead of a
 * copy: the maps of `discover` hold an entry per managed object (about 20 MiB at 10,000
 * instances) that the store already holds. The view reads the store's map of each kind and
 * leaves out objects that are not ours; it knows which those are (their ids, per kind) from the
 * last `discoverLive` or `refreshActual`, which is what keeps `size` exact without a scan.
 *
 * A live topology is current by itself: `refreshActual` only follows the change stream for
 * objects that are not ours. It sees the store's commits as they happen, so it suits a caller
 * that is the store's only writer between its reads and the plan made from them (the daemon),
 * not one that needs a fixed snapshot while it writes (a flush recovering allocations from what
 * it deletes): those use `discover`.
 */
import { isDerivedId } from '../common/index.js';
import { KINDS } from '../store/index.js';
import type { AnyObject, Kind, ObjectOf, TopologyReader } from '../store/index.js';
import { discover, type ActualTopology } from './discover.js';

/** A store that can hand out its committed maps. */
type LiveReader = TopologyReader &
  Required<Pick<TopologyReader, 'committedObjects'>> & { revision(): Promise<number> };

/** The managed objects of one kind of a store's committed map. */
class ManagedView<T extends AnyObject> implements ReadonlyMap<string, T> {
  constructor(
    private readonly source: () => ReadonlyMap<string, T>,
    /** Ids of this kind's objects that are not ours, as of the last refresh. */
    readonly foreign: Set<string>,
  ) {}

  get size(): number {
    return this.source().size - this.foreign.size;
  }

  get(id: string): T | undefined {
    return isDerivedId(id) ? this.source().get(id) : undefined;
  }

  has(id: string): boolean {
    return isDerivedId(id) && this.source().has(id);
  }

  *entries(): MapIterator<[string, T]> {
    for (const e of this.source()) if (isDerivedId(e[0])) yield e;
  }

  *keys(): MapIterator<string> {
    for (const id of this.source().keys()) if (isDerivedId(id)) yield id;
  }

  *values(): MapIterator<T> {
    for (const [id, o] of this.source()) if (isDerivedId(id)) yield o;
  }

  forEach(fn: (value: T, key: string, map: ReadonlyMap<string, T>) => void): void {
    for (const [id, o] of this.entries()) fn(o, id, this);
  }

  [Symbol.iterator](): MapIterator<[string, T]> {
    return this.entries();
  }
}

/** Whether the topology's maps are live views (see the header). */
export function isLive(actual: ActualTopology): boolean {
  return actual.objects.router instanceof ManagedView;
}

/** The foreign-id set of one kind of a live topology. */
export function foreignIds(actual: ActualTopology, kind: Kind): Set<string> {
  return (actual.objects[kind] as unknown as ManagedView<AnyObject>).foreign;
}

/**
 * Reads the managed topology as live views of the store's committed maps when the store has
 * them (embedded stores); otherwise (API client, etcd) as `discover` does.
 */
export async function discoverLive(store: TopologyReader): Promise<ActualTopology> {
  if (store.committedObjects === undefined) return discover(store);
  const live = store as LiveReader;
  const revision = await live.revision();
  const objects = {} as { [K in Kind]: ReadonlyMap<string, ObjectOf<K>> };
  let managed = 0;
  let unmanaged = 0;
  const unmanagedRules = new Map<string, string[]>();
  for (const kind of KINDS) {
    const source = (): ReadonlyMap<string, AnyObject> => live.committedObjects(kind);
    const foreign = new Set<string>();
    for (const [id, o] of source()) {
      if (isDerivedId(id)) continue;
      foreign.add(id);
      if (kind === 'rule') {
        const chainId = (o as ObjectOf<'rule'>).chainId;
        const list = unmanagedRules.get(chainId) ?? [];
        list.push(id);
        unmanagedRules.set(chainId, list);
      }
    }
    const view = new ManagedView(source, foreign);
    unmanaged += foreign.size;
    managed += view.size;
    (objects as Record<Kind, ReadonlyMap<string, AnyObject>>)[kind] = view;
  }
  // foreign rules in chain order (as `discover` lists them: by id)
  for (const list of unmanagedRules.values()) list.sort();
  return { objects, revision, managed, unmanaged, unmanagedRules };
}
