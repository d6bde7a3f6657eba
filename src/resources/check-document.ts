import type { ConfigProblem } from "../config/errors.js";
import { resourceDocumentSchema } from "./model-schema.js";
import { parseResourceModel } from "./parse-model.js";
import type { ResourceModel } from "./types.js";

/**
 * Checks the resource sections of a cluster configuration document: shape first, then every
 * reference. Used by `vigil config apply` before sending (to point at lines of the file) and by
 * the agent before proposing (API clients do not go through the CLI).
 */
export function checkResourceDocument(
  document: unknown,
  nodeNames: readonly string[],
): { model: ResourceModel | null; problems: ConfigProblem[] } {
  const parsed = resourceDocumentSchema.safeParse(document);
  if (!parsed.success) {
    return {
      model: null,
      problems: parsed.error.issues.map((issue) => ({
        path: issue.path.map((segment) =>
          typeof segment === "symbol" ? String(segment) : segment,
        ),
        message: issue.message,
      })),
    };
  }
  const { model, problems } = parseResourceModel(parsed.data, nodeNames);
  return { model: problems.length === 0 ? model : null, problems };
}

/** "resources.web.agent: unknown agent ..." lines, for messages without a file. */
export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems
    .map((problem) => `${problem.path.join(".") || "(document)"}: ${problem.message}`)
    .join("; ");
}
