import type { ConfigProblem } from "../config/errors.js";
import {
  checkResourceDocument,
  type DocumentCheckOptions,
} from "../resource-check/check-document.js";
import type { ResourceModel } from "../resource-model/types.js";
import { AgentCatalog } from "./agents/catalog.js";
import { checkParameters } from "./agents/metadata.js";
import { ChildProcessRunner } from "./executor/process-runner.js";

/**
 * Checks every primitive's agent against what is installed on this node: the agent exists, and
 * its meta-data's required parameters are given (and, where it describes them, no unknown ones).
 */
export async function checkAgents(
  model: ResourceModel,
  catalog: AgentCatalog,
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  for (const primitive of Object.values(model.primitives)) {
    const section = primitive.agent.kind === "director" ? "virtual_services" : "resources";
    const described = await catalog.describe(primitive.agent);
    if ("error" in described) {
      problems.push({ path: [section, primitive.id, "agent"], message: described.error });
      continue;
    }
    for (const message of checkParameters(described, primitive.params))
      problems.push({ path: [section, primitive.id, "params"], message });
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
  return checkAgents(model, catalog);
}
