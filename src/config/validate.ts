import { MAX_ECHOES } from "../wire/heartbeat.js";
import { validateApi } from "./api-schema.js";
import type { ConfigProblem } from "./errors.js";
import type { LinkConfig, NodeConfig, NodeLinkConfig, ParsedConfig } from "./schema.js";
import { validateSentinel } from "./sentinel-schema.js";
import { validateQuorum } from "./validate-quorum.js";
import { validateSafety } from "./validate-safety.js";
import { validateCoordination, validateDetector, validateTiming } from "./validate-timing.js";

/**
 * Rules that span several keys, which the schema cannot express. Every problem is reported
 * (not just the first) with the path of the key to change.
 */
export function validateConfig(parsed: ParsedConfig): ConfigProblem[] {
  return [
    ...uniqueNodes(parsed.nodes),
    ...uniqueLinkNames(parsed.links),
    ...multicastGroups(parsed.links),
    ...attachments(parsed),
    ...linkUsage(parsed),
    ...linkSizes(parsed),
    ...ucastEndpoints(parsed),
    ...validateTiming(parsed),
    ...validateDetector(parsed),
    ...validateCoordination(parsed),
    ...validateQuorum(parsed),
    ...validateSafety(parsed),
    ...validateApi(parsed),
    ...validateSentinel(parsed),
  ];
}

function uniqueNodes(nodes: readonly NodeConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstById = new Map<number, number>();
  const firstByName = new Map<string, number>();
  nodes.forEach((node, index) => {
    const sameId = firstById.get(node.id);
    if (sameId === undefined) firstById.set(node.id, index);
    else
      problems.push({
        path: ["nodes", index, "id"],
        message: `node id ${node.id} is already used by nodes[${sameId}] (${nodes[sameId]!.name}); every node needs its own id`,
      });
    const sameName = firstByName.get(node.name);
    if (sameName === undefined) firstByName.set(node.name, index);
    else
      problems.push({
        path: ["nodes", index, "name"],
        message: `node name ${node.name} is already used by nodes[${sameName}]; every node needs its own name`,
      });
  });
  return problems;
}

function uniqueLinkNames(links: readonly LinkConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstByName = new Map<string, number>();
  links.forEach((link, index) => {
    const same = firstByName.get(link.name);
    if (same === undefined) firstByName.set(link.name, index);
    else
      problems.push({
        path: ["links", index, "name"],
        message: `link name ${link.name} is already used by links[${same}]; every link needs its own name`,
      });
  });
  return problems;
}

function multicastGroups(links: readonly LinkConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  links.forEach((link, index) => {
    if (link.type !== "mcast") return;
    const firstOctet = Number(link.group.split(".")[0]);
    if (firstOctet < 224 || firstOctet > 239)
      problems.push({
        path: ["links", index, "group"],
        message: `expected a multicast group in 224.0.0.0/4 such as 239.255.42.1 (got "${link.group}")`,
      });
  });
  return problems;
}

/** What each kind of link needs from a node attached to it, and what it cannot use. */
function attachments(parsed: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const linksByName = new Map(parsed.links.map((link) => [link.name, link]));
  const declared = parsed.links.map((link) => link.name).join(", ");
  parsed.nodes.forEach((node, nodeIndex) => {
    const names = Object.keys(node.links);
    if (names.length === 0)
      problems.push({
        path: ["nodes", nodeIndex, "links"],
        message: `node ${node.name} is attached to no link; attach it to at least one (declared: ${declared})`,
      });
    for (const name of names) {
      const link = linksByName.get(name);
      if (link === undefined) {
        problems.push({
          path: ["nodes", nodeIndex, "links"],
          key: name,
          message: `no link named ${name} in links (declared: ${declared})`,
        });
        continue;
      }
      for (const message of attachmentProblems(node.name, link, node.links[name]!))
        problems.push({ path: ["nodes", nodeIndex, "links", name], message });
    }
  });
  return problems;
}

