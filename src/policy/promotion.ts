import { type Clone, INFINITY_SCORE } from "../resource-model/types.js";
import type { NodeView } from "./types.js";

/** The attribute a copy's node sets once its monitor has run: what it said, or this. */
export const NO_PROMOTION_SCORE = "none";

/** Attribute names a node's promotion score for a clone may be set under, in order of precedence. */
function scoreAttributeNames(clone: Clone): string[] {
  return [
    `promotion-score-${clone.id}`,
    `promotion-score-${clone.of}`,
    `master-${clone.id}`,
    `master-${clone.of}`,
  ];
}

/**
 * The promotion preference a node advertises for a clone: the agent sets the node attribute
 * `promotion-score-<clone>` (or Pacemaker's older `master-<clone>`; the wrapped primitive's name
 * works too) to say how current its replica is. Higher is better; a negative value (-INFINITY
 * too) means "do not promote here"; a value that is not a score (`none`: the agent's monitor gave
 * no score) counts as 0.
 *
 * Undefined while none of these attributes is set: the copy there has not been monitored since it
 * started, so how current it is is not known yet. Counting that as 0 once promoted an empty copy
 * over a replica whose score was still on its way to the leader; the caller waits instead.
 */
export function promotionPreference(node: NodeView | undefined, clone: Clone): number | undefined {
  if (node === undefined) return undefined;
  let known = false;
  for (const name of scoreAttributeNames(clone)) {
    if (!Object.hasOwn(node.attributes, name)) continue;
    known = true;
    const value = scoreValue(node.attributes[name] ?? "");
    if (value !== undefined) return value;
  }
  return known ? 0 : undefined;
}

/**
 * A score: a number, or Pacemaker's INFINITY (+INFINITY) and -INFINITY, which OCF agents set
 * (pgsql gives the replicas it cannot vouch for -INFINITY: never promote there), as ±1000000.
 * Numbers are not bounded by them as Pacemaker's are: an exec agent's score may be a replication
 * offset far above. Undefined when it is not a score.
 */
function scoreValue(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "INFINITY" || trimmed === "+INFINITY") return INFINITY_SCORE;
  if (trimmed === "-INFINITY") return -INFINITY_SCORE;
  const value = Number(trimmed);
  return trimmed === "" || !Number.isFinite(value) ? undefined : value;
}
