/**
 * Small builders shared by the desired-state modules: the link of a router port and the
 * `not_realized` warning. Pure.
 */
import type { Issue } from '../common/index.js';
import type { Port } from '../store/index.js';
import { routerLinkHostDev, routerLinkNsDev } from './names.js';
import type { DesiredRouterLink } from './desired-types.js';

/** Builds the (veth) link of router port `rp`, its host end enslaved to the bridge `master`. */
export function routerLink(rp: Port, master: string): DesiredRouterLink {
  return {
    routerPortId: rp.id,
    hostDev: routerLinkHostDev(rp.id),
    nsDev: routerLinkNsDev(rp.id),
    master,
    ...(rp.portMac !== undefined ? { mac: rp.portMac.toLowerCase() } : {}),
    ...(rp.portAddress !== undefined && rp.networkLength !== undefined
      ? { address: `${rp.portAddress}/${rp.networkLength}` }
      : {}),
  };
}

/** Builds the warning for an object (`path`) the agent does not realize yet. */
export function notRealized(path: string, what: string): Issue {
  return {
    path,
    code: 'not_realized',
    message: `${what} not realized by the agent yet`,
    severity: 'warning',
  };
}
