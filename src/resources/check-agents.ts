import type { ConfigProblem } from "../config/errors.js";
import type { AgentCatalog } from "./agents/catalog.js";
import { checkParameters } from "./agents/metadata.js";
import type { ResourceModel } from "./types.js";

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
    const described = await catalog.describe(primitive.agent);
    if ("error" in described) {
      problems.push({ path: ["resources", primitive.id, "agent"], message: described.error });
      continue;
    }
    for (const message of checkParameters(described, primitive.params))
      problems.push({ path: ["resources", primitive.id, "params"], message });
  }
  return problems;
}
