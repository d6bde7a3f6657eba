/**
 * What each of Pacemaker's commands asks, read from its arguments and the operation's
 * environment: pure, so that every spelling an agent uses is tested without an agent. main.ts
 * carries a plan out against the local Vigil agent.
 */
import { CIB_SCOPES, type CibScope } from "./cib-output.js";
import type { CrmMonFormat } from "./crm-mon-output.js";
import {
  type OptionSpec,
  optionValue,
  type ParsedOptions,
  parseOptions,
  UnknownOptionError,
  UsageError,
} from "./getopt.js";

/** reboot: the node's run's transient attributes; forever: its configured ones. */
export type Lifetime = "reboot" | "forever";

export interface AttributeTarget {
  node: string;
  name: string;
  lifetime: Lifetime;
}

/** How a query's answer is printed: crm_attribute's `scope=… name=… value=…` or attrd's. */
export type QueryStyle = "crm_attribute" | "attrd_updater";

export type ShimPlan =
  | { kind: "query"; target: AttributeTarget; style: QueryStyle; quiet: boolean; default?: string }
  | { kind: "update"; target: AttributeTarget; value: string }
  | { kind: "delete"; target: AttributeTarget }
  | { kind: "node_name"; node: string }
  /** `pacemakerd -$`: the Pacemaker release Vigil's commands answer as. */
  | { kind: "version" }
  | { kind: "node_list" }
  | { kind: "partition" }
  | { kind: "quorum" }
  /** A cluster property (crm_config) read, set or removed (value null). */
  | { kind: "property_query"; name: string; quiet: boolean; default?: string }
  | { kind: "property_update"; name: string; value: string | null }
  | { kind: "crm_mon"; format: CrmMonFormat; request: string }
  | { kind: "locate"; resource: string; quiet: boolean }
  /** `crm_resource --ban`: the resource kept off a node (the operator's ban, `vigil resource ban`). */
  | { kind: "ban"; resource: string; node: string; quiet: boolean }
  | { kind: "cib_query"; scope?: CibScope }
  /** Something Vigil does not provide: the operation fails, naming it. */
  | { kind: "refused"; what: string };

/** Pacemaker's exit codes (crm_exit_t) that the commands here return. */
export const CRM_EX_OK = 0;
export const CRM_EX_UNIMPLEMENT_FEATURE = 3;
/** What Pacemaker 1.1's tools (and the agents written against them) return for "no such". */
export const CRM_EX_NOSUCH = 6;
export const CRM_EX_USAGE = 64;
export const CRM_EX_UNAVAILABLE = 69;

/** Where the operation runs, from its environment (set by the Vigil agent, and OCF's own). */
export interface ShimEnvironment {
  /** This node's name (VIGIL_NODE). */
  node: string;
  /** The clone whose copy runs, for promotion scores (VIGIL_CLONE). */
  clone?: string;
  /** OCF_RESOURCE_INSTANCE. */
  instance?: string;
}

export function shimEnvironmentOf(env: NodeJS.ProcessEnv): ShimEnvironment {
  return {
    node: env.VIGIL_NODE ?? env.OCF_RESKEY_CRM_meta_on_node ?? "",
    ...(env.VIGIL_CLONE ? { clone: env.VIGIL_CLONE } : {}),
    ...(env.OCF_RESOURCE_INSTANCE ? { instance: env.OCF_RESOURCE_INSTANCE } : {}),
  };
}

/** The plan of `command args`, or a UsageError naming what is wrong with them. */
export function planOf(command: string, args: readonly string[], env: ShimEnvironment): ShimPlan {
  switch (command) {
    case "crm_attribute":
      return crmAttributePlan(args, env);
    case "crm_master":
      return crmMasterPlan(args, env);
    case "attrd_updater":
      return attrdUpdaterPlan(args, env);
    case "crm_node":
      return crmNodePlan(args, env);
    case "crm_mon":
      return refusingUnknownOptions(command, args, crmMonPlan);
    case "crm_resource":
      return refusingUnknownOptions(command, args, (rest) => crmResourcePlan(rest, env));
    case "cibadmin":
      return refusingUnknownOptions(command, args, cibadminPlan);
    case "pacemakerd":
      return pacemakerdPlan(args);
    default:
      return { kind: "refused", what: [command, ...args].join(" ") };
  }
}

