import { formatKeyPath } from "../config/errors.js";
import { COORDINATION_PROFILES, type RawConfig, TIMING_PROFILES } from "../config/schema.js";
import { checkSchema } from "../config/schema-issues.js";
import { validateConfig } from "../config/validate.js";
import { ImportError, type ImportReport, type Placeholder, type SourceLine } from "./report.js";
import { yamlWithComments } from "./yaml-out.js";

/**
 * The cluster file an import writes, from what the importer found: nodes, links with each node's
 * attachment, heartbeat timing. Shared by the Heartbeat and keepalived importers so that both
 * fill gaps, pick a witness and derive election timing the same way, and both check what they
 * wrote with the loader `vigil config validate` uses.
 */

export type LinkType = "ucast" | "mcast" | "bcast" | "serial";

export interface NodeAttachment {
  address?: string;
  interface?: string;
  device?: string;
}

export interface LinkPlan {
  type: LinkType;
  /** The link's own keys: group, port, ttl, baud. */
  settings: Record<string, string | number | boolean>;
  /** Node name → how it attaches; a node missing here gets a placeholder. */
  attachments: Map<string, NodeAttachment>;
  /** Why a node has no attachment of its own (for the placeholder's comment). */
  missingWhy: string;
  /** Attachments the importer inferred rather than read: node → what to check. */
  assumed: Map<string, string>;
  /** The input lines of the link ("") and of its settings (by key), for a refusal to point at. */
  sources?: Record<string, SourceLine>;
}

export interface TimingPlan {
  keepalive_ms?: number;
  warntime_ms?: number;
  deadtime_ms?: number;
  initdead_ms?: number;
}

export interface ClusterPlan {
  name: string;
  nodes: string[];
  links: LinkPlan[];
  timing: TimingPlan;
  connectivityTargets: string[];
  watchdogDevice?: string;
  /** The input line each timing knob came from, for a refusal to point at. */
  timingSources?: Partial<Record<keyof TimingPlan, SourceLine>>;
}

/** The third vote a cluster of two full nodes needs (`vigil witness` on another machine). */
export interface WitnessOption {
  name: string;
  address?: string;
}

/**
 * Addresses for values the input did not give (RFC 5737's TEST-NET-1): valid in the file, so that
 * the rest of it can be validated, and never the address of a real host.
 */
const PLACEHOLDER_NET = "192.0.2";
const PLACEHOLDER_INTERFACE = "eth0";
/** coordination.election_timeout_min_ms's bound in the schema. */
const ELECTION_TIMEOUT_MIN_MS_MAX = 60_000;

export interface ClusterFile {
  text: string;
  config: RawConfig;
}

