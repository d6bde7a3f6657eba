import { stringify } from "yaml";
import { UsageError } from "./errors.js";

/** What `vigil init` was told: the cluster's name and its machines with their addresses. */
export interface InitRequest {
  cluster: string;
  /** `NAME=ADDRESS[,ADDRESS...]`, one per full node: the nth address is the node's on link n. */
  nodes: readonly string[];
  /** `NAME=ADDRESS[,ADDRESS...]` of a witness: a vote that never runs resources. */
  witness?: string;
  profile: "default" | "fast";
  keyFile: string;
}

/** The cluster file `vigil init` writes, and why it chose what it did, one line per choice. */
export interface InitFile {
  text: string;
  choices: string[];
}

interface Machine {
  name: string;
  addresses: string[];
  flag: string;
}

/**
 * Writes the cluster file for a new cluster, choosing what an operator should start from: every
 * node on every link by unicast (no switch configuration needed), a link per address given, and a
 * third vote for two nodes. What it cannot choose safely for the operator — two nodes with neither
 * a witness nor fencing — it refuses, saying what to add. The values themselves (names, addresses)
 * are checked by the configuration's own loader, afterwards, like any file.
 */
export function composeInitFile(request: InitRequest): InitFile {
  const nodes = request.nodes.map((text) => parseMachine("--node", text));
  const witness =
    request.witness === undefined ? undefined : parseMachine("--witness", request.witness);
  if (nodes.length === 0)
    throw new UsageError("name at least one node: --node NAME=ADDRESS[,ADDRESS...]");
  const all = witness === undefined ? nodes : [...nodes, witness];
  const taken = new Set<string>();
  for (const machine of all) {
    if (taken.has(machine.name))
      throw new UsageError(`${machine.flag} ${machine.name}: the name is given twice`);
    taken.add(machine.name);
  }
  const linkCount = nodes[0]!.addresses.length;
  for (const node of nodes)
    if (node.addresses.length !== linkCount)
      throw new UsageError(
        `--node ${node.name}: ${node.addresses.length} address(es), but ${nodes[0]!.name} has ${linkCount}; every node needs one address per link, in the same order`,
      );
  if (witness !== undefined && witness.addresses.length > linkCount)
    throw new UsageError(
      `--witness ${witness.name}: ${witness.addresses.length} addresses, but the nodes have ${linkCount} link(s)`,
    );
  if (nodes.length === 2 && witness === undefined)
    throw new UsageError(
      "two nodes cannot keep a majority when they lose sight of each other: add --witness NAME=ADDRESS (any small third machine running `vigil witness`), or write a fencing section by hand for two-node mode (docs/configuration.md, fencing; examples/two-node.yaml)",
    );

  const linkNames = Array.from({ length: linkCount }, (_, index) => `ring${index}`);
  const document = {
    cluster: { name: request.cluster },
    nodes: all.map((machine, index) => ({
      id: index + 1,
      name: machine.name,
      ...(machine === witness ? { witness: true } : {}),
      links: Object.fromEntries(
        machine.addresses.map((address, link) => [linkNames[link], { address }]),
      ),
    })),
    links: linkNames.map((name) => ({ name, type: "ucast" })),
    timing: { profile: request.profile },
    keys: { file: request.keyFile },
  };
  return {
    text: `# Written by vigil init. The same file goes on every node; check it with: vigil config validate\n${stringify(document)}`,
    choices: describeChoices(nodes, witness, linkNames, request),
  };
}

function describeChoices(
  nodes: readonly Machine[],
  witness: Machine | undefined,
  linkNames: readonly string[],
  request: InitRequest,
): string[] {
  const votes = nodes.length + (witness === undefined ? 0 : 1);
  const majority = Math.floor(votes / 2) + 1;
  return [
    `links: ${linkNames.join(", ")}, unicast (a datagram to each peer: no multicast needed from the switches)` +
      (linkNames.length === 1
        ? "; with one link, a single cable or switch fault looks like a node's death: give each node a second address on another network (--node NAME=ADDR1,ADDR2)"
        : "; a node counts as dead only when silent on every link, so keep the links on separate NICs and switches"),
    nodes.length === 1
      ? "one node: nothing to fail over to yet; add nodes to this file later"
      : `quorum: ${majority} of ${votes} votes; a side with fewer stops its resources rather than run them twice` +
        (witness === undefined
          ? ""
          : `; ${witness.name} is a witness (run \`vigil witness\` there): it votes and keeps the log, never leads, never runs resources`),
    request.profile === "fast"
      ? "timing: the fast profile (a dead node noticed in about 300 ms; needs quiet, dedicated links)"
      : "timing: the default profile (heartbeat every 100 ms, a node dead after 900 ms of silence on every link)",
    `key: ${request.keyFile}, mode 0600; copy it with this file to every node`,
    "fencing: none; with shared storage or a database whose copies must never both write, add fence devices (docs/configuration.md, fencing)",
  ];
}

function parseMachine(flag: string, text: string): Machine {
  const equals = text.indexOf("=");
  const name = equals < 0 ? "" : text.slice(0, equals).trim();
  const addresses =
    equals < 0
      ? []
      : text
          .slice(equals + 1)
          .split(",")
          .map((a) => a.trim());
  if (name === "" || addresses.length === 0 || addresses.some((address) => address === ""))
    throw new UsageError(`${flag} ${text}: expected NAME=ADDRESS[,ADDRESS...]`);
  return { name, addresses, flag };
}