function attachmentProblems(
  nodeName: string,
  link: LinkConfig,
  attachment: NodeLinkConfig,
): string[] {
  const problems: string[] = [];
  const onLink = `${link.type} link ${link.name}`;
  const notUsed = (key: keyof NodeLinkConfig, usedBy: string) => {
    if (attachment[key] !== undefined)
      problems.push(`${key} is not used by ${onLink} (only by ${usedBy}); remove it`);
  };
  switch (link.type) {
    case "ucast":
      if (attachment.address === undefined)
        problems.push(
          `node ${nodeName} needs an address on ${onLink}: peers send their heartbeats to it`,
        );
      notUsed("interface", "mcast and bcast links");
      notUsed("device", "serial links");
      break;
    case "mcast":
      if (attachment.address === undefined && attachment.interface === undefined)
        problems.push(
          `node ${nodeName} needs an interface or an address on ${onLink}: it selects the interface that joins group ${link.group}`,
        );
      notUsed("device", "serial links");
      break;
    case "bcast":
      if (attachment.interface === undefined)
        problems.push(
          `node ${nodeName} needs an interface on ${onLink}: heartbeats go to that interface's broadcast address`,
        );
      notUsed("device", "serial links");
      break;
    case "serial":
      if (attachment.device === undefined)
        problems.push(`node ${nodeName} needs a device on ${onLink}, such as /dev/ttyS0`);
      notUsed("address", "ucast, mcast and bcast links");
      notUsed("port", "ucast, mcast and bcast links");
      notUsed("interface", "mcast and bcast links");
      break;
  }
  return problems;
}

function linkUsage(parsed: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  parsed.links.forEach((link, index) => {
    const attached = parsed.nodes.filter((node) => node.links[link.name] !== undefined);
    if (attached.length === 0)
      problems.push({
        path: ["links", index],
        message: `no node is attached to link ${link.name}; attach nodes with nodes[].links.${link.name} or remove the link`,
      });
    // A serial cable has two ends; a third node on it could never be heard.
    if (link.type === "serial" && attached.length > 2)
      problems.push({
        path: ["links", index],
        message: `serial link ${link.name} is attached by ${attached.length} nodes (${attached.map((node) => node.name).join(", ")}); a serial line connects exactly two`,
      });
  });
  return problems;
}

/**
 * Every heartbeat echoes the last frame of each peer it hears on that link, and the echoes of
 * one heartbeat must fit one frame (MAX_ECHOES, from the wire format): a link with more nodes
 * than that would make every agent on it fail at its first heartbeat with the peers all up.
 */
function linkSizes(parsed: ParsedConfig): ConfigProblem[] {
  const maxNodes = MAX_ECHOES + 1;
  return parsed.links.flatMap((link) => {
    const attached = parsed.nodes.filter((node) => node.links[link.name] !== undefined).length;
    return attached <= maxNodes
      ? []
      : [
          {
            path: [],
            key: "nodes",
            message: `${attached} nodes are attached to link ${link.name}; a link carries at most ${maxNodes} (a heartbeat has room to echo ${MAX_ECHOES} peers)`,
          },
        ];
  });
}

/**
 * Two ucast endpoints with the same address and port cannot both bind: on one link that is two
 * nodes claiming one address, on two links of one node it is one socket bound twice. (Different
 * nodes on different links may repeat an address: separate networks may reuse a subnet.)
 */
function ucastEndpoints(parsed: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ownerOnLink = new Map<string, string>();
  const linkOfNodeEndpoint = new Map<string, string>();
  for (const link of parsed.links) {
    if (link.type !== "ucast") continue;
    parsed.nodes.forEach((node, nodeIndex) => {
      const attachment = node.links[link.name];
      if (attachment?.address === undefined) return;
      const endpoint = `${attachment.address}:${attachment.port ?? link.port}`;
      const path = ["nodes", nodeIndex, "links", link.name, "address"];
      const owner = ownerOnLink.get(`${link.name} ${endpoint}`);
      const otherLink = linkOfNodeEndpoint.get(`${node.name} ${endpoint}`);
      if (owner !== undefined) {
        problems.push({
          path,
          message: `${endpoint} is already node ${owner}'s endpoint on ucast link ${link.name}; give each node its own address or port`,
        });
      } else if (otherLink !== undefined) {
        problems.push({
          path,
          message: `${endpoint} is already node ${node.name}'s endpoint on ucast link ${otherLink}; give each link its own address or port`,
        });
      }
      ownerOnLink.set(`${link.name} ${endpoint}`, owner ?? node.name);
      linkOfNodeEndpoint.set(`${node.name} ${endpoint}`, otherLink ?? link.name);
    });
  }
  return problems;
}
