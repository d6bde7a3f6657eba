/**
 * How nodes attach to a link, read from the configuration: which peers are on it and at which
 * port. Nodes without an entry for the link are not on it.
 */
import type { LinkConfig, NodeConfig, NodeLinkConfig } from "../config/schema.js";

/** What a link needs to know about a node: who it is and how it attaches. */
export type LinkNode = Pick<NodeConfig, "id" | "name" | "links">;

import { LinkError } from "./errors.js";
import type { UdpEndpoint } from "./udp-link.js";

export type UcastLinkConfig = Extract<LinkConfig, { type: "ucast" }>;
export type McastLinkConfig = Extract<LinkConfig, { type: "mcast" }>;
export type BcastLinkConfig = Extract<LinkConfig, { type: "bcast" }>;
export type SerialLinkConfig = Extract<LinkConfig, { type: "serial" }>;

export interface Attachment {
  node: LinkNode;
  via: NodeLinkConfig;
}

export function localAttachment(link: LinkConfig, localNode: LinkNode): NodeLinkConfig {
  const via = localNode.links[link.name];
  if (via === undefined) {
    throw new LinkError(link.name, "config", `node ${localNode.name} is not attached to this link`);
  }
  return via;
}

/** Peers attached to the link, the local node excluded even if the caller passed it. */
export function attachedPeers(
  link: LinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
): Attachment[] {
  const attached: Attachment[] = [];
  for (const node of peers) {
    const via = node.links[link.name];
    if (via !== undefined && node.id !== localNode.id) attached.push({ node, via });
  }
  return attached;
}

/** The node's port on a UDP link: its own override, else the link's. */
export function udpPort(link: LinkConfig & { port: number }, via: NodeLinkConfig): number {
  return via.port ?? link.port;
}

/**
 * For the group/broadcast kinds: one destination per distinct peer port, since a peer that
 * overrides the port listens there (several agents on one host).
 */
export function groupDestinations(
  address: string,
  link: LinkConfig & { port: number },
  peers: readonly Attachment[],
): UdpEndpoint[] {
  const ports = new Set(peers.map((peer) => udpPort(link, peer.via)));
  return [...ports].sort((a, b) => a - b).map((port) => ({ address, port }));
}
