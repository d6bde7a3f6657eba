/**
 * ucast: one socket bound to this node's address on the link; each frame goes to every attached
 * peer as its own datagram. Works across routers and needs no multicast support on the network.
 */
import type { LinkNode, UcastLinkConfig } from "./attachments.js";
import { attachedPeers, localAttachment, udpPort } from "./attachments.js";
import { LinkError } from "./errors.js";
import { UdpLink } from "./udp-link.js";

export function createUnicastLink(
  link: UcastLinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
): UdpLink {
  const local = localAttachment(link, localNode);
  if (local.address === undefined) {
    throw new LinkError(
      link.name,
      "config",
      `node ${localNode.name} needs an address on ucast link ${link.name}`,
    );
  }
  const destinations = attachedPeers(link, localNode, peers).map(({ node, via }) => {
    if (via.address === undefined) {
      throw new LinkError(
        link.name,
        "config",
        `peer ${node.name} needs an address on ucast link ${link.name}`,
      );
    }
    return { address: via.address, port: udpPort(link, via), peerId: node.id };
  });
  const bind = { address: local.address, port: udpPort(link, local) };
  return new UdpLink(link.name, "ucast", () => ({ bind, reuseAddr: false, destinations }));
}
