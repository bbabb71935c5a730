/**
 * Ids shared across the kinds that own topology (see `sharedIds`); part of the cross-entity
 * validation in references.ts.
 */
import { paths } from './build-entities.js';
import type { BuildContext } from './build-context.js';
import type { ViewParts } from './references.js';
import { entityKey, type EntityKind } from './types.js';

/** Ids the mapping's owners are named by: `core`, `md` and `hosts` are the mapping's own. */
export const RESERVED_IDS: ReadonlySet<string> = new Set(['core', 'md', 'hosts']);

/**
 * One id for entities of two kinds among those that own topology (VPC, subnet, NAT gateway,
 * instance, network interface, security group), or a reserved id: every entity with it is
 * invalid (`duplicate-id`), as a repeated id of one kind is: their objects would share an owner.
 * An instance and its own primary interface may not share an id either. Returns the kind of
 * each id (the first one seen; on a clean view, its only one).
 */
export function sharedIds(view: ViewParts, ctx: BuildContext): Map<string, EntityKind> {
  // First the kind of each id only: a clean view (the usual case) shares none, and needs no
  // path strings or lists of uses.
  const kindOf = new Map<string, EntityKind>();
  const shared = new Set<string>();
  const note = (kind: EntityKind, id: string): void => {
    const k = kindOf.get(id);
    if (k === undefined) {
      kindOf.set(id, kind);
      if (RESERVED_IDS.has(id)) shared.add(id);
    } else if (k !== kind) shared.add(id);
  };
  for (const vpc of view.vpcs) {
    note('vpc', vpc.id);
    for (const x of vpc.subnets) note('subnet', x.id);
    for (const n of vpc.natGateways) note('natGateway', n.id);
  }
  for (const inst of view.instances) {
    note('instance', inst.id);
    for (const eni of inst.networkInterfaces) note('networkInterface', eni.id);
  }
  for (const sg of view.securityGroups) note('securityGroup', sg.id);
  if (shared.size > 0) reportShared(view, shared, ctx);
  return kindOf;
}

/** Reports every use of the `shared` ids, in the order the ids are first used. */
function reportShared(view: ViewParts, shared: ReadonlySet<string>, ctx: BuildContext): void {
  const uses = new Map<string, [EntityKind, string][]>();
  const use = (kind: EntityKind, id: string, path: () => string): void => {
    if (!shared.has(id)) return;
    const list = uses.get(id);
    if (list === undefined) uses.set(id, [[kind, path()]]);
    else list.push([kind, path()]);
  };
  for (const vpc of view.vpcs) {
    use('vpc', vpc.id, () => paths.vpc(vpc.id));
    for (const x of vpc.subnets)
      use('subnet', x.id, () => paths.child(vpc.id, 'subnets', 'subnet', x.id));
    for (const n of vpc.natGateways)
      use('natGateway', n.id, () => paths.child(vpc.id, 'natGateways', 'natGateway', n.id));
  }
  for (const inst of view.instances) {
    use('instance', inst.id, () => paths.instance(inst.id));
    for (const eni of inst.networkInterfaces)
      use('networkInterface', eni.id, () => paths.eni(inst.id, eni.id));
  }
  for (const sg of view.securityGroups) use('securityGroup', sg.id, () => paths.sg(sg.id));
  for (const [id, list] of uses) {
    const kinds = new Set(list.map(([k]) => k));
    const what = RESERVED_IDS.has(id)
      ? `${id} is a name the mapping reserves`
      : `${id} is the id of a ${[...kinds].join(' and a ')}`;
    for (const [kind, path] of list) {
      ctx.bad(entityKey(kind, id), path, 'duplicate-id', `${what}; held until one is renamed`);
    }
  }
}
