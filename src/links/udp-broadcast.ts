/**
 * bcast: each frame is sent once to the directed broadcast address of the node's interface
 * (e.g. 198.18.1.255), so every host on that subnet hears it. Our own frames loop back too; the
 * wire filter drops them as from_self.
 */
import type { LinkNode } from "./attachments.js";
import {
  attachedPeers,
  type BcastLinkConfig,
  groupDestinations,
  localAttachment,
  udpPort,
} from "./attachments.js";
import { receiveAddress } from "./bind-address.js";
import { explainSystemError, LinkError } from "./errors.js";
import { type InterfaceIpv4, interfaceIpv4, interfaceWithAddress } from "./interfaces.js";
import { UdpLink } from "./udp-link.js";

export function createBroadcastLink(
  link: BcastLinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
  platform: NodeJS.Platform = process.platform,
): UdpLink {
  const local = localAttachment(link, localNode);
  if (local.interface === undefined && local.address === undefined) {
    throw new LinkError(
      link.name,
      "config",
      `node ${localNode.name} needs an interface on bcast link ${link.name}`,
    );
  }
  const attached = attachedPeers(link, localNode, peers);
  return new UdpLink(link.name, "bcast", () => {
    const found = findInterface(link.name, local.interface, local.address);
    if (found.broadcast === found.address) {
      throw new LinkError(
        link.name,
        "open_failed",
        `interface ${found.interfaceName} (${found.address}/${found.netmask}) has no broadcast address`,
      );
    }
    return {
      bind: { address: receiveAddress(found.broadcast, platform), port: udpPort(link, local) },
      bindNote: `(broadcast address of ${found.interfaceName})`,
      reuseAddr: true,
      destinations: groupDestinations(found.broadcast, link, attached),
      configure: (socket) => {
        try {
          socket.setBroadcast(true);
        } catch (error) {
          throw new LinkError(
            link.name,
            "open_failed",
            `cannot enable broadcast: ${explainSystemError(error)}`,
            { cause: error },
          );
        }
      },
    };
  });
}

/** By interface name; when only an address is configured, the interface that holds it. */
function findInterface(
  linkName: string,
  interfaceName: string | undefined,
  address: string | undefined,
): InterfaceIpv4 {
  if (interfaceName !== undefined) {
    try {
      return interfaceIpv4(interfaceName);
    } catch (error) {
      throw new LinkError(linkName, "open_failed", (error as Error).message, { cause: error });
    }
  }
  const found = address === undefined ? undefined : interfaceWithAddress(address);
  if (found === undefined) {
    throw new LinkError(
      linkName,
      "open_failed",
      `no interface of this host has address ${address}`,
    );
  }
  return found;
}
