import { replicationOffsetAttribute } from "../resource-model/replication-offset.js";
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
 * How good a primary a node's copy would make: its agent's score (negative: never promote here),
 * and for a clone whose copies' replication offsets are read (replication_offset), its offset
 * (-1 for one that could not be read). Undefined while either is not known yet.
 */
export interface PromotionRank {
  score: number;
  offset?: number;
}

export function promotionRank(node: NodeView | undefined, clone: Clone): PromotionRank | undefined {
  const score = promotionPreference(node, clone);
  if (node === undefined || score === undefined) return undefined;
  if (clone.replicationOffset === undefined) return { score };
  const attribute = replicationOffsetAttribute(clone.id);
  if (!Object.hasOwn(node.attributes, attribute)) return undefined;
  const offset = Number(node.attributes[attribute]);
  return { score, offset: Number.isSafeInteger(offset) && offset >= 0 ? offset : -1 };
}

/**
 * Positive when `a` makes the better primary: the copy holding more of the write stream first
 * (promoting one that is behind drops writes the other acknowledged), then the agent's score.
 */
export function comparePromotionRanks(a: PromotionRank, b: PromotionRank): number {
  return (a.offset ?? 0) - (b.offset ?? 0) || a.score - b.score;
}

/** "score 5" or "offset 1200, score 5", as status shows why a promotion waits. */
export function formatPromotionRank(rank: PromotionRank | undefined): string {
  if (rank === undefined) return "score unknown";
  return rank.offset === undefined
    ? `score ${rank.score}`
    : `offset ${rank.offset < 0 ? "unknown" : rank.offset}, score ${rank.score}`;
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
  if (trimmed === "" || Number.isNaN(value)) return undefined;
  // A number too large for a double (-1e400) keeps its sign: negative still forbids.
  return Number.isFinite(value) ? value : Math.sign(value) * INFINITY_SCORE;
}