export function writeClusterFile(
  plan: ClusterPlan,
  witness: WitnessOption | undefined,
  report: ImportReport,
  header: readonly string[],
): ClusterFile {
  const placeholders: Placeholder[] = [];
  const assumptions: Placeholder[] = [];
  const nodeNames = [...plan.nodes];
  const twoNodes = nodeNames.length === 2;
  const witnessName = twoNodes ? (witness?.name ?? "witness") : undefined;
  if (witness !== undefined && !twoNodes)
    report.note(
      `--witness ${witness.name} ignored: only a cluster of exactly two nodes needs one (this one has ${nodeNames.length})`,
    );
  if (witnessName !== undefined && nodeNames.includes(witnessName))
    throw new ImportError(
      undefined,
      `the witness's name ${witnessName} is already a node's: give --witness another`,
    );

  const linkNames = plan.links.map((_, index) => `ring${index}`);
  const witnessLink = witnessName === undefined ? -1 : pickWitnessLink(plan.links);
  const nodes: NonNullable<RawConfig["nodes"]> = [];
  const allNodes = witnessName === undefined ? nodeNames : [...nodeNames, witnessName];
  allNodes.forEach((name, nodeIndex) => {
    const links: Record<string, NodeAttachment> = {};
    plan.links.forEach((link, linkIndex) => {
      const isWitness = name === witnessName;
      if (isWitness && linkIndex !== witnessLink) return;
      const given = isWitness ? witnessAttachment(link, witness) : link.attachments.get(name);
      const attachment: NodeAttachment = { ...given };
      const path = ["nodes", nodeIndex, "links", linkNames[linkIndex]!];
      const missing = requiredKey(link.type, attachment);
      if (missing !== undefined) {
        attachment[missing] = placeholderValue(missing, linkIndex, nodeIndex);
        placeholders.push({
          document: "cluster",
          path: [...path, missing],
          message: isWitness
            ? `the witness's ${missing} on ${linkNames[linkIndex]}: give --witness NAME=ADDRESS, or edit`
            : `${name}'s ${missing} on ${linkNames[linkIndex]}: ${link.missingWhy}`,
        });
      }
      const assumed = link.assumed.get(name);
      if (assumed !== undefined)
        assumptions.push({ document: "cluster", path: [...path, "address"], message: assumed });
      links[linkNames[linkIndex]!] = attachment;
    });
    nodes.push({
      id: nodeIndex + 1,
      name,
      ...(name === witnessName ? { witness: true } : {}),
      links,
    });
  });
  if (witnessName !== undefined) {
    const linkName = linkNames[witnessLink]!;
    report.note(
      `two nodes alone cannot keep a majority when they lose sight of each other, so the file has a witness, ${witnessName} (node ${nodes.length}, on ${linkName}): run \`vigil witness -c vigil.yaml\` on a third machine${witness?.address === undefined ? " and put its address in the file (or import again with --witness NAME=ADDRESS)" : ""}. The alternative is fencing in two-node mode (fencing.devices and a fencing.delay_ms, docs/configuration.md#two-node-mode)`,
    );
  }

  const config: RawConfig = {
    cluster: { name: plan.name },
    nodes,
    links: plan.links.map((link, index) => ({
      name: linkNames[index]!,
      type: link.type,
      ...link.settings,
    })) as RawConfig["links"],
    ...timingSections(plan.timing, plan.timingSources?.keepalive_ms, report),
    ...(plan.connectivityTargets.length > 0
      ? { connectivity: { targets: plan.connectivityTargets.map((icmp) => ({ icmp })) } }
      : {}),
    ...(plan.watchdogDevice !== undefined ? { watchdog: { device: plan.watchdogDevice } } : {}),
    keys: { file: "/etc/vigil/authkeys" },
  };
  for (const entry of [...placeholders, ...assumptions]) report.placeholder(entry);
  const text = yamlWithComments(config, header, [
    ...placeholders.map(({ path, message }) => ({ path, text: `CHANGE ME: ${message}` })),
    ...assumptions.map(({ path, message }) => ({ path, text: `CHECK: ${message}` })),
  ]);
  // What `vigil config validate` would say, said now: an import that writes a file Vigil refuses
  // is an importer's defect or input whose values contradict each other (a warntime past the
  // deadtime), and the operator learns it here rather than at the first start.
  const checked = checkSchema(config);
  const problems = checked.config === undefined ? checked.problems : validateConfig(checked.config);
  if (problems.length > 0) {
    throw new ImportError(
      sourceOf(plan, problems[0]!.path),
      `the translated cluster file would be refused (the input's values contradict each other, or are out of Vigil's bounds): ${problems
        .map(
          (problem) =>
            `${formatKeyPath([...problem.path, ...(problem.key ? [problem.key] : [])])}: ${problem.message}`,
        )
        .join("; ")}`,
    );
  }
  return { text, config };
}

/** The input line behind a key of the written file, where the importer knows it. */
function sourceOf(plan: ClusterPlan, path: ReadonlyArray<string | number>): SourceLine | undefined {
  const [section, index, key] = path;
  if (section === "timing") return plan.timingSources?.[index as keyof TimingPlan];
  // Election and lease timing is scaled from the keepalive.
  if (section === "coordination") return plan.timingSources?.keepalive_ms;
  if (section !== "links" || typeof index !== "number") return undefined;
  const sources = plan.links[index]?.sources;
  return sources?.[String(key)] ?? sources?.[""];
}

/** Unicast is where an address is all the witness needs; a serial line joins only two nodes. */
function pickWitnessLink(links: readonly LinkPlan[]): number {
  for (const type of ["ucast", "mcast", "bcast"] as const) {
    const index = links.findIndex((link) => link.type === type);
    if (index >= 0) return index;
  }
  throw new ImportError(
    undefined,
    "the cluster's only links are serial lines, which join two nodes: a witness needs a network link; add one",
  );
}

function witnessAttachment(link: LinkPlan, witness: WitnessOption | undefined): NodeAttachment {
  if (link.type === "bcast") return {};
  return witness?.address === undefined ? {} : { address: witness.address };
}

