/** The parts of `ip -j addr show` output the vip agent reads, checked rather than trusted. */

export interface InterfaceAddresses {
  name: string;
  up: boolean;
  addresses: {
    family: 4 | 6;
    local: string;
    prefixLength: number;
    /** IPv6 duplicate address detection found another owner. */
    dadFailed: boolean;
  }[];
}

export function parseIpAddrJson(stdout: string): InterfaceAddresses[] {
  const parsed: unknown = JSON.parse(stdout === "" ? "[]" : stdout);
  if (!Array.isArray(parsed)) throw new Error("`ip -j addr show` did not print a JSON array");
  const interfaces: InterfaceAddresses[] = [];
  for (const entry of parsed) {
    // `ip` prints an empty object for interfaces filtered out by the query.
    if (typeof entry !== "object" || entry === null || typeof entry.ifname !== "string") continue;
    const flags: unknown[] = Array.isArray(entry.flags) ? entry.flags : [];
    const addrInfo: unknown[] = Array.isArray(entry.addr_info) ? entry.addr_info : [];
    interfaces.push({
      name: entry.ifname,
      up: flags.includes("UP"),
      addresses: addrInfo.flatMap((info) => {
        if (typeof info !== "object" || info === null) return [];
        const { family, local, prefixlen, dadfailed } = info as Record<string, unknown>;
        if (typeof local !== "string" || typeof prefixlen !== "number") return [];
        if (family !== "inet" && family !== "inet6") return [];
        return [
          {
            family: family === "inet" ? (4 as const) : (6 as const),
            local,
            prefixLength: prefixlen,
            dadFailed: dadfailed === true,
          },
        ];
      }),
    });
  }
  return interfaces;
}
