import type { ConfigPath, ConfigProblem } from "../config/errors.js";
import {
  checkResourceDocument,
  type DocumentCheckOptions,
} from "../resource-check/check-document.js";
import { nodeParams, type ResourceModel } from "../resource-model/types.js";
import { AgentCatalog } from "./agents/catalog.js";
import { missingParameters, unknownParameters } from "./agents/metadata.js";
import { ChildProcessRunner } from "./executor/process-runner.js";

/**
 * Instance attributes ocf-shellfuncs reads for every OCF agent (Pacemaker passes them through):
 * `trace_ra` traces the agent's shell into `trace_file`, or a file under $HA_VARLIB/trace_ra.
 */
const OCF_SHELL_PARAMETERS = ["trace_ra", "trace_file"];

/**
 * Checks every primitive's agent against what is installed on this node: the agent exists, its
 * meta-data's required parameters are given (and, where it describes them, no unknown ones) with
 * the parameters of every node, and a parameter it marks unique (a pid file, a data directory, an
 * address) is not given the same value by two resources that may run on one node.
 */
export async function checkAgents(
  model: ResourceModel,
  catalog: AgentCatalog,
  nodeNames: readonly string[],
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  /** Per agent, unique parameter, node and value: the first resource that uses it. */
  const uniqueValues = new Map<string, string>();
  for (const primitive of Object.values(model.primitives)) {
    const section = primitive.agent.kind === "director" ? "virtual_services" : "resources";
    const described = await catalog.describe(primitive.agent);
    if ("error" in described) {
      problems.push({ path: [section, primitive.id, "agent"], message: described.error });
      continue;
    }
    const own = Object.keys(primitive.paramsOn ?? {});
    const seen = new Set<string>();
    const report = (path: ConfigPath, messages: readonly string[]) => {
      for (const message of messages) {
        if (seen.has(message)) continue;
        seen.add(message);
        problems.push({ path, message });
      }
    };
    const accepted = primitive.agent.kind === "ocf" ? OCF_SHELL_PARAMETERS : [];
    // An unknown name is named where it is written; a missing one per node, on what it runs with.
    const params: ConfigPath = [section, primitive.id, "params"];
    report(params, unknownParameters(described, primitive.params, accepted));
    for (const node of own) {
      report(
        [section, primitive.id, "params_on", node],
        unknownParameters(described, primitive.paramsOn?.[node] ?? {}, accepted),
      );
    }
    if (own.length === 0 || nodeNames.some((node) => !own.includes(node)))
      report(params, missingParameters(described, primitive.params));
    for (const node of own) {
      report(
        [section, primitive.id, "params_on", node],
        missingParameters(described, nodeParams(primitive, node)),
      );
    }

    const agent = `${primitive.agent.kind}:${primitive.agent.name}`;
    for (const parameter of described.parameters.filter((p) => p.unique)) {
      for (const node of nodeNames) {
        // Only values written count: an OCF agent's default is often made per resource by its
        // shell (the meta-data shows it expanded for a resource named after the meta-data call).
        const value = nodeParams(primitive, node)[parameter.name];
        if (value === undefined) continue;
        const key = JSON.stringify([agent, parameter.name, node, value]);
        const other = uniqueValues.get(key);
        if (other === undefined) {
          uniqueValues.set(key, primitive.id);
          continue;
        }
        if (other === primitive.id) continue;
        problems.push({
          path: [section, primitive.id, own.includes(node) ? "params_on" : "params"],
          message: `${parameter.name}=${value} is ${other}'s too, on node ${node}: agent ${described.name} needs it unique per host (two copies would share it); give one of them another value, in params or per node in params_on`,
        });
        break;
      }
    }
  }
  return problems;
}

/** Shape and references, then (when those are sound) the agents installed on this node. */
export async function checkResourceDocumentWithAgents(
  document: unknown,
  nodeNames: readonly string[],
  catalog: AgentCatalog = new AgentCatalog({ runner: new ChildProcessRunner() }),
  options: Pick<DocumentCheckOptions, "fencing"> = {},
): Promise<ConfigProblem[]> {
  const { model, problems } = checkResourceDocument(document, nodeNames, options);
  if (model === null) return problems;
  return checkAgents(model, catalog, nodeNames);
}