const QUIET: OptionSpec = { name: "quiet", short: "q", long: ["quiet"], value: "none" };
const VERBOSE: OptionSpec = { name: "verbose", short: "V", long: ["verbose"], value: "none" };
const QUERY: OptionSpec = {
  name: "query",
  short: "G",
  long: ["query", "get-value"],
  value: "none",
};
const DELETE: OptionSpec = {
  name: "delete",
  short: "D",
  long: ["delete", "delete-attr"],
  value: "none",
};
const LIFETIME: OptionSpec = {
  name: "lifetime",
  short: "l",
  long: ["lifetime"],
  value: "required",
};
const ID: OptionSpec = { name: "id", short: "i", long: ["id", "attr-id"], value: "required" };

const CRM_ATTRIBUTE_OPTIONS: readonly OptionSpec[] = [
  QUIET,
  VERBOSE,
  QUERY,
  DELETE,
  LIFETIME,
  ID,
  { name: "node", short: "N", long: ["node"], value: "required" },
  { name: "node", short: "U", long: ["uname"], value: "required" },
  { name: "name", short: "n", long: ["name", "attr-name"], value: "required" },
  { name: "update", short: "v", long: ["update", "attr-value"], value: "required" },
  { name: "type", short: "t", long: ["type", "section"], value: "required" },
  { name: "set", short: "s", long: ["set-name"], value: "required" },
  { name: "default", short: "d", long: ["default"], value: "required" },
  { name: "promotion", short: "p", long: ["promotion"], value: "optional" },
  { name: "utilization", short: "z", long: ["utilization"], value: "none" },
];

function crmAttributePlan(args: readonly string[], env: ShimEnvironment): ShimPlan {
  const options = parseOptions("crm_attribute", args, CRM_ATTRIBUTE_OPTIONS);
  if (options.has("utilization")) return refusal("crm_attribute --utilization");
  const promotion = options.get("promotion");
  if (promotion !== undefined) {
    const clone = cloneOf(typeof promotion === "string" ? promotion : undefined, env);
    return attributePlan(options, "crm_attribute", {
      node: optionValue(options, "node") ?? localNode(env),
      name: promotionScoreName(clone),
      lifetime: "reboot",
    });
  }
  const type = sectionOf(options);
  if (type === "crm_config") return propertyPlan(options);
  if (type !== "nodes" && type !== "status") return refusal(`crm_attribute --type ${type}`);
  const name = optionValue(options, "name");
  if (name === undefined) throw new UsageError("crm_attribute: --name is required");
  const node = optionValue(options, "node") ?? localNode(env);
  const score = promotionScoreAlias(name, env);
  if (score !== undefined) return attributePlan(options, "crm_attribute", { node, ...score });
  return attributePlan(options, "crm_attribute", {
    node,
    name,
    lifetime: type === "status" ? "reboot" : "forever",
  });
}

/**
 * Pacemaker keeps a copy's promotion score as the node attribute `master-<resource>`, which
 * crm_master and `crm_attribute -p` write; agents also read and write it by that name, for
 * other nodes too (pgsql's primary sets its replicas' to -INFINITY when it cannot tell which is
 * newest). For this copy's resource it is Vigil's promotion score, whatever the lifetime given.
 */
function promotionScoreAlias(
  name: string,
  env: ShimEnvironment,
): Pick<AttributeTarget, "name" | "lifetime"> | undefined {
  if (env.clone === undefined || !name.startsWith("master-")) return undefined;
  const resource = name.slice("master-".length).replace(/:\d+$/, "");
  const copyOf = env.instance?.replace(/:\d+$/, "");
  if (resource !== env.clone && resource !== copyOf) return undefined;
  return { name: promotionScoreName(env.clone), lifetime: "reboot" };
}

/** A cluster property: `-s SET` is accepted, and every set is one (cib-bootstrap-options). */
function propertyPlan(options: ParsedOptions): ShimPlan {
  const name = optionValue(options, "name");
  if (name === undefined) throw new UsageError("crm_attribute: --name is required");
  if (options.has("delete")) return { kind: "property_update", name, value: null };
  const update = optionValue(options, "update");
  if (update !== undefined && !options.has("query"))
    return { kind: "property_update", name, value: update };
  const fallback = optionValue(options, "default");
  return {
    kind: "property_query",
    name,
    quiet: options.has("quiet"),
    ...(fallback === undefined ? {} : { default: fallback }),
  };
}

/** Pacemaker's choice of section: --lifetime over --type, and crm_config without a node. */
function sectionOf(options: ParsedOptions): string {
  const lifetime = optionValue(options, "lifetime");
  if (lifetime !== undefined)
    return lifetimeOf(lifetime, "crm_attribute") === "reboot" ? "status" : "nodes";
  const type = optionValue(options, "type");
  if (type !== undefined) return type === "forever" ? "nodes" : type === "reboot" ? "status" : type;
  return options.has("node") ? "nodes" : "crm_config";
}

