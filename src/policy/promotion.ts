import type { Clone } from "../resource-model/types.js";
import type { NodeView } from "./types.js";

/**
 * The promotion preference a node advertises for a clone: the agent sets the node attribute
 * `promotion-score-<clone>` (or Pacemaker's older `master-<clone>`; the wrapped primitive's name
 * works too) to say how current its replica is. Higher is better; a negative value means "do not
 * promote here"; absent or non-numeric counts as 0.
 */
export function promotionPreference(node: NodeView | undefined, clone: Clone): number {
  if (node === undefined) return 0;
  const names = [
    `promotion-score-${clone.id}`,
    `promotion-score-${clone.of}`,
    `master-${clone.id}`,
    `master-${clone.of}`,
  ];
  for (const name of names) {
    if (!Object.hasOwn(node.attributes, name)) continue;
    const text = node.attributes[name] ?? "";
    const value = Number(text);
    if (text.trim() !== "" && Number.isFinite(value)) return value;
  }
  return 0;
}
