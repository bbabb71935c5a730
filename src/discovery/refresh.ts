/**
 * Keeping an actual topology current between cycles through the store's change stream (work
 * grows with the number of changes, not with the topology).
 */
import { isDerivedId } from '../common/index.js';
import { isStoreError } from '../store/index.js';
import type { AnyObject, ChangeEvent, Kind, TopologyReader } from '../store/index.js';
import { discover, type ActualTopology } from './discover.js';
import { discoverLive, foreignIds, isLive } from './live.js';

type Watchable = TopologyReader & {
  watch(from: number, signal?: AbortSignal): AsyncIterable<ChangeEvent>;
};

/**
 * Brings a previously discovered topology up to the store's current revision by replaying the
 * store's change stream. `previous` is consumed: its maps are updated in place (a live one's
 * maps are current already: only its record of objects that are not ours is). Falls back to a
 * full read (`discover`, or `discoverLive` for a live one) when the store no longer keeps the
 * history.
 */
export async function refreshActual(
  store: Watchable,
  previous: ActualTopology,
): Promise<ActualTopology> {
  const target = await store.revision();
  if (target === previous.revision) return previous;
  if (isLive(previous)) return refreshLive(store, previous, target);
  const objects = previous.objects as { [K in Kind]: Map<string, AnyObject> };
  const unmanagedRules = previous.unmanagedRules as Map<string, string[]>;
  let managed = previous.managed;
  let unmanaged = previous.unmanaged;
  let revision = previous.revision;
  const abort = new AbortController();
  try {
    for await (const event of store.watch(previous.revision, abort.signal)) {
      for (const c of event.changes) {
        if (!isDerivedId(c.id)) {
          if (c.kind === 'rule') return await discover(store); // keep foreign-rule order exact
          if (c.type === 'created') unmanaged++;
          else if (c.type === 'deleted') unmanaged--;
          continue;
        }
        const map = objects[c.kind];
        if (c.type === 'deleted') {
          if (map.delete(c.id)) managed--;
        } else if (c.object) {
          if (!map.has(c.id)) managed++;
          map.set(c.id, c.object);
        }
      }
      revision = event.revision;
      if (revision >= target) break;
    }
  } catch (e) {
    if (isStoreError(e)) return discover(store); // history compacted or stream broken: re-read
    throw e;
  } finally {
    abort.abort();
  }
  return { objects: previous.objects, revision, managed, unmanaged, unmanagedRules };
}

/** `refreshActual` of a live topology: only objects that are not ours need following. */
async function refreshLive(
  store: Watchable,
  previous: ActualTopology,
  target: number,
): Promise<ActualTopology> {
  let revision = previous.revision;
  let unmanaged = previous.unmanaged;
  const abort = new AbortController();
  try {
    for await (const event of store.watch(previous.revision, abort.signal)) {
      for (const c of event.changes) {
        if (isDerivedId(c.id)) continue; // the view reads the store's map: nothing to do
        if (c.kind === 'rule') return await discoverLive(store); // keep foreign-rule order exact
        const foreign = foreignIds(previous, c.kind);
        if (c.type === 'created' && !foreign.has(c.id)) {
          foreign.add(c.id);
          unmanaged++;
        } else if (c.type === 'deleted' && foreign.delete(c.id)) unmanaged--;
      }
      revision = event.revision;
      if (revision >= target) break;
    }
  } catch (e) {
    if (isStoreError(e)) return discoverLive(store); // history compacted or stream broken
    throw e;
  } finally {
    abort.abort();
  }
  let managed = 0;
  for (const kind of Object.keys(previous.objects) as Kind[])
    managed += previous.objects[kind].size;
  return { ...previous, revision, managed, unmanaged };
}