const CRM_MASTER_OPTIONS: readonly OptionSpec[] = [
  QUIET,
  { name: "quiet", short: "Q", value: "none" },
  VERBOSE,
  QUERY,
  DELETE,
  LIFETIME,
  ID,
  { name: "node", short: "N", long: ["node"], value: "required" },
  { name: "node", short: "U", long: ["uname"], value: "required" },
  { name: "update", short: "v", long: ["update", "attr-value"], value: "required" },
  { name: "resource", short: "r", long: ["resource-id"], value: "required" },
];

/**
 * crm_master sets this copy's promotion score: Vigil's attribute promotion-score-<clone>, always
 * one of the run's transient attributes (Vigil withdraws it when the copy stops, whatever
 * lifetime the agent asked for, so a stale score never gets a stopped copy promoted).
 */
function crmMasterPlan(args: readonly string[], env: ShimEnvironment): ShimPlan {
  const options = parseOptions("crm_master", args, CRM_MASTER_OPTIONS);
  const lifetime = optionValue(options, "lifetime");
  if (lifetime !== undefined) lifetimeOf(lifetime, "crm_master");
  const clone = cloneOf(optionValue(options, "resource"), env);
  return attributePlan(options, "crm_attribute", {
    node: optionValue(options, "node") ?? localNode(env),
    name: promotionScoreName(clone),
    lifetime: "reboot",
  });
}

const ATTRD_UPDATER_OPTIONS: readonly OptionSpec[] = [
  QUIET,
  VERBOSE,
  LIFETIME,
  { name: "query", short: "Q", long: ["query"], value: "none" },
  { name: "delete", short: "D", long: ["delete"], value: "none" },
  { name: "name", short: "n", long: ["name"], value: "required" },
  { name: "update", short: "U", long: ["update"], value: "required" },
  { name: "update", short: "v", value: "required" },
  { name: "update", short: "B", long: ["update-both"], value: "required" },
  { name: "node", short: "N", long: ["node"], value: "required" },
  { name: "delay", short: "d", long: ["delay"], value: "required" },
  { name: "set", short: "s", long: ["set"], value: "required" },
  { name: "private", short: "p", long: ["private"], value: "none" },
  { name: "wait", short: "W", long: ["wait"], value: "optional" },
  { name: "all", short: "A", long: ["all"], value: "none" },
  { name: "refresh", short: "R", long: ["refresh"], value: "none" },
  { name: "update_delay", short: "Y", long: ["update-delay"], value: "none" },
  { name: "utilization", short: "z", long: ["utilization"], value: "none" },
];

/** attrd's attributes are transient: they become the run's transient node attributes. */
function attrdUpdaterPlan(args: readonly string[], env: ShimEnvironment): ShimPlan {
  const options = parseOptions("attrd_updater", args, ATTRD_UPDATER_OPTIONS);
  for (const [option, spelled] of [
    ["all", "--all"],
    ["refresh", "--refresh"],
    ["update_delay", "--update-delay"],
    ["utilization", "--utilization"],
  ] as const) {
    if (options.has(option)) return refusal(`attrd_updater ${spelled}`);
  }
  const name = optionValue(options, "name");
  if (name === undefined) throw new UsageError("attrd_updater: --name is required");
  const target: AttributeTarget = {
    node: optionValue(options, "node") ?? localNode(env),
    name,
    lifetime: "reboot",
  };
  const update = optionValue(options, "update");
  if (options.has("query")) {
    return { kind: "query", target, style: "attrd_updater", quiet: options.has("quiet") };
  }
  if (options.has("delete")) return { kind: "delete", target };
  if (update !== undefined) return { kind: "update", target, value: update };
  throw new UsageError("attrd_updater: one of --update, --query or --delete is required");
}

const CRM_NODE_OPTIONS: readonly OptionSpec[] = [
  VERBOSE,
  { name: "name", short: "n", long: ["name"], value: "none" },
  { name: "list", short: "l", long: ["list"], value: "none" },
  { name: "partition", short: "p", long: ["partition"], value: "none" },
  { name: "quorum", short: "q", long: ["quorum"], value: "none" },
  { name: "id", short: "i", long: ["cluster-id"], value: "none" },
  { name: "name_for", short: "N", long: ["name-for-id"], value: "required" },
];

