/**
 * mcast: every node joins one IPv4 group on its interface and each frame is sent once, to the
 * group. TTL 1 (the default) keeps heartbeats on the local segment.
 */
import type { LinkNode } from "./attachments.js";
import {
  attachedPeers,
  groupDestinations,
  localAttachment,
  type McastLinkConfig,
  udpPort,
} from "./attachments.js";
import { receiveAddress } from "./bind-address.js";
import { explainSystemError, LinkError } from "./errors.js";
import { interfaceIpv4, isMulticastAddress } from "./interfaces.js";
import { UdpLink } from "./udp-link.js";

export function createMulticastLink(
  link: McastLinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
  platform: NodeJS.Platform = process.platform,
): UdpLink {
  if (!isMulticastAddress(link.group)) {
    throw new LinkError(
      link.name,
      "config",
      `group ${link.group} is not a multicast address (expected 224.0.0.0 to 239.255.255.255)`,
    );
  }
  const local = localAttachment(link, localNode);
  const interfaceName = local.interface;
  const configuredAddress = local.address;
  if (configuredAddress === undefined && interfaceName === undefined) {
    throw new LinkError(
      link.name,
      "config",
      `node ${localNode.name} needs an address or an interface on mcast link ${link.name}`,
    );
  }
  const destinations = groupDestinations(link.group, link, attachedPeers(link, localNode, peers));
  return new UdpLink(link.name, "mcast", () => {
    const localAddress = configuredAddress ?? lookUpInterface(link.name, interfaceName as string);
    return {
      bind: { address: receiveAddress(link.group, platform), port: udpPort(link, local) },
      reuseAddr: true,
      destinations,
      configure: (socket) => {
        try {
          socket.addMembership(link.group, localAddress);
          socket.setMulticastInterface(localAddress);
          socket.setMulticastTTL(link.ttl);
          socket.setMulticastLoopback(link.loopback);
        } catch (error) {
          throw new LinkError(
            link.name,
            "open_failed",
            `cannot join multicast group ${link.group} on ${localAddress}: ${explainSystemError(error)}`,
            { cause: error },
          );
        }
      },
    };
  });
}

function lookUpInterface(linkName: string, interfaceName: string): string {
  try {
    return interfaceIpv4(interfaceName).address;
  } catch (error) {
    throw new LinkError(linkName, "open_failed", (error as Error).message, { cause: error });
  }
}
