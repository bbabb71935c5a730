/**
 * The metadata endpoint of the router host: the helper namespace holding the metadata
 * address, the metadata proxy process and the address → instance map it serves. Pure.
 */
import { join } from 'node:path';
import type { Issue } from '../common/index.js';
import type { Port, Router } from '../store/index.js';
import type { HostTopology } from './topology.js';
import { metadataNamespace, MD_MAP, MD_PROXY_LOG, MD_PROXY_PID } from './names.js';
import type {
  DesiredOptions,
  DesiredProcess,
  DesiredRouterLink,
  DesiredRouterNs,
} from './desired-types.js';
import { notRealized, routerLink } from './desired-helpers.js';

/** The metadata endpoint behind the metadata router's bound port: a helper namespace holding
 * 169.254.169.254 (veth to the router), the proxy process and its address → instance map. */
export function metadataEndpoint(
  topo: HostTopology,
  router: Router,
  rp: Port,
  routerNs: string,
  options: DesiredOptions,
  issues: Issue[],
):
  | {
      link: DesiredRouterLink;
      ns: DesiredRouterNs;
      processes: DesiredProcess[];
      files: { path: string; content: string }[];
    }
  | undefined {
  if (rp.portAddress === undefined || rp.networkLength === undefined) return undefined;
  const mdNs = metadataNamespace(options.netnsPrefix);
  const link: DesiredRouterLink = {
    ...routerLink(rp, ''),
    kind: 'nsveth',
    peerNs: mdNs,
    peerDev: 'md0',
  };
  const ns: DesiredRouterNs = {
    ns: mdNs,
    routerId: `metadata:${router.id}`,
    links: [
      {
        routerPortId: `metadata:${rp.id}`,
        kind: 'peer',
        hostDev: '',
        nsDev: 'md0',
        master: '',
        address: `${METADATA_IP}/${rp.networkLength}`,
      },
    ],
    routes: [{ type: 'unicast', dst: '255.0.0.0/8', via: rp.portAddress, dev: 'md0', metric: 0 }],
    neighbors: [],
  };
  const mapPath = join(options.stateDir, MD_MAP);
  const files = [{ path: mapPath, content: metadataMap(topo) }];
  if (!options.metadataProxy) {
    issues.push(notRealized(`port/${rp.id}`, 'metadata proxy (no proxy script)'));
    return { link, ns, processes: [], files };
  }
  const mp = options.metadataProxy;
  const pidPath = join(options.stateDir, MD_PROXY_PID);
  const cmdline = [
    mp.node,
    mp.script,
    '--listen',
    `${METADATA_IP}:80`,
    '--backend',
    mp.backend,
    '--map',
    mapPath,
    '--pid-file',
    pidPath,
  ];
  return {
    link,
    ns,
    files,
    processes: [
      {
        key: 'md-proxy',
        argv: ['ip', 'netns', 'exec', mdNs, ...cmdline],
        cmdline,
        pidPath,
        logPath: join(options.stateDir, MD_PROXY_LOG),
      },
    ],
  };
}

/** The metadata address the instances use. */
export const METADATA_IP = '169.254.169.254';

/**
 * The metadata map: metadata source address (255.0.0.n, the target of a VPC's metadata SNAT
 * rule) → interface (the rule's `eni` metadata) and instance id (the rule's owner when it is
 * an instance, else the interface id). JSON, sorted.
 */
export function metadataMap(topo: HostTopology): string {
  const out: Record<string, { interface: string; instanceId: string }> = {};
  const rules = [...topo.rules.values()].sort((a, b) => a.id.localeCompare(b.id));
  for (const r of rules) {
    if (r.type !== 'snat') continue;
    const addr = r.natTargets?.[0]?.addressFrom;
    const eni = r.metadata?.find((m) => m.key === 'eni')?.value;
    if (addr === undefined || eni === undefined || !addr.startsWith('255.')) continue;
    const owner = r.owner ?? '';
    out[addr] = { interface: eni, instanceId: owner.startsWith('i-') ? owner : eni };
  }
  return JSON.stringify(out, null, 1) + '\n';
}