function crmNodePlan(args: readonly string[], env: ShimEnvironment): ShimPlan {
  const options = parseOptions("crm_node", args, CRM_NODE_OPTIONS);
  if (options.has("id")) return refusal("crm_node --cluster-id");
  if (options.has("name_for")) return refusal("crm_node --name-for-id");
  // `crm_node -l -p` is read as -p by Pacemaker too: the last command given wins.
  if (options.has("partition")) return { kind: "partition" };
  if (options.has("list")) return { kind: "node_list" };
  if (options.has("quorum")) return { kind: "quorum" };
  if (options.has("name")) return { kind: "node_name", node: localNode(env) };
  throw new UsageError("crm_node: one of -n, -l, -p or -q is required");
}

/**
 * ocf-shellfuncs' ocf_local_nodename asks `pacemakerd -$` for the release, and only above 1.1.8
 * takes the node's name from crm_node -n (else from uname -n, the host's name, which need not be
 * the node's). Pacemaker's daemon itself is what Vigil is: anything else is refused.
 */
function pacemakerdPlan(args: readonly string[]): ShimPlan {
  if (args.length === 1 && (args[0] === "-$" || args[0] === "--version"))
    return { kind: "version" };
  return refusal(["pacemakerd", ...args].join(" "));
}

/**
 * For the commands Vigil provides a part of: an option outside that part is one of Pacemaker's
 * it does not provide (or a mistake), and the operation fails naming the whole command.
 */
function refusingUnknownOptions(
  command: string,
  args: readonly string[],
  plan: (args: readonly string[]) => ShimPlan,
): ShimPlan {
  try {
    return plan(args);
  } catch (error) {
    if (error instanceof UnknownOptionError) return refusal([command, ...args].join(" "));
    throw error;
  }
}

const CRM_MON_OPTIONS: readonly OptionSpec[] = [
  VERBOSE,
  { name: "one_shot", short: "1", long: ["one-shot"], value: "none" },
  { name: "as_xml", short: "X", long: ["as-xml"], value: "none" },
  { name: "output_as", long: ["output-as"], value: "required" },
  // Inactive resources and grouping change nothing here: every copy is always listed.
  { name: "inactive", short: "r", long: ["inactive"], value: "none" },
  { name: "group_by_node", short: "n", long: ["group-by-node"], value: "none" },
];

/** crm_mon's one-shot status (XML is always one-shot, as with Pacemaker). */
function crmMonPlan(args: readonly string[]): ShimPlan {
  const options = parseOptions("crm_mon", args, CRM_MON_OPTIONS);
  const outputAs = optionValue(options, "output_as");
  if (outputAs !== undefined && outputAs !== "xml" && outputAs !== "text") {
    throw new UsageError(`crm_mon: --output-as must be text or xml, not "${outputAs}"`);
  }
  const format: CrmMonFormat =
    outputAs === "xml"
      ? "xml"
      : options.has("as_xml") && outputAs === undefined
        ? "legacy_xml"
        : "text";
  if (format === "text" && !options.has("one_shot")) {
    // Without -1 crm_mon keeps redrawing the screen: nothing an agent can wait for.
    return refusal(["crm_mon", ...args].join(" "));
  }
  return { kind: "crm_mon", format, request: ["crm_mon", ...args].join(" ") };
}

const CRM_RESOURCE_OPTIONS: readonly OptionSpec[] = [
  VERBOSE,
  { name: "quiet", short: "Q", long: ["quiet"], value: "none" },
  { name: "locate", short: "W", long: ["locate"], value: "none" },
  { name: "ban", short: "B", long: ["ban"], value: "none" },
  { name: "resource", short: "r", long: ["resource"], value: "required" },
  { name: "node", short: "N", long: ["node"], value: "required" },
];

/**
 * `--locate`, and `--ban` (pgsql bans its own copy when its data is newer than the one about to
 * be promoted); a ban without `--node` keeps the resource off the node that runs the agent,
 * where its copy runs. Their other uses are refused.
 */
function crmResourcePlan(args: readonly string[], env: ShimEnvironment): ShimPlan {
  const options = parseOptions("crm_resource", args, CRM_RESOURCE_OPTIONS);
  const resource = optionValue(options, "resource");
  if (options.has("ban") && !options.has("locate")) {
    if (resource === undefined) throw new UsageError("crm_resource: --ban needs --resource");
    return {
      kind: "ban",
      resource,
      node: optionValue(options, "node") ?? localNode(env),
      quiet: options.has("quiet"),
    };
  }
  if (!options.has("locate") || options.has("node") || options.has("ban"))
    return refusal(["crm_resource", ...args].join(" "));
  if (resource === undefined) throw new UsageError("crm_resource: --locate needs --resource");
  return { kind: "locate", resource, quiet: options.has("quiet") };
}

