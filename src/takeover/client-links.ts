import type { NodeConfig } from "../config/schema.js";
import {
  type Constraint,
  INFINITY_SCORE,
  type Primitive,
  type ResourceModel,
} from "../resource-model/types.js";
import { addressValue, parseVipAddress, subnetContains } from "../resource-model/vip-address.js";

/**
 * Heartbeat's old problem, that `ipfail` was written for: a node whose client-facing network is
 * cut still hears its peers on the other links, stays "up", and keeps the VIP nobody can reach.
 * Each agent publishes, per link, how many peers it hears there (a transient node attribute);
 * a VIP that lies on a link may not stay on a node that hears nobody on it while others still
 * hear each other there. When the link is down everywhere (a switch, not a node), nothing moves.
 */

/** The attribute that says how many peers a node hears on `link`. */
export function linkPeersAttribute(link: string): string {
  return `vigil-link-${link}`;
}

/**
 * How many peers this node hears on each of `links` now (up or late: a late peer is still
 * heard), from membership's view of every peer's links.
 */
export function peersHeardPerLink(
  peers: ReadonlyArray<{ links: ReadonlyArray<{ link: string; state: string }> }>,
  links: readonly string[],
): Record<string, number> {
  const heard: Record<string, number> = {};
  for (const link of links) {
    heard[link] = peers.filter((peer) =>
      peer.links.some((on) => on.link === link && on.state !== "down"),
    ).length;
  }
  return heard;
}

/**
 * The links a VIP rides on at `node`: the link whose interface it is put on, or whose address on
 * that node lies in the VIP's subnet. The built-in vip agent and IPaddr2 (ip, cidr_netmask, nic).
 */
export function linksOfVip(primitive: Primitive, node: NodeConfig): readonly string[] {
  // Asked for every VIP and node at every placement decision; a function of two objects that
  // do not change (the committed model's primitive, the configuration's node).
  let byNode = linksOfVipMemo.get(primitive);
  if (byNode === undefined) {
    byNode = new WeakMap();
    linksOfVipMemo.set(primitive, byNode);
  }
  let links = byNode.get(node);
  if (links === undefined) {
    links = Object.freeze(findLinksOfVip(primitive, node));
    byNode.set(node, links);
  }
  return links;
}

const linksOfVipMemo = new WeakMap<Primitive, WeakMap<NodeConfig, readonly string[]>>();

function findLinksOfVip(primitive: Primitive, node: NodeConfig): string[] {
  const vip = vipOf(primitive);
  if (vip === null) return [];
  const links: string[] = [];
  for (const [link, on] of Object.entries(node.links)) {
    const sameInterface = vip.interfaceName !== undefined && on.interface === vip.interfaceName;
    let sameSubnet = false;
    if (on.address !== undefined && vip.family === 4) {
      try {
        sameSubnet = subnetContains(vip.value, vip.prefixLength, addressValue(on.address, 4), 4);
      } catch {
        sameSubnet = false;
      }
    }
    if (sameInterface || sameSubnet) links.push(link);
  }
  return links;
}

/**
 * Location bans for VIPs on nodes cut from their link: -INFINITY at node X for a VIP riding link
 * L there, when X hears no peer on L and some other node hears at least one. Nodes that have not
 * said yet count as neither. `holds(node, link)` is asked of each such cut and may hold it back
 * (the leader waits a moment: when a switch dies, every node's count drops to 0, but not at the
 * same instant, and a node that says so first must not lose its VIP for it).
 */
export function clientLinkBans(
  model: ResourceModel,
  nodes: readonly NodeConfig[],
  attributesOf: (node: string) => Readonly<Record<string, string>> | undefined,
  holds: (node: string, link: string) => boolean = () => true,
): Constraint[] {
  const heard = (node: string, link: string): number | null => {
    const value = attributesOf(node)?.[linkPeersAttribute(link)];
    if (value === undefined || !/^\d+$/.test(value)) return null;
    return Number(value);
  };
  const bans: Constraint[] = [];
  for (const primitive of Object.values(model.primitives).sort((a, b) => (a.id < b.id ? -1 : 1))) {
    for (const node of nodes) {
      if (node.witness) continue;
      for (const link of linksOfVip(primitive, node)) {
        if (heard(node.name, link) !== 0) continue;
        const othersHear = nodes.some(
          (other) =>
            other.name !== node.name && !other.witness && (heard(other.name, link) ?? 0) > 0,
        );
        if (!othersHear || !holds(node.name, link)) continue;
        bans.push({
          kind: "location",
          id: `client-link-${link}@${node.name}:${primitive.id}`,
          resource: primitive.id,
          node: node.name,
          score: -INFINITY_SCORE,
        });
      }
    }
  }
  return bans;
}

function vipOf(
  primitive: Primitive,
): (ReturnType<typeof parseVipAddress> & { interfaceName?: string }) | null {
  const { agent, params } = primitive;
  const isVip = agent.kind === "vip";
  const isIpAddr2 = agent.kind === "ocf" && agent.name === "heartbeat/IPaddr2";
  if (!isVip && !isIpAddr2) return null;
  const text = isVip
    ? params.address
    : params.ip === undefined
      ? undefined
      : `${params.ip}${params.cidr_netmask === undefined ? "" : `/${params.cidr_netmask}`}`;
  if (text === undefined) return null;
  try {
    const vip = parseVipAddress(text);
    const interfaceName = (isVip ? params.interface : params.nic)?.trim();
    return interfaceName ? { ...vip, interfaceName } : vip;
  } catch {
    return null;
  }
}
