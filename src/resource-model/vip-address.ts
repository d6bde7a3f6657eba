/** Virtual IP addresses: parsing `address` (IPv4 or IPv6, optional /prefix) and subnet tests. */
import { isIPv4, isIPv6 } from "node:net";

export interface VipAddress {
  family: 4 | 6;
  /** As the operator wrote it, without the prefix. */
  address: string;
  prefixLength: number;
  /** Numeric value, to compare spellings of one IPv6 address (`::1` and `0:0::1`). */
  value: bigint;
}

export function parseVipAddress(text: string): VipAddress {
  const [address = "", prefix, extra] = text.trim().split("/");
  if (extra !== undefined) throw new Error(`address "${text}" has more than one "/"`);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined) {
    throw new Error(`address "${text}" is not an IPv4 or IPv6 address (e.g. 192.0.2.10/24)`);
  }
  if (address.includes("%")) throw new Error(`address "${text}" must not carry a zone (%iface)`);
  const maxPrefix = family === 4 ? 32 : 128;
  let prefixLength = maxPrefix;
  if (prefix !== undefined) {
    prefixLength = /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
    if (!(prefixLength >= 1 && prefixLength <= maxPrefix)) {
      throw new Error(`address "${text}": prefix must be 1..${maxPrefix}`);
    }
  }
  return { family, address, prefixLength, value: addressValue(address, family) };
}

export function addressValue(address: string, family: 4 | 6): bigint {
  if (family === 4) {
    return address.split(".").reduce((sum, octet) => (sum << 8n) | BigInt(Number(octet)), 0n);
  }
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const value = addressValue(v4[1], 4);
    text = `${text.slice(0, v4.index)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headParts.length - tailParts.length;
  const parts = [
    ...headParts,
    ...Array<string>(tail === undefined ? 0 : missing).fill("0"),
    ...tailParts,
  ];
  return parts.reduce((sum, part) => (sum << 16n) | BigInt(Number.parseInt(part, 16)), 0n);
}

/** Whether `candidate` lies in the subnet `network`/`prefixLength` (same family assumed). */
export function subnetContains(
  network: bigint,
  prefixLength: number,
  candidate: bigint,
  family: 4 | 6,
): boolean {
  const bits = family === 4 ? 32n : 128n;
  const hostBits = bits - BigInt(prefixLength);
  return network >> hostBits === candidate >> hostBits;
}
