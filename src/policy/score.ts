import { INFINITY_SCORE } from "../resource-model/types.js";

/**
 * Score arithmetic in Pacemaker's convention: values saturate at ±INFINITY_SCORE and -INFINITY
 * wins over +INFINITY, so a ban can never be outweighed by any preference.
 */
export function addScores(a: number, b: number): number {
  if (a <= -INFINITY_SCORE || b <= -INFINITY_SCORE) return -INFINITY_SCORE;
  if (a >= INFINITY_SCORE || b >= INFINITY_SCORE) return INFINITY_SCORE;
  return Math.max(-INFINITY_SCORE, Math.min(INFINITY_SCORE, a + b));
}

export function formatScore(score: number): string {
  if (score >= INFINITY_SCORE) return "+INFINITY";
  if (score <= -INFINITY_SCORE) return "-INFINITY";
  return score >= 0 ? `+${score}` : `${score}`;
}

export function isAllowedScore(score: number): boolean {
  return score > -INFINITY_SCORE;
}

/** One (resource, node) score with the reasons that produced it, in the order they were added. */
export interface ScoreCell {
  score: number;
  reasons: string[];
  /** The subset of reasons that contributed -INFINITY (used to explain unplaceable resources). */
  bans: string[];
}

/** node name → cell, iterated in the order of `PolicyInput.nodes`. */
export type ScoreTable = Map<string, ScoreCell>;

export function emptyTable(nodeNames: readonly string[]): ScoreTable {
  const table: ScoreTable = new Map();
  for (const name of nodeNames) table.set(name, { score: 0, reasons: [], bans: [] });
  return table;
}

export function addToCell(cell: ScoreCell, delta: number, reason: string): void {
  if (delta === 0) return;
  const text = `${reason} ${formatScore(delta)}`;
  cell.score = addScores(cell.score, delta);
  cell.reasons.push(text);
  if (delta <= -INFINITY_SCORE) cell.bans.push(text);
}

export function cellOf(table: ScoreTable, node: string): ScoreCell {
  const cell = table.get(node);
  if (cell === undefined) throw new Error(`policy: no score cell for node "${node}"`);
  return cell;
}

/** A new table holding the saturated sum of `tables`, reasons concatenated in argument order. */
export function sumTables(nodeNames: readonly string[], tables: readonly ScoreTable[]): ScoreTable {
  const result: ScoreTable = new Map();
  for (const name of nodeNames) {
    const target: ScoreCell = { score: 0, reasons: [], bans: [] };
    for (const table of tables) {
      const source = cellOf(table, name);
      target.score = addScores(target.score, source.score);
      for (const reason of source.reasons) target.reasons.push(reason);
      for (const ban of source.bans) target.bans.push(ban);
    }
    result.set(name, target);
  }
  return result;
}

/** Why no node is allowed: each node with the bans that excluded it. */
export function describeBans(table: ScoreTable): string {
  const parts: string[] = [];
  for (const [node, cell] of table) {
    const why = cell.bans.length > 0 ? cell.bans.join(", ") : `score ${formatScore(cell.score)}`;
    parts.push(`${node}: ${why}`);
  }
  return parts.length > 0 ? parts.join("; ") : "the cluster has no nodes";
}
