/**
 * Op builders for the store conformance suite and the store tests that share its fixtures:
 * create/update/delete ops and ready-made objects of each kind (router, bridge, ports, chain,
 * rule, host). Re-exported by `store-conformance.ts`.
 */
import type { Kind, Op } from '../../src/store/index.js';

/** An object as sent in an op, typed loosely. */
export type Obj = Record<string, unknown>;

/** A create op (object typed loosely: tests also send invalid input on purpose). */
export function create(kind: Kind, object: Obj, position?: number): Op {
  const op = { op: 'create', kind, object } as unknown as Op;
  return position === undefined ? op : ({ ...op, position } as Op);
}
/** An update op. */
export function update(kind: Kind, object: Obj, expectedVersion?: number): Op {
  const op = { op: 'update', kind, object } as unknown as Op;
  return expectedVersion === undefined ? op : ({ ...op, expectedVersion } as Op);
}
/** A delete op. */
export function del(
  kind: Kind,
  id: string,
  extra: { ignoreMissing?: boolean; expectedVersion?: number } = {},
): Op {
  return { op: 'delete', kind, id, ...extra };
}

export const router = (id: string, extra: Obj = {}): Op =>
  create('router', { id, name: `router-${id}`, ...extra });
export const bridge = (id: string, extra: Obj = {}): Op =>
  create('bridge', { id, name: `bridge-${id}`, ...extra });
export const routerPort = (id: string, routerId: string, extra: Obj = {}): Op =>
  create('port', {
    id,
    type: 'Router',
    routerId,
    portAddress: '10.0.0.1',
    networkAddress: '10.0.0.0',
    networkLength: 24,
    portMac: 'AA:BB:CC:00:00:01',
    ...extra,
  });
export const bridgePort = (id: string, bridgeId: string, extra: Obj = {}): Op =>
  create('port', { id, type: 'Bridge', bridgeId, ...extra });
export const chain = (id: string, extra: Obj = {}): Op =>
  create('chain', { id, name: `chain-${id}`, ...extra });
export const rule = (id: string, chainId: string, extra: Obj = {}, position?: number): Op =>
  create('rule', { id, chainId, type: 'accept', ...extra }, position);
export const host = (id: string): Op =>
  create('host', { id, name: `host-${id}`, addresses: ['192.168.0.1'] });