const CIBADMIN_OPTIONS: readonly OptionSpec[] = [
  VERBOSE,
  { name: "query", short: "Q", long: ["query"], value: "none" },
  { name: "scope", short: "o", long: ["scope"], value: "required" },
  // Vigil's answer is always the local agent's committed state, synchronously.
  { name: "local", short: "l", long: ["local"], value: "none" },
  { name: "sync_call", short: "s", long: ["sync-call"], value: "none" },
];

function cibadminPlan(args: readonly string[]): ShimPlan {
  const options = parseOptions("cibadmin", args, CIBADMIN_OPTIONS);
  if (!options.has("query")) return refusal(["cibadmin", ...args].join(" "));
  const scope = optionValue(options, "scope");
  if (scope === undefined) return { kind: "cib_query" };
  const known = CIB_SCOPES.find((s) => s === scope);
  if (known === undefined) return refusal(`cibadmin --scope ${scope}`);
  return { kind: "cib_query", scope: known };
}

function attributePlan(
  options: ParsedOptions,
  style: QueryStyle,
  target: AttributeTarget,
): ShimPlan {
  if (options.has("delete")) return { kind: "delete", target };
  const update = optionValue(options, "update");
  if (update !== undefined && !options.has("query"))
    return { kind: "update", target, value: update };
  const fallback = optionValue(options, "default");
  return {
    kind: "query",
    target,
    style,
    quiet: options.has("quiet"),
    ...(fallback === undefined ? {} : { default: fallback }),
  };
}

function lifetimeOf(given: string, command: string): Lifetime {
  if (given === "reboot" || given === "forever") return given;
  throw new UsageError(`${command}: --lifetime must be reboot or forever, not "${given}"`);
}

/** The clone a copy belongs to: Pacemaker names copies "CLONE:N" (and so does Vigil). */
function cloneOf(resource: string | undefined, env: ShimEnvironment): string {
  const named = resource ?? env.clone ?? env.instance;
  if (named === undefined || named === "") {
    throw new UsageError(
      "crm_master: no resource: this command is meant to run inside a resource agent (OCF_RESOURCE_INSTANCE)",
    );
  }
  const base = named.replace(/:\d+$/, "");
  // An OCF copy is named after the primitive it copies (OCF_RESOURCE_INSTANCE, as Pacemaker names
  // an anonymous clone's copies): `crm_attribute -p "$OCF_RESOURCE_INSTANCE"` means its clone.
  if (env.clone !== undefined && base === env.instance?.replace(/:\d+$/, "")) return env.clone;
  return base;
}

export function promotionScoreName(clone: string): string {
  return `promotion-score-${clone}`;
}

function localNode(env: ShimEnvironment): string {
  if (env.node === "") throw new UsageError("the node's name is not known (VIGIL_NODE)");
  return env.node;
}

function refusal(what: string): ShimPlan {
  return { kind: "refused", what };
}

/** What crm_attribute prints and returns for a cluster property (null: it is not set). */
export function propertyQueryOutput(
  plan: Extract<ShimPlan, { kind: "property_query" }>,
  value: string | null,
): { stdout: string; stderr: string; code: number } {
  return crmAttributeAnswer("crm_config", plan.name, value ?? plan.default ?? null, plan.quiet);
}

/** What a command prints and returns for a query's answer (null: the attribute is not set). */
export function queryOutput(
  plan: Extract<ShimPlan, { kind: "query" }>,
  value: string | null,
): { stdout: string; stderr: string; code: number } {
  const answer = value ?? plan.default ?? null;
  const { node, name, lifetime } = plan.target;
  if (plan.style === "attrd_updater") {
    if (answer === null) {
      return {
        stdout: "",
        stderr: `attrd_updater: Could not query value of ${name}: attribute does not exist\n`,
        code: CRM_EX_NOSUCH,
      };
    }
    return {
      stdout: `name="${name}" host="${node}" value="${answer}"\n`,
      stderr: "",
      code: CRM_EX_OK,
    };
  }
  return crmAttributeAnswer(lifetime === "reboot" ? "status" : "nodes", name, answer, plan.quiet);
}

function crmAttributeAnswer(
  scope: string,
  name: string,
  answer: string | null,
  quiet: boolean,
): { stdout: string; stderr: string; code: number } {
  if (answer === null) {
    return {
      stdout: quiet ? "" : `scope=${scope}  name=${name} value=(null)\n`,
      stderr: "Error performing operation: No such device or address\n",
      code: CRM_EX_NOSUCH,
    };
  }
  return {
    stdout: quiet ? `${answer}\n` : `scope=${scope}  name=${name} value=${answer}\n`,
    stderr: "",
    code: CRM_EX_OK,
  };
}
