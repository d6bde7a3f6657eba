import type { ConfigProblem } from "./errors.js";
import { fencingEnabled } from "./safety-modes.js";
import type { ParsedConfig } from "./schema.js";

/**
 * Votes and witnesses. Two nodes cannot form a majority once they lose sight of each other, so
 * without a tie-breaker one of them would have to act alone: exactly the split brain this product
 * exists to prevent. A two-node cluster needs a witness, or fencing (two-node mode: the survivor
 * fences its peer before it goes on, src/consensus/two-node.ts) with a fence delay for one node,
 * so that after a partition both do not shoot at once.
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
    const names = full.map((node) => node.name);
    if (!fencingEnabled(parsed)) {
      problems.push({
        path: ["nodes"],
        message: `a two-node cluster (${names.join(", ")}) cannot keep a majority when one node is lost, and without one neither may act safely: add a witness node (witness: true) on a third machine running \`vigil witness\`, or configure fencing (two-node mode: the survivor fences its peer before it takes over)`,
      });
    } else if (!names.some((name) => (parsed.fencing.delay_ms[name] ?? 0) > 0)) {
      problems.push({
        path: ["fencing", "delay_ms"],
        message: `two-node mode: after a partition ${names[0]} and ${names[1]} would fence each other at the same moment; give one of them a fence delay (e.g. delay_ms: { ${names[0]}: 5000 }: ${names[0]} is fenced only after that wait, so ${names[0]} wins the race)`,
      });
    }
  }
  return problems;
}