/** The key a node's attachment to this kind of link cannot do without, if it lacks it. */
function requiredKey(type: LinkType, attachment: NodeAttachment): keyof NodeAttachment | undefined {
  switch (type) {
    case "ucast":
      return attachment.address === undefined ? "address" : undefined;
    case "mcast":
      return attachment.address === undefined && attachment.interface === undefined
        ? "interface"
        : undefined;
    case "bcast":
      return attachment.interface === undefined ? "interface" : undefined;
    case "serial":
      return attachment.device === undefined ? "device" : undefined;
  }
}

function placeholderValue(key: keyof NodeAttachment, linkIndex: number, nodeIndex: number) {
  switch (key) {
    case "address":
      // Distinct per link and node: a file with two equal ucast addresses would not validate.
      return `${PLACEHOLDER_NET}.${linkIndex * 20 + nodeIndex + 1}`;
    case "interface":
      return PLACEHOLDER_INTERFACE;
    case "device":
      return "/dev/ttyS0";
  }
}

/**
 * The four heartbeat knobs, the input's where it has them and the rest filled so that Vigil's
 * rules between them hold, plus election and lease timing scaled to the keepalive: Vigil's
 * default profile assumes a heartbeat every 100 ms, and a slower one (Heartbeat's seconds) needs
 * elections and leases that many heartbeats long, or the file is refused.
 */
function timingSections(
  given: TimingPlan,
  keepaliveSource: SourceLine | undefined,
  report: ImportReport,
): Pick<RawConfig, "timing" | "coordination"> {
  if (Object.values(given).every((value) => value === undefined)) return {};
  const profile = TIMING_PROFILES.default;
  const keepalive = given.keepalive_ms ?? profile.keepalive_ms;
  const deadtime = given.deadtime_ms ?? Math.max(profile.deadtime_ms, 9 * keepalive);
  const warntime =
    given.warntime_ms ??
    (keepalive < profile.warntime_ms && profile.warntime_ms < deadtime
      ? profile.warntime_ms
      : Math.floor((keepalive + deadtime) / 2));
  const initdead = given.initdead_ms ?? Math.max(profile.initdead_ms, deadtime);
  const timing = {
    keepalive_ms: keepalive,
    warntime_ms: warntime,
    deadtime_ms: deadtime,
    initdead_ms: initdead,
  };
  const filled = (Object.keys(timing) as (keyof TimingPlan)[]).filter(
    (knob) => given[knob] === undefined,
  );
  if (filled.length > 0)
    report.note(
      `timing: ${filled.map((knob) => `${knob} ${timing[knob]}`).join(", ")} chosen to fit the values imported (not in the input)`,
    );
  if (deadtime > 5 * profile.deadtime_ms)
    report.note(
      `timing: a node is declared dead after ${deadtime} ms, as before; Vigil's default profile takes ${profile.deadtime_ms} ms (delete the timing and coordination sections to use it)`,
    );
  if (5 * keepalive > ELECTION_TIMEOUT_MIN_MS_MAX)
    throw new ImportError(
      keepaliveSource,
      `a keepalive of ${keepalive} ms is too slow for Vigil: an election waits five heartbeats and at most ${ELECTION_TIMEOUT_MIN_MS_MAX} ms, so the keepalive can be ${ELECTION_TIMEOUT_MIN_MS_MAX / 5} ms at most`,
    );
  const electionMin = Math.max(
    COORDINATION_PROFILES.default.election_timeout_min_ms,
    5 * keepalive,
  );
  if (electionMin === COORDINATION_PROFILES.default.election_timeout_min_ms) return { timing };
  // The default profile's proportions: an election after five heartbeats, a spread of 60%, a
  // lease of 90% of the shortest election (so lease × 1.02 drift stays below it), and a
  // follower's lease past the longest election and about the deadtime.
  const electionMax = Math.round(electionMin * 1.6);
  const coordination = {
    election_timeout_min_ms: electionMin,
    election_timeout_max_ms: electionMax,
    lease_ms: Math.floor(electionMin * 0.9),
    follower_lease_ms: Math.max(electionMax + 2 * keepalive, deadtime),
  };
  report.note(
    `coordination: elections and leases scaled to a ${keepalive} ms keepalive (${Object.entries(
      coordination,
    )
      .map(([key, value]) => `${key} ${value}`)
      .join(", ")})`,
  );
  return { timing, coordination };
}
