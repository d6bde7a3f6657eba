import { INFINITY_SCORE } from "../resource-model/types.js";
import type { PolicyContext } from "./context.js";
import type { Unit } from "./model-index.js";
import {
  addScores,
  addToCell,
  cellOf,
  emptyTable,
  formatScore,
  isAllowedScore,
  type ScoreTable,
} from "./score.js";
import type { Placed } from "./types.js";

/**
 * Allocation order: a unit is placed after the units it is colocated with, so it can follow them.
 * Ties (and colocation cycles) are broken by unit id.
 */
export function allocationOrder(ctx: PolicyContext): Unit[] {
  const dependsOn = new Map<string, Set<string>>();
  for (const unit of ctx.index.units) dependsOn.set(unit.id, new Set());
  for (const c of ctx.index.colocations) {
    if (c.score === 0) continue;
    const dependent = ctx.index.unitOf(c.resource, `colocation "${c.id}"`);
    const primary = ctx.index.unitOf(c.with, `colocation "${c.id}"`);
    if (dependent !== primary) dependsOn.get(dependent.id)?.add(primary.id);
  }
  const done = new Set<string>();
  const order: Unit[] = [];
  while (order.length < ctx.index.units.length) {
    const remaining = ctx.index.units.filter((unit) => !done.has(unit.id));
    const ready = remaining.find((unit) =>
      [...(dependsOn.get(unit.id) ?? [])].every((id) => done.has(id)),
    );
    const next = ready ?? remaining[0];
    if (next === undefined) break;
    done.add(next.id);
    order.push(next);
  }
  return order;
}

/** Nodes where a resource is placed in `placement` (only promoted copies when `role` is "promoted"). */
export function placedNodes(
  ctx: PolicyContext,
  placement: Record<string, Placed[]>,
  resource: string,
  role: "promoted" | undefined,
): Set<string> {
  const nodes = new Set<string>();
  for (const key of ctx.index.keysOf(resource)) {
    for (const placed of placement[key] ?? []) {
      if (role === undefined || placed.role === "promoted") nodes.add(placed.node);
    }
  }
  return nodes;
}

/**
 * What colocation constraints on `unit` (as the dependent) add, given where the resources it is
 * colocated with were placed: +INFINITY restricts it to their nodes, -INFINITY keeps it off them,
 * a finite score is added on their nodes.
 */
export function colocationTable(
  ctx: PolicyContext,
  unit: Unit,
  placement: Record<string, Placed[]>,
  allocated: ReadonlySet<string>,
): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  for (const c of ctx.index.colocations) {
    if (ctx.index.unitOf(c.resource, c.id) !== unit) continue;
    const primary = ctx.index.unitOf(c.with, c.id);
    if (primary === unit || c.score === 0) continue;
    const label = `colocation ${c.id} (with ${c.with}${c.withRole === "promoted" ? " promoted" : ""})`;
    if (!allocated.has(primary.id)) {
      for (const cell of table.values()) cell.reasons.push(`${label} ignored: colocation cycle`);
      continue;
    }
    const nodes = placedNodes(ctx, placement, c.with, c.withRole);
    for (const node of ctx.nodeNames) {
      const cell = cellOf(table, node);
      const together = nodes.has(node);
      if (c.score >= INFINITY_SCORE) {
        if (!together) addToCell(cell, -INFINITY_SCORE, `${label}: ${c.with} not here`);
      } else if (c.score <= -INFINITY_SCORE) {
        if (together) addToCell(cell, -INFINITY_SCORE, `${label}: ${c.with} here`);
      } else if (together) {
        addToCell(cell, c.score, label);
      }
    }
  }
  return table;
}

/**
 * Positive colocations pull the primary toward what its dependents want: a mandatory one adds the
 * dependent's whole score (bans included), a finite one a share of its finite preferences
 * (score / INFINITY). A dependent's wishes are ignored when they would leave the primary no node,
 * so a banned dependent never stops the resource it follows.
 */
export function dependentPullTable(
  ctx: PolicyContext,
  unit: Unit,
  current: ScoreTable,
  dependentScores: (dependent: Unit) => ScoreTable,
  allocated: ReadonlySet<string>,
): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  const running = new Map([...current].map(([node, cell]) => [node, cell.score]));
  for (const c of ctx.index.colocations) {
    if (c.score <= 0 || c.withRole !== undefined) continue;
    if (ctx.index.unitOf(c.with, c.id) !== unit) continue;
    const dependent = ctx.index.unitOf(c.resource, c.id);
    if (dependent === unit || allocated.has(dependent.id)) continue;
    if (dependent.meta.targetRole === "stopped") continue;
    const wishes = dependentScores(dependent);
    const deltas = new Map<string, number>();
    for (const node of ctx.nodeNames) {
      if (!isAllowedScore(running.get(node) ?? 0)) continue;
      const wish = cellOf(wishes, node).score;
      if (c.score >= INFINITY_SCORE) deltas.set(node, wish);
      else if (Math.abs(wish) < INFINITY_SCORE) {
        deltas.set(node, Math.round((wish * c.score) / INFINITY_SCORE));
      }
    }
    const label = `colocation ${c.id}: ${c.resource} prefers`;
    const leavesANode = [...running].some(
      ([node, score]) => isAllowedScore(score) && (deltas.get(node) ?? 0) > -INFINITY_SCORE,
    );
    if (!leavesANode) {
      for (const cell of table.values()) {
        cell.reasons.push(`${label} ignored (${formatScore(-INFINITY_SCORE)} everywhere)`);
      }
      continue;
    }
    for (const [node, delta] of deltas) {
      addToCell(cellOf(table, node), delta, label);
      running.set(node, addScores(running.get(node) ?? 0, delta));
    }
  }
  return table;
}
