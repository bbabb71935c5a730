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
 * An instance and its own primary interface may not share an id either.
 */
export function sharedIds(view: ViewParts, ctx: BuildContext): void {
  const uses = new Map<string, [EntityKind, string][]>();
  const use = (kind: EntityKind, id: string, path: string): void => {
    const list = uses.get(id);
    if (list === undefined) uses.set(id, [[kind, path]]);
    else list.push([kind, path]);
  };
  for (const vpc of view.vpcs) {
    use('vpc', vpc.id, paths.vpc(vpc.id));
    for (const x of vpc.subnets)
      use('subnet', x.id, paths.child(vpc.id, 'subnets', 'subnet', x.id));
    for (const n of vpc.natGateways)
      use('natGateway', n.id, paths.child(vpc.id, 'natGateways', 'natGateway', n.id));
  }
  for (const inst of view.instances) {
    use('instance', inst.id, paths.instance(inst.id));
    for (const eni of inst.networkInterfaces)
      use('networkInterface', eni.id, paths.eni(inst.id, eni.id));
  }
  for (const sg of view.securityGroups) use('securityGroup', sg.id, paths.sg(sg.id));
  for (const [id, list] of uses) {
    const kinds = new Set(list.map(([k]) => k));
    if (kinds.size < 2 && !RESERVED_IDS.has(id)) continue;
    const what = RESERVED_IDS.has(id)
      ? `${id} is a name the mapping reserves`
      : `${id} is the id of a ${[...kinds].join(' and a ')}`;
    for (const [kind, path] of list) {
      ctx.bad(entityKey(kind, id), path, 'duplicate-id', `${what}; held until one is renamed`);
    }
  }
}
