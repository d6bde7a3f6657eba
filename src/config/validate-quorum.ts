import type { ConfigProblem } from "./errors.js";
import type { ParsedConfig } from "./schema.js";

/**
 * Votes and witnesses. Two nodes cannot form a majority once they lose sight of each other, so
 * without a tie-breaker one of them would have to act alone: exactly the split brain this product
 * exists to prevent. Until fencing exists, a two-node cluster needs a witness.
 */
export function validateQuorum(parsed: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const full = parsed.nodes.filter((node) => !node.witness);
  const witnesses = parsed.nodes.filter((node) => node.witness);
  if (full.length === 0) {
    problems.push({
      path: ["nodes"],
      message: "every node is a witness; at least one node must be able to lead and run resources",
    });
  }
  if (full.length === 2 && witnesses.length === 0) {
    problems.push({
      path: ["nodes"],
      message: `a two-node cluster (${full.map((node) => node.name).join(", ")}) cannot keep a majority when one node is lost, and without one neither may act safely: add a witness node (witness: true) on a third machine running \`vigil witness\``,
    });
  }
  return problems;
}
