/**
 * The committed state of a store: per-kind maps of frozen objects, a name index for named
 * kinds, and a cached id-ordered list per kind (rebuilt by merging, not re-sorting, after
 * creates and deletes). Objects are shared with readers and never mutated.
 */
import { NAMED_KINDS } from './schema.js';
import { KINDS, type AnyObject, type Change, type Kind } from './types.js';

class KindTable {
  objects = new Map<string, AnyObject>();
  /** name → id, or ids when several objects share a name; built at the first `byName` (only
   * the API asks: a cold build and a load need not index 70,000 names nobody looks up). */
  private names: Map<string, string | string[]> | undefined;
  private sortedIds: string[] | null = null;
  private readonly dirtyIds = new Set<string>();
  private cachedList: readonly AnyObject[] | null = null;

  constructor(private readonly named: boolean) {}

  /** Inserts or replaces; `isNew` (the caller knows the id is absent) saves a lookup. */
  set(id: string, obj: AnyObject, isNew = false): void {
    const prev = isNew ? undefined : this.objects.get(id);
    // before the first list there is no order to maintain: list() sorts from scratch
    if (prev === undefined) {
      if (this.sortedIds !== null) this.dirtyIds.add(id);
    } else this.unindexName(prev);
    this.objects.set(id, obj);
    this.indexName(obj);
    this.cachedList = null;
  }

  /** Takes `objects` (not copied, not changed afterwards by whoever made it) as the table of
   * an empty kind. */
  adopt(objects: Map<string, AnyObject>): void {
    this.objects = objects;
    this.sortedIds = null;
    this.dirtyIds.clear();
    this.cachedList = null;
    this.names = undefined;
  }

  /** Removes every object. */
  clear(): void {
    this.objects.clear();
    this.names?.clear();
    this.sortedIds = null;
    this.dirtyIds.clear();
    this.cachedList = null;
  }

  delete(id: string): void {
    const prev = this.objects.get(id);
    if (prev === undefined) return;
    this.unindexName(prev);
    this.objects.delete(id);
    if (this.sortedIds !== null) this.dirtyIds.add(id);
    this.cachedList = null;
  }

  list(): readonly AnyObject[] {
    if (this.cachedList) return this.cachedList;
    const ids = this.sorted();
    const out = new Array<AnyObject>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.objects.get(ids[i]!)!;
    this.cachedList = Object.freeze(out);
    return this.cachedList;
  }

  /** The id-ordered list when it is cached (nothing changed since it was last made). */
  listIfCached(): readonly AnyObject[] | undefined {
    return this.cachedList ?? undefined;
  }

  byName(name: string): AnyObject | undefined {
    if (!this.named) return undefined;
    if (this.names === undefined) {
      this.names = new Map();
      for (const obj of this.objects.values()) this.indexName(obj);
    }
    const hit = this.names.get(name);
    if (hit === undefined) return undefined;
    if (typeof hit === 'string') return this.objects.get(hit);
    let min = hit[0]!;
    for (const id of hit) if (id < min) min = id;
    return this.objects.get(min);
  }

  private sorted(): string[] {
    if (this.sortedIds === null) {
      this.sortedIds = [...this.objects.keys()].sort();
      this.dirtyIds.clear();
      return this.sortedIds;
    }
    if (this.dirtyIds.size === 0) return this.sortedIds;
    const dirty = this.dirtyIds;
    const kept = this.sortedIds.filter((id) => !dirty.has(id));
    const added = [...dirty].filter((id) => this.objects.has(id)).sort();
    const merged = new Array<string>(kept.length + added.length);
    let i = 0,
      j = 0,
      k = 0;
    while (i < kept.length && j < added.length) {
      merged[k++] = kept[i]! < added[j]! ? kept[i++]! : added[j++]!;
    }
    while (i < kept.length) merged[k++] = kept[i++]!;
    while (j < added.length) merged[k++] = added[j++]!;
    dirty.clear();
    this.sortedIds = merged;
    return merged;
  }

