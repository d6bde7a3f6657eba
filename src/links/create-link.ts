/**
 * Builds the link for one configured link, as seen from the local node. Throws a LinkError
 * naming the link when the configuration cannot work (a missing address, interface or device).
 */

import type { LinkConfig } from "../config/schema.js";
import type { LinkNode } from "./attachments.js";
import type { Link } from "./link.js";
import { createSerialLink } from "./serial.js";
import { createBroadcastLink } from "./udp-broadcast.js";
import { createMulticastLink } from "./udp-multicast.js";
import { createUnicastLink } from "./udp-unicast.js";

export function createLink(
  link: LinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
): Link {
  switch (link.type) {
    case "ucast":
      return createUnicastLink(link, localNode, peers);
    case "mcast":
      return createMulticastLink(link, localNode, peers);
    case "bcast":
      return createBroadcastLink(link, localNode, peers);
    case "serial":
      return createSerialLink(link, localNode, peers);
  }
}
