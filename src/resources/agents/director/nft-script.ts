/**
 * The nftables backend's scripts, pure. Each service owns one table, named after its resource,
 * replaced whole in one `nft -f` transaction (declare, delete, define: valid whether or not it
 * was there), so a reader never sees half a rule set and applying twice changes nothing.
 *
 * New connections are DNATed in prerouting by a map from a slot to a target: `numgen inc` walks
 * the slots in turn (rr, wrr: each target has as many slots as its weight), `jhash ip saddr`
 * picks one per client address (sh). Only a connection's first packet meets the nat chain:
 * conntrack carries established flows on to the server they started with whatever the table
 * holds later, so a change of the healthy set moves new connections only.
 */
import { formatEndpoint } from "../../../resource-model/virtual-service.js";
import { type DirectorRules, slotRanges, weightedSequence } from "./director-rules.js";

/** The service's own table: another service's, or anyone else's, is never touched. */
export function directorTableName(resourceId: string): string {
  return `vigil-lvs-${resourceId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

export function nftFamily(family: 4 | 6): "ip" | "ip6" {
  return family === 4 ? "ip" : "ip6";
}

/** The table (re)defined whole: after it runs, the table is exactly this. */
export function nftApplyScript(table: string, rules: DirectorRules): string {
  const family = nftFamily(rules.family);
  const lines = [
    ...nftRemoveScript(table, rules.family).trimEnd().split("\n"),
    `table ${family} ${table} {`,
    "\tchain prerouting {",
    "\t\ttype nat hook prerouting priority dstnat; policy accept;",
    ...(rules.targets.length === 0 ? [] : [`\t\t${match(rules)} ${dnat(rules)}`]),
    "\t}",
  ];
  if (rules.masquerade)
    lines.push(
      "\tchain postrouting {",
      "\t\ttype nat hook postrouting priority srcnat; policy accept;",
      // Only this service's connections, by their original destination: the servers' replies
      // then come back to this node, which undoes both translations.
      `\t\tmeta l4proto ${rules.protocol} ct status dnat ct original ${family} daddr ${rules.address} ct original proto-dst ${rules.port} masquerade`,
      "\t}",
    );
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** Removes the table if it is there; succeeds if it is not. */
export function nftRemoveScript(table: string, family: 4 | 6): string {
  const name = `${nftFamily(family)} ${table}`;
  return `table ${name} {}\ndelete table ${name}\n`;
}

function match(rules: DirectorRules): string {
  return `${nftFamily(rules.family)} daddr ${rules.address} ${rules.protocol} dport ${rules.port}`;
}

function dnat(rules: DirectorRules): string {
  const family = nftFamily(rules.family);
  const [only] = rules.targets;
  if (rules.targets.length === 1 && only !== undefined)
    return `dnat ${family} to ${formatEndpoint(only)}`;
  const sequence = weightedSequence(rules.targets.map((target) => target.weight));
  const selector =
    rules.scheduler === "sh"
      ? `jhash ${family} saddr mod ${sequence.length}`
      : `numgen inc mod ${sequence.length}`;
  const entries = slotRanges(sequence).map(({ from, to, target }) => {
    const server = rules.targets[target]!;
    const slots = from === to ? `${from}` : `${from}-${to}`;
    return `${slots} : ${server.address} . ${server.port}`;
  });
  return `dnat ${family} to ${selector} map { ${entries.join(", ")} }`;
}
