/**
 * Finds a network interface's IPv4 address and broadcast address, for mcast (which address to
 * join the group on) and bcast (where to send). `interfaces` defaults to the host's, so tests
 * can pass a fixed table.
 */
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";

export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export interface InterfaceIpv4 {
  interfaceName: string;
  address: string;
  netmask: string;
  /** Directed broadcast address of the interface's subnet. */
  broadcast: string;
}

/**
 * The interface's first IPv4 address; throws naming the interface and what the host has. The
 * host's table (libuv) leaves out interfaces that are down or have no carrier.
 */
export function interfaceIpv4(
  interfaceName: string,
  interfaces: InterfaceTable = networkInterfaces(),
): InterfaceIpv4 {
  const addresses = interfaces[interfaceName];
  if (addresses === undefined) {
    const known = Object.keys(interfaces).sort().join(", ") || "none";
    throw new Error(
      `interface ${interfaceName} not found or not running (interfaces up: ${known})`,
    );
  }
  const ipv4 = addresses.find((info) => info.family === "IPv4");
  if (ipv4 === undefined) throw new Error(`interface ${interfaceName} has no IPv4 address`);
  return describe(interfaceName, ipv4);
}

/** The interface that holds `address`, or undefined when no interface of this host does. */
export function interfaceWithAddress(
  address: string,
  interfaces: InterfaceTable = networkInterfaces(),
): InterfaceIpv4 | undefined {
  for (const [name, infos] of Object.entries(interfaces)) {
    const match = infos?.find((info) => info.family === "IPv4" && info.address === address);
    if (match !== undefined) return describe(name, match);
  }
  return undefined;
}

function describe(interfaceName: string, info: NetworkInterfaceInfo): InterfaceIpv4 {
  return {
    interfaceName,
    address: info.address,
    netmask: info.netmask,
    broadcast: broadcastAddress(info.address, info.netmask),
  };
}

/** address | ~netmask, e.g. 198.18.1.7 / 255.255.255.0 → 198.18.1.255. */
export function broadcastAddress(address: string, netmask: string): string {
  const host = ipv4ToNumber(address);
  const mask = ipv4ToNumber(netmask);
  return numberToIpv4((host | ~mask) >>> 0);
}

/** True for 224.0.0.0/4. */
export function isMulticastAddress(address: string): boolean {
  return ipv4ToNumber(address) >>> 28 === 0xe;
}

export function ipv4ToNumber(address: string): number {
  const parts = address.split(".");
  if (parts.length !== 4) throw new Error(`not an IPv4 address: ${address}`);
  let value = 0;
  for (const part of parts) {
    const octet = /^\d{1,3}$/.test(part) ? Number(part) : Number.NaN;
    if (!(octet >= 0 && octet <= 255)) throw new Error(`not an IPv4 address: ${address}`);
    value = value * 256 + octet;
  }
  return value;
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join(".");
}
