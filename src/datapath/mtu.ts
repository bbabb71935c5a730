/**
 * The MTU instances are offered by DHCP (option 26): what the underlay leaves once the VXLAN
 * encapsulation is added, never more than the instance links' 1500. A setting wins
 * (`--instance-mtu`); the default is derived from the MTU of the device holding the host's
 * underlay address.
 */
import type { CommandRunner } from './exec.js';

/** Bytes VXLAN over IPv4 adds to an Ethernet frame: outer IPv4 20, UDP 8, VXLAN 8 and the
 * inner Ethernet header 14. */
export const VXLAN_OVERHEAD = 50;

/** The largest MTU an instance link (a veth of 1500) carries. */
export const INSTANCE_LINK_MTU = 1500;

/** The instance MTU an underlay device MTU leaves. */
export function instanceMtuFor(underlayMtu: number): number {
  return Math.min(INSTANCE_LINK_MTU, underlayMtu - VXLAN_OVERHEAD);
}

/** The MTU of the device that holds `address` in this namespace (undefined: none holds it). */
export async function deviceMtuOf(
  run: CommandRunner,
  address: string,
): Promise<number | undefined> {
  const text = (await run(['ip', '-json', 'addr', 'show'])).trim();
  const links = (text === '' ? [] : JSON.parse(text)) as {
    mtu?: number;
    addr_info?: { family: string; local: string }[];
  }[];
  const link = links.find((l) =>
    l.addr_info?.some((a) => a.family === 'inet' && a.local === address),
  );
  return link?.mtu;
}
