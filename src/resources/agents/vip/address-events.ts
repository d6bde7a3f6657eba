import { parseVipAddress, type VipAddress } from "../../../resource-model/vip-address.js";
import { readVipParams } from "../../../resource-model/vip-params.js";

/** An address the kernel removed from an interface, as `ip -o monitor address` tells it. */
export interface RemovedAddress {
  device: string;
  family: 4 | 6;
  /** As `ip` prints it, without the prefix. */
  address: string;
  /** Numeric value, to compare with a VIP however either spells it. */
  value: bigint;
}

// "Deleted 3: eth0    inet 198.18.0.100/24 scope global secondary eth0\       valid_lft ..."
const DELETED = /^Deleted\s+\d+:\s+(\S+)\s+(inet6?)\s+([0-9A-Fa-f.:]+)\/\d{1,3}\s/;

/**
 * The address a line of `ip -o monitor address` says was removed; null for any other line (an
 * address added, a line cut short, something `ip` may print in a later version).
 */
export function parseRemovedAddress(line: string): RemovedAddress | null {
  const match = DELETED.exec(line);
  if (match === null) return null;
  const [, device = "", kind, address = ""] = match;
  let parsed: VipAddress;
  try {
    parsed = parseVipAddress(address);
  } catch {
    return null;
  }
  if (parsed.family !== (kind === "inet" ? 4 : 6)) return null;
  // "eth0@if12" is how a veth's device is named here; the interface itself is "eth0".
  return {
    device: device.split("@")[0] ?? device,
    family: parsed.family,
    address,
    value: parsed.value,
  };
}

/** Whether `removed` is the address of a `vip` resource with these parameters. */
export function removesVip(
  removed: RemovedAddress,
  params: Readonly<Record<string, string>>,
): boolean {
  let config: ReturnType<typeof readVipParams>;
  try {
    config = readVipParams(params);
  } catch {
    return false;
  }
  const { vip, interfaceName } = config;
  return (
    vip.family === removed.family &&
    vip.value === removed.value &&
    (interfaceName === undefined || interfaceName === removed.device)
  );
}
