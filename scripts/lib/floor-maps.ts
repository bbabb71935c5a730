/**
 * The object part of a full pass's floor, shared by the mapping and first-cycle benches: as
 * many ids as `sizes` add up to, derived from rule-like keys (a shared prefix and a short
 * suffix, as `TopologyBuilder.rule` does), each with a small fresh object put into a map of its
 * kind. Nothing a pass could skip: no names, signatures, unit records or issues.
 */
import { type IdDeriver, type IdPrefix } from '../../src/common/index.js';

/** One map per entry of `sizes`, filled; `count` is the number of objects in all. */
export function floorMaps(
  d: IdDeriver,
  sizes: readonly number[],
): { maps: Map<string, object>[]; count: number } {
  const maps = sizes.map(() => new Map<string, object>());
  let n = 0;
  sizes.forEach((size, k) => {
    const map = maps[k]!;
    let prefix!: IdPrefix; // set at i = 0
    for (let i = 0; i < size; i++, n++) {
      if (i % 16 === 0) prefix = d.prefix(`rule:ic_i-${n.toString(16).padStart(8, '0')}_prechain:`);
      const id = d.deriveAfter(prefix, `s${i % 16}`);
      map.set(id, { id, owner: 'i-0', type: 'accept', dlType: 2048, nwProto: 6 });
    }
  });
  return { maps, count: n };
}
