import { INFINITY_SCORE, type OnFail } from "../resource-model/types.js";
import { failureKeysOf, type PolicyContext, stayingNodesOfUnit } from "./context.js";
import type { Unit } from "./model-index.js";
import { ruleMatches } from "./rules.js";
import { addToCell, cellOf, emptyTable, type ScoreTable, sumTables } from "./score.js";

/** Offline and standby nodes may run nothing. */
export function nodeStateTable(ctx: PolicyContext): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  for (const node of ctx.nodes.values()) {
    const cell = cellOf(table, node.name);
    if (!node.online) addToCell(cell, -INFINITY_SCORE, "node offline");
    else if (node.standby) addToCell(cell, -INFINITY_SCORE, "node standby");
  }
  return table;
}

/** Location constraints on `subject`; all of a constraint's conditions (node, every rule) must hold. */
export function locationTable(ctx: PolicyContext, subject: string, label: string): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  for (const constraint of ctx.index.locations) {
    if (constraint.resource !== subject) continue;
    const where = `location "${constraint.id}"`;
    for (const node of ctx.nodes.values()) {
      if (constraint.node !== undefined && constraint.node !== node.name) continue;
      const rules = constraint.rules ?? [];
      if (!rules.every((rule) => ruleMatches(rule, node.attributes, where))) continue;
      addToCell(cellOf(table, node.name), constraint.score, `location ${constraint.id}${label}`);
    }
  }
  return table;
}

/**
 * Bans a node once a resource failed there `migrationThreshold` times (0 disables; on-fail
 * "move" means 1), or failed fatally (a failed start: count INFINITY), until the last failure is
 * older than `failureTimeoutMs` (0 = never forgotten).
 */
export function failureTable(
  ctx: PolicyContext,
  keys: Array<{
    key: string;
    meta: { migrationThreshold: number; failureTimeoutMs: number; onFail?: OnFail };
  }>,
): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  for (const { key, meta } of keys) {
    const threshold = meta.onFail === "move" ? 1 : meta.migrationThreshold;
    const bansAt = threshold > 0 ? threshold : INFINITY_SCORE;
    const perNode = ctx.input.failCounts[key] ?? {};
    for (const node of ctx.nodeNames) {
      if (!Object.hasOwn(perNode, node)) continue;
      const failures = perNode[node];
      if (failures === undefined || failures.count < bansAt) continue;
      const ageMs = ctx.input.nowMs - failures.lastFailureAtMs;
      if (meta.failureTimeoutMs > 0 && ageMs > meta.failureTimeoutMs) continue;
      // Counted until it expires; a millisecond short of that, clear of any rounding of ageMs.
      if (meta.failureTimeoutMs > 0) {
        const countedUntilMs = failures.lastFailureAtMs + meta.failureTimeoutMs - 1;
        ctx.validity.untilMs = Math.min(ctx.validity.untilMs, countedUntilMs);
      }
      addToCell(
        cellOf(table, node),
        -INFINITY_SCORE,
        failures.count >= INFINITY_SCORE
          ? `${key} failed to start on ${node} (fail count INFINITY)`
          : `fail count ${key}@${node} ${failures.count} reached migration-threshold ${threshold}`,
      );
    }
  }
  return table;
}

/**
 * Stickiness is added where the unit runs now, unless auto_failback is on (then the unit goes
 * back to its best node and stickiness is ignored, as Heartbeat's `auto_failback on`).
 */
export function stickinessTable(ctx: PolicyContext, unit: Unit): ScoreTable {
  const table = emptyTable(ctx.nodeNames);
  if (unit.meta.autoFailback || unit.meta.stickiness === 0) return table;
  for (const node of stayingNodesOfUnit(ctx, unit)) {
    const cell = table.get(node);
    if (cell !== undefined) addToCell(cell, unit.meta.stickiness, "stickiness (running here)");
  }
  return table;
}

/** The score of one group member on its own: its location constraints and failure bans. */
export function memberTable(ctx: PolicyContext, member: string): ScoreTable {
  const meta = ctx.index.metaOfPrimitive(member);
  return sumTables(ctx.nodeNames, [
    locationTable(ctx, member, ` (${member})`),
    failureTable(ctx, [{ key: member, meta }]),
  ]);
}

export interface UnitBase {
  /** Node state, the unit's own constraints and bans (for a clone of a group, its members' too). */
  own: ScoreTable;
  /** Group members' own tables, in member order (groups only). */
  members: Array<{ id: string; table: ScoreTable }>;
}

/** Scores that depend only on the unit and the cluster, not on other resources' placement. */
export function unitBase(ctx: PolicyContext, unit: Unit): UnitBase {
  const parts: ScoreTable[] = [nodeStateTable(ctx)];
  for (const subject of ctx.index.ownSubjects(unit)) {
    parts.push(locationTable(ctx, subject, subject === unit.id ? "" : ` (${subject})`));
  }
  parts.push(failureTable(ctx, failureKeysOf(ctx, unit)));
  if (unit.kind === "clone" && unit.members !== undefined) {
    for (const member of unit.members) parts.push(memberTable(ctx, member));
  }
  const members =
    unit.kind === "group" ? unit.members.map((id) => ({ id, table: memberTable(ctx, id) })) : [];
  return { own: sumTables(ctx.nodeNames, parts), members };
}