  private indexName(obj: AnyObject): void {
    if (!this.names) return;
    const name = (obj as { name?: string }).name;
    if (name === undefined) return;
    const hit = this.names.get(name);
    if (hit === undefined) this.names.set(name, obj.id);
    else if (typeof hit === 'string') this.names.set(name, [hit, obj.id]);
    else hit.push(obj.id);
  }

  private unindexName(obj: AnyObject): void {
    if (!this.names) return;
    const name = (obj as { name?: string }).name;
    if (name === undefined) return;
    const hit = this.names.get(name);
    if (hit === undefined) return;
    if (typeof hit === 'string') {
      if (hit === obj.id) this.names.delete(name);
      return;
    }
    const rest = hit.filter((id) => id !== obj.id);
    this.names.set(name, rest.length === 1 ? rest[0]! : rest);
  }
}

/** The committed objects and revision of one store. */
export class StoreState {
  revision = 0;
  private readonly tables = new Map<Kind, KindTable>();

  constructor() {
    for (const kind of KINDS) this.tables.set(kind, new KindTable(NAMED_KINDS.has(kind)));
  }

  private table(kind: Kind): KindTable {
    const t = this.tables.get(kind);
    if (!t) throw new Error(`unknown kind ${String(kind)}`);
    return t;
  }

  /** The object, or undefined. */
  get(kind: Kind, id: string): AnyObject | undefined {
    return this.tables.get(kind)?.objects.get(id);
  }

  /** The map of one kind (read-only use). */
  objects(kind: Kind): ReadonlyMap<string, AnyObject> {
    return this.table(kind).objects;
  }

  /** All objects of a kind ordered by id (a shared frozen array). */
  list(kind: Kind): readonly AnyObject[] {
    return this.table(kind).list();
  }

  /** `list(kind)` when it is at hand without sorting, else undefined. */
  listIfCached(kind: Kind): readonly AnyObject[] | undefined {
    return this.table(kind).listIfCached();
  }

  /** The object with the smallest id among those named `name`. */
  getByName(kind: Kind, name: string): AnyObject | undefined {
    return this.table(kind).byName(name);
  }

  /** Number of objects of every kind. */
  count(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.objects.size;
    return n;
  }

  /** Inserts or replaces an object without any binding logic (loading, replay). */
  put(kind: Kind, obj: AnyObject): void {
    this.table(kind).set(obj.id, obj);
  }

  /** Applies the changes of one commit and sets the revision. A commit that deletes every
   * object of a kind (a flush) empties that kind's table at once. */
  apply(changes: readonly Change[], revision: number): void {
    const deletes = new Map<Kind, number>();
    for (const c of changes) {
      if (c.type === 'deleted') deletes.set(c.kind, (deletes.get(c.kind) ?? 0) + 1);
    }
    const emptied = new Set<Kind>();
    for (const [kind, n] of deletes) {
      const t = this.table(kind);
      if (n === t.objects.size) {
        t.clear();
        emptied.add(kind);
      }
    }
    for (const c of changes) {
      const t = this.table(c.kind);
      if (c.type === 'deleted') {
        if (!emptied.has(c.kind)) t.delete(c.id);
      } else t.set(c.id, c.object!, c.type === 'created');
    }
    this.revision = revision;
  }

  /** Applies a bulk create's commit (see `prepareBulkCreate`) and sets the revision: per kind,
   * the new objects become the table of a kind this state holds none of (adopted, not copied)
   * or are inserted; then the updated objects replace theirs. */
  applyCreated(
    created: ReadonlyMap<Kind, ReadonlyMap<string, AnyObject>>,
    updated: readonly Change[],
    revision: number,
  ): void {
    for (const [kind, objects] of created) {
      const t = this.table(kind);
      if (t.objects.size === 0) t.adopt(objects as Map<string, AnyObject>);
      else for (const [id, obj] of objects) t.set(id, obj, true);
    }
    for (const c of updated) this.table(c.kind).set(c.id, c.object!);
    this.revision = revision;
  }
}
