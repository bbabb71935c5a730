/**
 * Discovery: read every object the controller manages from a store. An object is ours when
 * its id was derived by `derivedId` (version-8 UUID with our marker); everything else (made
 * by hand, by another tool, through the API without an id) is never read as ours.
 */
import { isDerivedId } from '../common/index.js';
import { KINDS } from '../store/index.js';
import type { AnyObject, Kind, ObjectOf, TopologyReader } from '../store/index.js';

/** Managed objects by kind, keyed by id, plus what else discovery saw. */
export interface ActualTopology {
  readonly objects: { readonly [K in Kind]: ReadonlyMap<string, ObjectOf<K>> };
  /** Store revision read before listing (a lower bound of what the lists reflect). */
  readonly revision: number;
  /** Number of managed objects. */
  readonly managed: number;
  /** Number of objects seen that are not ours (left alone). */
  readonly unmanaged: number;
  /** Ids of rules that are not ours, per chain id (kept in place when reordering). */
  readonly unmanagedRules: ReadonlyMap<string, readonly string[]>;
}

/** Reads every managed object from the store (one `list` per kind). */
export async function discover(store: TopologyReader): Promise<ActualTopology> {
  const revision = await store.revision();
  const lists = await Promise.all(KINDS.map((kind) => store.list(kind)));
  const objects = {} as { [K in Kind]: Map<string, ObjectOf<K>> };
  let managed = 0;
  let unmanaged = 0;
  const unmanagedRules = new Map<string, string[]>();
  KINDS.forEach((kind, i) => {
    const map = new Map<string, AnyObject>();
    for (const o of lists[i]!) {
      if (isDerivedId(o.id)) {
        map.set(o.id, o);
        managed++;
      } else {
        unmanaged++;
        if (kind === 'rule') {
          const chainId = (o as ObjectOf<'rule'>).chainId;
          const list = unmanagedRules.get(chainId) ?? [];
          list.push(o.id);
          unmanagedRules.set(chainId, list);
        }
      }
    }
    (objects as Record<Kind, Map<string, AnyObject>>)[kind] = map;
  });
  return { objects, revision, managed, unmanaged, unmanagedRules };
}

/** Iterates every managed object of an actual topology. */
export function* allObjects(actual: ActualTopology): Iterable<AnyObject> {
  for (const kind of KINDS) yield* actual.objects[kind].values();
}

/** An empty actual topology (nothing managed yet). */
export function emptyActual(): ActualTopology {
  const objects = {} as { [K in Kind]: Map<string, ObjectOf<K>> };
  for (const kind of KINDS) (objects as Record<Kind, Map<string, AnyObject>>)[kind] = new Map();
  return { objects, revision: 0, managed: 0, unmanaged: 0, unmanagedRules: new Map() };
}
