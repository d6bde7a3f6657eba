/**
 * The `virtual_services` section read into services (virtual-service.ts), every problem named by
 * its path: the vip resource it serves, one address family, each real server once, a sorry
 * server that is none of them, one service per address, port and protocol, masquerade by the
 * backend that does it.
 */
import type { ConfigPath } from "../config/errors.js";
import type { ResourceDocument } from "./model-schema.js";
import { parseVipAddress } from "./vip-address.js";
import { readVipParams } from "./vip-params.js";
import {
  type Endpoint,
  formatEndpoint,
  type VirtualService,
  virtualServiceParams,
} from "./virtual-service.js";

type WrittenService = ResourceDocument["virtual_services"][string];

export interface ReadVirtualService {
  id: string;
  written: WrittenService;
  service: VirtualService;
  /** The director agent's parameters. */
  params: Record<string, string>;
}

/** The services without problems (the others are reported through `problem`). */
export function readVirtualServices(
  document: ResourceDocument,
  problem: (path: ConfigPath, message: string) => void,
): ReadVirtualService[] {
  const read: ReadVirtualService[] = [];
  const listening = new Map<string, string>();
  for (const [id, written] of Object.entries(document.virtual_services)) {
    const path = ["virtual_services", id];
    let problems = 0;
    const report = (at: ConfigPath, message: string) => {
      problems++;
      problem([...path, ...at], message);
    };
    const vip = vipAddressOf(document, written.vip);
    if ("error" in vip) {
      report(["vip"], vip.error);
      continue;
    }
    const sameFamily = (endpoint: Endpoint, at: ConfigPath) => {
      const family = endpoint.address.includes(":") ? 6 : 4;
      if (family !== vip.family)
        report(
          [...at, "address"],
          `${endpoint.address} is IPv${family} and the VIP ${vip.address} (${written.vip}) IPv${vip.family}: the director forwards within one family`,
        );
    };
    const seen = new Map<string, number>();
    written.real_servers.forEach((server, index) => {
      sameFamily(server, ["real_servers", index]);
      const key = endpointKey(server);
      const first = seen.get(key);
      if (first !== undefined)
        report(
          ["real_servers", index],
          `real server ${formatEndpoint(server)} is listed twice (real_servers[${first}] and real_servers[${index}]): list each server once, with its weight`,
        );
      else seen.set(key, index);
    });
    const sorry = written.sorry_server;
    if (sorry !== undefined) {
      sameFamily(sorry, ["sorry_server"]);
      const same = seen.get(endpointKey(sorry));
      if (same !== undefined)
        report(
          ["sorry_server"],
          `the sorry server ${formatEndpoint(sorry)} is real_servers[${same}]: it answers when no real server is healthy, so it must be another server`,
        );
    }
    if (written.masquerade && written.backend === "ipvs")
      report(
        ["masquerade"],
        "masquerade is done by the nftables backend: set backend: nftables or auto (auto takes nftables for a masqueraded service)",
      );
    const listen = { address: vip.address, port: written.port };
    const listenKey = `${written.protocol} ${endpointKey(listen)}`;
    const other = listening.get(listenKey);
    if (other !== undefined)
      report(
        ["port"],
        `virtual service ${other} already serves ${written.protocol} ${formatEndpoint(listen)}`,
      );
    else listening.set(listenKey, id);
    if (problems > 0) continue;
    const service: VirtualService = {
      family: vip.family,
      address: vip.address,
      port: written.port,
      protocol: written.protocol,
      scheduler: written.scheduler,
      realServers: written.real_servers.map((server) => ({
        address: server.address,
        port: server.port,
        weight: server.weight,
        ...(server.check === undefined ? {} : { check: server.check }),
      })),
      ...(sorry === undefined ? {} : { sorryServer: { address: sorry.address, port: sorry.port } }),
      masquerade: written.masquerade,
      backend: written.backend,
    };
    read.push({ id, written, service, params: virtualServiceParams(service) });
  }
  return read;
}

/** One spelling per endpoint: IPv6 has several for one address. */
function endpointKey(endpoint: Endpoint): string {
  const { family, value } = parseVipAddress(endpoint.address);
  return `${family}/${value}/${endpoint.port}`;
}

function vipAddressOf(
  document: ResourceDocument,
  vip: string,
): { address: string; family: 4 | 6 } | { error: string } {
  const resource = Object.hasOwn(document.resources, vip) ? document.resources[vip] : undefined;
  if (resource === undefined || resource.agent !== "vip")
    return {
      error: `no vip resource named ${vip}: a virtual service serves the address of a resource with agent: vip`,
    };
  try {
    const { vip: address } = readVipParams(
      Object.fromEntries(Object.entries(resource.params).map(([k, v]) => [k, String(v)])),
    );
    return { address: address.address, family: address.family };
  } catch {
    return { error: `${vip}'s address cannot be read: see resources.${vip}.params` };
  }
}
