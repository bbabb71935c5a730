/**
 * Mapping CPU per change kind (issue 20, change propagation of VPC changes): on a generated
 * view (L by default, the realistic gateways), each kind of change is applied and taken back
 * `--runs` times (one VPC's route added/removed, NAT gateway added/removed, subnet
 * added/removed, a subnet's route table association changed, a network ACL entry
 * added/removed, an internet gateway attached/detached, a VPC's DHCP option set changed, a VPC
 * added/removed, and one instance added/removed for reference), each pass patched from the
 * previous result (`mapTopology(…, previous)`) with views sharing their unchanged entities
 * (contract C1), and the process CPU time of each pass measured. With `--before <dir>` the
 * same passes also run, alternating pass by pass in the same process, on the mapping of
 * another checkout (`<dir>/src/mapping/index.ts`, e.g. unpacked with `git archive <commit>
 * src | tar -x -C <dir>`): before/after ratios from one run on one machine. The last result of
 * each kind is checked against a full recompute.
 * Usage: npx tsx scripts/bench-mapping-kinds.ts [--size S|M|L|XL|25k] [--seed N] [--runs N]
 *          [--before DIR] [--only kind,kind]
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GlobalView, Vpc } from '../src/gni/index.js';
import * as current from '../src/mapping/index.js';
import { wasPropagated as currentPropagated } from '../src/mapping/map-topology.js';
import type { MappingResult } from '../src/mapping/index.js';
import { KINDS } from '../src/store/index.js';
import { generateView, type Size } from './lib/gni-generator.js';
import { addInstanceLike } from './lib/view-edits.js';
import { arg } from './lib/bench-cli.js';

/** What a mapping module offers the bench. */
interface Mapping {
  readonly name: string;
  readonly map: typeof current.mapTopology;
  readonly propagated: (r: MappingResult) => boolean;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpuMs(c: NodeJS.CpuUsage): number {
  return (c.user + c.system) / 1000;
}

function replaceVpc(view: GlobalView, x: Vpc, by: Vpc | undefined): GlobalView {
  const vpcs =
    by === undefined ? view.vpcs.filter((v) => v !== x) : view.vpcs.map((v) => (v === x ? by : v));
  return { ...view, vpcs };
}

/** The changes: each gives the edited view of `base` (taking it back is `base` again). */
function kinds(base: GlobalView): [string, GlobalView][] {
  const mid = Math.floor(base.vpcs.length / 2);
  // a VPC in the middle with a NAT gateway, two subnets and an internet gateway
  const x =
    base.vpcs.slice(mid).find((v) => v.natGateways.length > 0 && v.subnets.length > 1) ??
    base.vpcs[mid]!;
  const igw = x.internetGateways[0];
  const table = x.routeTables[0]!;
  const withRoute = (v: Vpc, route: Vpc['routeTables'][number]['routes'][number]): Vpc => ({
    ...v,
    routeTables: v.routeTables.map((t) =>
      t === table ? { ...t, routes: [...t.routes, route] } : t,
    ),
  });
  const s0 = x.subnets[0]!;
  const net = (s0.cidr ?? '10.0.0.0/24').split('/')[0]!.split('.').slice(0, 3).join('.');
  const natId = 'nat-bench0001';
  const acl = x.networkAcls[0]!;
  const emptySubnet = `${(x.cidr ?? '10.0.0.0/16').split('.').slice(0, 2).join('.')}.250.0/24`;
  const other = x.routeTables.find((t) => t.id !== s0.routeTable)?.id ?? 'rtb-bench0001';
  const dopt = base.dhcpOptionSets.find((d) => d.id !== x.dhcpOptionSet)?.id;
  const template = base.instances[Math.floor(base.instances.length / 2)]!;
  const copy: Vpc = {
    ...x,
    id: 'vpc-bench0001',
    cidr: '172.31.0.0/16',
    subnets: x.subnets.map((s, k) => ({
      ...s,
      id: `subnet-bench00${k}`,
      cidr: `172.31.${k}.0/24`,
    })),
    routeTables: x.routeTables.map((t) => ({ ...t, routes: [] })),
    natGateways: [],
  };
  const at = mid + 1;
  return [
    [
      'route added/removed',
      replaceVpc(
        base,
        x,
        withRoute(x, {
          destinationCidr: '172.30.0.0/16',
          ...(igw === undefined ? {} : { gatewayId: igw }),
          target: { type: 'internetGateway', id: igw ?? 'igw-none' },
        }),
      ),
    ],
    [
      'NAT gateway added/removed (with a route)',
      replaceVpc(
        base,
        x,
        withRoute(
          {
            ...x,
            natGateways: [
              ...x.natGateways,
              {
                id: natId,
                macAddress: 'd0:0d:be:00:00:01',
                publicIp: '203.0.113.77',
                privateIp: `${net}.251`,
                vpc: x.id,
                subnet: s0.id,
              },
            ],
          },
          {
            destinationCidr: '172.29.0.0/16',
            natGatewayId: natId,
            target: { type: 'natGateway', id: natId },
          },
        ),
      ),
    ],
    [
      'subnet added/removed',
      replaceVpc(base, x, {
        ...x,
        subnets: [...x.subnets, { ...s0, id: 'subnet-bench0001', cidr: emptySubnet }],
      }),
    ],
    [
      'subnet route table changed',
      replaceVpc(base, x, {
        ...x,
        subnets: x.subnets.map((s) => (s === s0 ? { ...s, routeTable: other } : s)),
      }),
    ],
    [
      'network ACL entry added/removed',
      replaceVpc(base, x, {
        ...x,
        networkAcls: x.networkAcls.map((a) =>
          a === acl
            ? {
                ...a,
                ingressEntries: [
                  ...a.ingressEntries,
                  {
                    number: 77,
                    protocol: 6,
                    action: 'deny',
                    cidr: '10.99.0.0/16',
                    portRangeFrom: 25,
                    portRangeTo: 25,
                  },
                ],
              }
            : a,
        ),
      }),
    ],
    [
      'internet gateway attached/detached',
      {
        ...replaceVpc(base, x, {
          ...x,
          internetGateways: [...x.internetGateways, 'igw-bench0001'],
        }),
        internetGateways: [...base.internetGateways, { id: 'igw-bench0001' }],
      },
    ],
    [
      "VPC's DHCP option set changed",
      replaceVpc(
        base,
        x,
        dopt === undefined
          ? { ...x, dhcpOptionSet: 'dopt-missing' }
          : { ...x, dhcpOptionSet: dopt },
      ),
    ],
    [
      'VPC added/removed',
      { ...base, vpcs: [...base.vpcs.slice(0, at), copy, ...base.vpcs.slice(at)] },
    ],
    ['one instance added/removed', addInstanceLike(base, template, 'be000001', 250).view],
  ];
}

/** Same objects (by id, per kind). */
function sameTopology(a: MappingResult, b: MappingResult): boolean {
  for (const k of KINDS) {
    const ma = a.desired[k] as ReadonlyMap<string, unknown>;
    const mb = b.desired[k] as ReadonlyMap<string, unknown>;
    if (ma.size !== mb.size) return false;
    for (const [id, o] of ma) if (JSON.stringify(o) !== JSON.stringify(mb.get(id))) return false;
  }
  return true;
}

async function main(): Promise<void> {
  const size = arg('size', 'L') as Size | '25k';
  const runs = Number(arg('runs', '10'));
  const before = arg('before', '');
  const only = arg('only', '');
  const which = size === '25k' ? { instances: 25_000 } : { size };
  const view = generateView({ ...which, seed: Number(arg('seed', '1')), gateways: 'shared-peer' });
  const load = (): string =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(
    `machine: ${cpus().length} cpus (${cpus()[0]?.model}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(
    `view: ${size}, ${view.vpcs.length} VPCs, ${view.instances.length} instances; load average at start: ${load()}`,
  );
  const impls: Mapping[] = [
    { name: 'now', map: current.mapTopology, propagated: currentPropagated },
  ];
  if (before !== '') {
    const dir = resolve(before);
    const mod = (await import(pathToFileURL(`${dir}/src/mapping/index.ts`).href)) as typeof current;
    const mt = (await import(pathToFileURL(`${dir}/src/mapping/map-topology.ts`).href)) as {
      wasPropagated: (r: MappingResult) => boolean;
    };
    impls.unshift({ name: 'before', map: mod.mapTopology, propagated: mt.wasPropagated });
  }
  const cfg = current.DEFAULT_MAPPING_CONFIG;
  const prev = impls.map((m) => m.map(view, current.emptyAllocations(), cfg));
  // one patch of the same view each first: the propagation state is built then, not timed
  impls.forEach((m, i) => (prev[i] = m.map({ ...view }, prev[i]!.allocations, cfg, prev[i])));
  const rows: string[] = [];
  for (const [name, edited] of kinds(view)) {
    if (only !== '' && !only.split(',').some((o) => name.startsWith(o))) continue;
    const cpu = impls.map(() => [] as number[]);
    const prop = impls.map(() => 0);
    for (let r = 0; r < 2 * runs; r++) {
      const v = r % 2 === 0 ? edited : view;
      impls.forEach((m, i) => {
        const c = process.cpuUsage();
        const out = m.map(v, prev[i]!.allocations, cfg, prev[i]);
        cpu[i]!.push(cpuMs(process.cpuUsage(c)));
        if (m.propagated(out)) prop[i]!++;
        prev[i] = out;
      });
    }
    const last = prev[impls.length - 1]!;
    const equal = sameTopology(last, current.mapTopology(view, last.allocations, cfg));
    const cells = impls.map(
      (m, i) =>
        `${m.name} CPU median ${median(cpu[i]!).toFixed(2)} ms (propagated ${prop[i]}/${2 * runs})`,
    );
    const ratio =
      impls.length === 2 ? `; ${(median(cpu[0]!) / median(cpu[1]!)).toFixed(1)}x less CPU` : '';
    const row = `${name}: ${cells.join(', ')}${ratio}; equal to a full recompute: ${equal}; load ${load()}`;
    rows.push(row);
    console.log(row);
  }
  console.log(`load average at end: ${load()}`);
}

await main();
