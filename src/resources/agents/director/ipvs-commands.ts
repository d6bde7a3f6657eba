/**
 * The IPVS backend's `ipvsadm` commands, pure: from what the kernel holds (as this agent
 * programmed it) to what the rules want. Real servers are forwarded by masquerading (-m, LVS-NAT:
 * their port may differ from the service's); a server leaving the healthy set is deleted from the
 * service (its established connections stay in IPVS's table until they end), the sorry server
 * added in their place when none is left.
 */
import { formatEndpoint } from "../../../resource-model/virtual-service.js";
import type { DirectorRules, WeightedEndpoint } from "./director-rules.js";

export interface IpvsService {
  protocol: "tcp" | "udp";
  /** `198.18.0.100:80`, `[2001:db8::1]:80`. */
  service: string;
  scheduler: "rr" | "wrr" | "sh";
  servers: WeightedEndpoint[];
}

export function ipvsService(rules: DirectorRules): IpvsService {
  return {
    protocol: rules.protocol,
    service: formatEndpoint(rules),
    scheduler: rules.scheduler,
    servers: rules.targets,
  };
}

function serviceFlag(service: IpvsService): [string, string] {
  return [service.protocol === "tcp" ? "-t" : "-u", service.service];
}

/** The service deleted, with every real server of it (stop). */
export function ipvsDeleteCommand(service: Pick<IpvsService, "protocol" | "service">): string[] {
  return ["-D", ...serviceFlag(service as IpvsService)];
}

/**
 * The commands (ipvsadm's arguments) that take the kernel from `previous` (null: no such
 * service) to `next`, in an order that never leaves the service without a server it may keep.
 */
export function ipvsCommands(previous: IpvsService | null, next: IpvsService): string[][] {
  const flag = serviceFlag(next);
  const commands: string[][] = [];
  if (previous === null) commands.push(["-A", ...flag, "-s", next.scheduler]);
  else if (previous.scheduler !== next.scheduler)
    commands.push(["-E", ...flag, "-s", next.scheduler]);
  const before = new Map((previous?.servers ?? []).map((s) => [formatEndpoint(s), s.weight]));
  const after = new Set(next.servers.map((server) => formatEndpoint(server)));
  for (const server of next.servers) {
    const endpoint = formatEndpoint(server);
    const weight = before.get(endpoint);
    if (weight === undefined)
      commands.push(["-a", ...flag, "-r", endpoint, "-m", "-w", String(server.weight)]);
    else if (weight !== server.weight)
      commands.push(["-e", ...flag, "-r", endpoint, "-m", "-w", String(server.weight)]);
  }
  for (const endpoint of before.keys())
    if (!after.has(endpoint)) commands.push(["-d", ...flag, "-r", endpoint]);
  return commands;
}
