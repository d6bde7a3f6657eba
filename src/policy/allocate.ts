import { INFINITY_SCORE } from "../resource-model/types.js";
import { stickinessTable, unitBase } from "./base-scores.js";
import { allocationOrder, colocationTable, dependentPullTable, placedNodes } from "./colocation.js";
import {
  currentKeysOfUnit,
  currentOf,
  isOnline,
  type PolicyContext,
  runningNodesOfUnit,
  stayingNodesOfUnit,
} from "./context.js";
import type { Unit } from "./model-index.js";
import { cloneInstanceKey, parseCloneInstanceKey } from "./naming.js";
import { comparePromotionRanks, promotionRank } from "./promotion.js";
import { cellOf, describeBans, isAllowedScore, type ScoreTable, sumTables } from "./score.js";
import type { Placed, ScoreLine } from "./types.js";

export interface Allocation {
  /** Every key of the model; [] = stopped. */
  placement: Record<string, Placed[]>;
  scores: ScoreLine[];
  unplaceable: Array<{ resource: string; reason: string }>;
  blocked: Array<{ resource: string; reason: string }>;
  waiting: Array<{ resource: string; reason: string }>;
  /** Keys left as `current` says; the action planner must not touch them. */
  blockedKeys: Set<string>;
  /** Final score table per unit id and per group member id (for `explain`). */
  tables: Map<string, ScoreTable>;
}

/**
 * Picks a node for a primitive or group. With auto_failback off (Heartbeat's default) a running
 * unit stays where it is while that node is allowed — only an explicit +INFINITY preference for
 * another node (e.g. an operator's move) takes it away. With auto_failback on it goes to the best
 * node, staying only on a tie. Ties otherwise go to the earlier node in `nodes`.
 */
function chooseNode(
  ctx: PolicyContext,
  table: ScoreTable,
  runningNodes: readonly string[],
  autoFailback: boolean,
): string | undefined {
  const score = (node: string) => cellOf(table, node).score;
  const best = (candidates: string[]) =>
    candidates.reduce<string | undefined>(
      (chosen, node) => (chosen === undefined || score(node) > score(chosen) ? node : chosen),
      undefined,
    );
  const allowed = ctx.nodeNames.filter((node) => isAllowedScore(score(node)));
  const bestAllowed = best(allowed);
  const stay = best(allowed.filter((node) => runningNodes.includes(node)));
  if (bestAllowed === undefined || stay === undefined) return bestAllowed;
  if (!autoFailback) {
    return score(bestAllowed) >= INFINITY_SCORE && score(stay) < INFINITY_SCORE
      ? bestAllowed
      : stay;
  }
  return score(stay) >= score(bestAllowed) ? stay : bestAllowed;
}

function copyPlaced(list: readonly Placed[]): Placed[] {
  return list.map((placed) => ({ node: placed.node, role: placed.role }));
}

class Allocator {
  readonly placement: Record<string, Placed[]> = {};
  readonly unplaceable = new Map<string, string>();
  readonly blocked = new Map<string, string>();
  readonly blockedKeys = new Set<string>();
  /** Clones that promote nothing yet, and why (for status and `vigil explain`). */
  readonly waiting = new Map<string, string>();
  readonly tables = new Map<string, ScoreTable>();
  private readonly allocated = new Set<string>();
  private readonly bases;

  constructor(private readonly ctx: PolicyContext) {
    this.bases = new Map(ctx.index.units.map((unit) => [unit.id, unitBase(ctx, unit)]));
    for (const unit of ctx.index.units) {
      for (const key of ctx.index.unitKeys(unit)) this.placement[key] = [];
    }
  }

  run(): void {
    for (const unit of allocationOrder(this.ctx)) {
      this.allocateUnit(unit);
      this.allocated.add(unit.id);
    }
    this.enforceDependencies();
    this.leaveUnusable();
  }

  /**
   * A resource whose committed definition cannot be used is never started; where it may run
   * (under an earlier definition) it is left as it is: stopping it would need that definition,
   * and whether the operator wants it stopped is not known until the document is fixed.
   */
  private leaveUnusable(): void {
    const unusable = Object.entries(this.ctx.input.model.unusable ?? {});
    for (const [id, why] of unusable) {
      const keys = Object.keys(this.ctx.input.current).filter(
        (key) =>
          (key === id || parseCloneInstanceKey(id, key) !== undefined) &&
          currentOf(this.ctx, key).length > 0,
      );
      for (const key of keys) {
        this.placement[key] = copyPlaced(currentOf(this.ctx, key));
        this.blockedKeys.add(key);
      }
      if (keys.length > 0) {
        this.blocked.set(id, `its definition cannot be used (${why}); left as it is until fixed`);
      } else this.unplaceable.set(id, `its definition cannot be used: ${why}`);
    }
  }

  private base(unit: Unit) {
    const base = this.bases.get(unit.id);
    if (base === undefined) throw new Error(`policy: no base scores for "${unit.id}"`);
    return base;
  }

  /** A unit's whole wish list (members included, no stickiness): what it pulls its primary with. */
  private wishes = (unit: Unit): ScoreTable => {
    const base = this.base(unit);
    return sumTables(this.ctx.nodeNames, [base.own, ...base.members.map((m) => m.table)]);
  };

  private allocateUnit(unit: Unit): void {
    const ctx = this.ctx;
    const base = this.base(unit);
    const withoutPull = sumTables(ctx.nodeNames, [
      base.own,
      stickinessTable(ctx, unit),
      colocationTable(ctx, unit, this.placement, this.allocated),
    ]);
    const pull = dependentPullTable(ctx, unit, withoutPull, this.wishes, this.allocated);
    const unitTable = sumTables(ctx.nodeNames, [withoutPull, pull]);
    const fullTable = sumTables(ctx.nodeNames, [unitTable, ...base.members.map((m) => m.table)]);
    this.tables.set(unit.id, fullTable);
    for (const member of base.members) this.tables.set(member.id, member.table);

    if (unit.kind === "clone") {
      this.allocateClone(unit, unitTable);
      return;
    }
    const running = runningNodesOfUnit(ctx, unit);
    const lost = running.filter((node) => !isOnline(ctx, node));
    if (lost.length > 0) {
      for (const key of currentKeysOfUnit(ctx, unit)) {
        this.placement[key] = copyPlaced(currentOf(ctx, key));
        this.blockedKeys.add(key);
      }
      this.blocked.set(
        unit.id,
        `runs on ${lost.join(", ")}, which is offline and not yet cleared (fenced or lease expired); left untouched so it never runs twice`,
      );
      return;
    }
    if (unit.meta.targetRole === "stopped") return;
    const staying = stayingNodesOfUnit(ctx, unit);
    if (unit.kind === "primitive") {
      const node = chooseNode(ctx, unitTable, staying, unit.meta.autoFailback);
      if (node === undefined) {
        this.unplaceable.set(unit.id, `no node can run ${unit.id}: ${describeBans(unitTable)}`);
      } else this.placement[unit.id] = [{ node, role: "started" }];
      return;
    }
    this.allocateGroup(unit, unitTable, staying);
  }

  /**
   * A group runs on one node. Members are tried as a prefix: if the whole group fits nowhere, the
   * longest leading run of members that fits is placed and the member that cannot run stops the
   * members after it (they are ordered after it). A member with targetRole "stopped" ends the prefix.
   */
  private allocateGroup(
    unit: Extract<Unit, { kind: "group" }>,
    unitTable: ScoreTable,
    running: string[],
  ): void {
    const members = this.base(unit).members;
    let wanted = members.findIndex(
      (member) => this.ctx.index.metaOfPrimitive(member.id).targetRole === "stopped",
    );
    if (wanted < 0) wanted = members.length;
    for (let count = wanted; count >= 1; count--) {
      const table = sumTables(this.ctx.nodeNames, [
        unitTable,
        ...members.slice(0, count).map((m) => m.table),
      ]);
      const node = chooseNode(this.ctx, table, running, unit.meta.autoFailback);
      if (node === undefined) continue;
      for (const member of members.slice(0, count)) {
        this.placement[member.id] = [{ node, role: "started" }];
      }
      const blocker = members[count];
      if (count < wanted && blocker !== undefined) {
        const bans = cellOf(blocker.table, node).bans.join(", ");
        this.unplaceable.set(blocker.id, `cannot run on ${node} with group ${unit.id}: ${bans}`);
        for (const follower of members.slice(count + 1, wanted)) {
          this.unplaceable.set(
            follower.id,
            `group ${unit.id}: follows ${blocker.id}, which cannot run on ${node}`,
          );
        }
      }
      return;
    }
    if (wanted > 0) {
      const first = members[0];
      const table = sumTables(this.ctx.nodeNames, [unitTable, ...(first ? [first.table] : [])]);
      this.unplaceable.set(unit.id, `no node can run ${unit.id}: ${describeBans(table)}`);
    }
  }

  /**
   * Up to `max` instances on distinct allowed nodes. Instances stay where they run; free instance
   * numbers go to the best remaining nodes. Promotable clones then promote up to `promotedMax`.
   */
  private allocateClone(unit: Extract<Unit, { kind: "clone" }>, table: ScoreTable): void {
    const ctx = this.ctx;
    const clone = unit.clone;
    const instanceKeys = (index: number) => this.instanceKeys(unit, index);
    const score = (node: string) => cellOf(table, node).score;
    const used = new Set<string>();
    const assigned = new Map<number, string>();
    const blockedIndexes = new Set<number>();
    const currentNode = new Map<number, string>();

    for (let index = 0; index < clone.max; index++) {
      const keys = instanceKeys(index);
      const nodes = keys.flatMap((key) => currentOf(ctx, key).map((placed) => placed.node));
      const lost = nodes.filter((node) => !isOnline(ctx, node));
      if (lost.length > 0) {
        blockedIndexes.add(index);
        for (const key of keys) {
          this.placement[key] = copyPlaced(currentOf(ctx, key));
          this.blockedKeys.add(key);
          for (const placed of currentOf(ctx, key)) used.add(placed.node);
        }
        this.blocked.set(
          cloneInstanceKey(unit.id, index),
          `runs on ${[...new Set(lost)].join(", ")}, which is offline and not yet cleared (fenced or lease expired)`,
        );
        continue;
      }
      const stay = ctx.nodeNames.find((node) => nodes.includes(node));
      if (stay !== undefined) currentNode.set(index, stay);
    }
    if (unit.meta.targetRole === "started") {
      for (const [index, node] of currentNode) {
        if (isAllowedScore(score(node)) && !used.has(node)) {
          assigned.set(index, node);
          used.add(node);
        }
      }
      const free = ctx.nodeNames
        .filter((node) => isAllowedScore(score(node)) && !used.has(node))
        .sort((a, b) => score(b) - score(a) || ctx.nodeNames.indexOf(a) - ctx.nodeNames.indexOf(b));
      for (let index = 0; index < clone.max; index++) {
        if (assigned.has(index) || blockedIndexes.has(index)) continue;
        const node = free.shift();
        if (node === undefined) break;
        assigned.set(index, node);
      }
      if (assigned.size === 0 && blockedIndexes.size === 0) {
        this.unplaceable.set(unit.id, `no node can run ${unit.id}: ${describeBans(table)}`);
      }
    }

    const promoted = clone.promotable ? this.choosePromoted(unit, assigned, blockedIndexes) : [];
    for (const [index, node] of assigned) {
      const role = !clone.promotable
        ? "started"
        : promoted.includes(index)
          ? "promoted"
          : "unpromoted";
      for (const key of this.instanceKeys(unit, index)) this.placement[key] = [{ node, role }];
    }
  }

  private instanceKeys(unit: Extract<Unit, { kind: "clone" }>, index: number): string[] {
    return unit.members === undefined
      ? [cloneInstanceKey(unit.id, index)]
      : unit.members.map((member) => cloneInstanceKey(unit.id, index, member));
  }

  /**
   * Keeps the current primaries that still run where they ran (no needless failover); fills the
   * remaining slots by the nodes' promotion preference, then placement score, then node order.
   * A primary stuck on an uncleared offline node keeps its slot, so no second primary appears.
   *
   * A copy's preference is known once its node has reported what its monitor said. No slot is
   * filled while a copy that runs (or is starting) has not reported yet: it may be the most
   * current one. That wait lasts one start and one monitor, each bounded by its timeout (the
   * first monitor runs right after the start; a copy that fails is recovered, a node that goes
   * offline is no candidate). A copy not started yet is no candidate unless its preference is
   * known (e.g. configured), as in Pacemaker, where a copy without a score is not promoted.
   */
  private choosePromoted(
    unit: Extract<Unit, { kind: "clone" }>,
    assigned: Map<number, string>,
    blockedIndexes: Set<number>,
  ): number[] {
    const ctx = this.ctx;
    const clone = unit.clone;
    const table = this.tables.get(unit.id);
    let slots = clone.promotedMax;
    const isPromotedNow = (index: number, node?: string) =>
      currentOf(ctx, cloneInstanceKey(unit.id, index)).some(
        (placed) => placed.role === "promoted" && (node === undefined || placed.node === node),
      );
    for (const index of [...blockedIndexes].sort((a, b) => a - b)) {
      if (isPromotedNow(index)) slots--;
    }
    const chosen: number[] = [];
    const indexes = [...assigned.keys()].sort((a, b) => a - b);
    for (const index of indexes) {
      if (slots > chosen.length && isPromotedNow(index, assigned.get(index))) chosen.push(index);
    }
    if (chosen.length >= slots) return chosen;
    const preferences = new Map(
      indexes.map((index) => [
        index,
        promotionRank(ctx.nodes.get(assigned.get(index) ?? ""), clone),
      ]),
    );
    const runsThere = (index: number) =>
      currentOf(ctx, cloneInstanceKey(unit.id, index)).some(
        (placed) => placed.node === assigned.get(index),
      );
    const pending = indexes.filter(
      (index) =>
        !chosen.includes(index) && preferences.get(index) === undefined && runsThere(index),
    );
    if (pending.length > 0) {
      const nodes = pending.map((index) => assigned.get(index)).join(", ");
      this.waiting.set(
        unit.id,
        `promotes no copy until the promotion score${clone.replicationOffset === undefined ? "" : " and replication offset"} of its copy on ${nodes} is known (after its first monitor)`,
      );
      return chosen;
    }
    if (indexes.every((index) => chosen.includes(index) || preferences.get(index) === undefined)) {
      if (indexes.length > chosen.length) {
        this.waiting.set(
          unit.id,
          "promotes no copy until a copy's promotion score is known (after its start and first monitor)",
        );
      }
      return chosen;
    }
    const rank = (index: number) => preferences.get(index) ?? { score: -1 };
    const placementScore = (index: number) =>
      table === undefined ? 0 : cellOf(table, assigned.get(index) ?? "").score;
    const nodeRank = (index: number) => ctx.nodeNames.indexOf(assigned.get(index) ?? "");
    const candidates = indexes
      .filter((index) => !chosen.includes(index) && rank(index).score >= 0)
      .sort(
        (a, b) =>
          comparePromotionRanks(rank(b), rank(a)) ||
          placementScore(b) - placementScore(a) ||
          nodeRank(a) - nodeRank(b),
      );
    for (const index of candidates) {
      if (chosen.length >= slots) break;
      chosen.push(index);
    }
    return chosen;
  }

  /** Keys of `resource`, plus for a group member the members after it (they depend on it). */
  private keysWithFollowers(resource: string): string[] {
    const unit = this.ctx.index.unitOf(resource, "policy");
    if (unit.kind === "group" && resource !== unit.id) {
      return unit.members.slice(unit.members.indexOf(resource));
    }
    return this.ctx.index.keysOf(resource);
  }

  private isBlocked(resource: string): boolean {
    return this.ctx.index.keysOf(resource).some((key) => this.blockedKeys.has(key));
  }

  /**
   * After placement, mandatory orders and mandatory colocations whose other side ended up not
   * running stop their dependents, repeated until nothing changes (chains propagate).
   */
  private enforceDependencies(): void {
    const ctx = this.ctx;
    let changed = true;
    const stop = (resource: string, keys: string[], reason: string, onlyNode?: Set<string>) => {
      for (const key of keys) {
        if (this.blockedKeys.has(key)) continue;
        const before = this.placement[key] ?? [];
        const after = onlyNode === undefined ? [] : before.filter((p) => onlyNode.has(p.node));
        if (after.length === before.length) continue;
        this.placement[key] = after;
        changed = true;
        if (!this.unplaceable.has(resource)) this.unplaceable.set(resource, reason);
      }
    };
    while (changed) {
      changed = false;
      for (const order of ctx.index.orders) {
        if (order.strength !== "mandatory" || this.isBlocked(order.first)) continue;
        const firstRole = order.firstAction === "promote" ? "promoted" : undefined;
        if (placedNodes(ctx, this.placement, order.first, firstRole).size > 0) continue;
        const reason = `order ${order.id}: ${order.first} is not ${firstRole ?? "running"}`;
        if (order.thenAction === "promote") {
          for (const key of ctx.index.keysOf(order.then)) {
            const placed = this.placement[key] ?? [];
            if (this.blockedKeys.has(key) || !placed.some((p) => p.role === "promoted")) continue;
            this.placement[key] = placed.map((p) => ({ node: p.node, role: "unpromoted" }));
            changed = true;
          }
        } else stop(order.then, this.keysWithFollowers(order.then), reason);
      }
      for (const c of ctx.index.colocations) {
        if (c.score < INFINITY_SCORE || this.isBlocked(c.with)) continue;
        if (ctx.index.unitOf(c.resource, c.id) === ctx.index.unitOf(c.with, c.id)) continue;
        const nodes = placedNodes(ctx, this.placement, c.with, c.withRole);
        const reason = `colocation ${c.id}: ${c.with} is not ${c.withRole ?? "running"} there`;
        stop(c.resource, this.keysWithFollowers(c.resource), reason, nodes);
      }
    }
  }

  scoreLines(): ScoreLine[] {
    const lines: ScoreLine[] = [];
    for (const unit of this.ctx.index.units) {
      const ids = [unit.id, ...(unit.kind === "group" ? unit.members : [])];
      for (const id of ids) {
        const table = this.tables.get(id);
        if (table === undefined) continue;
        for (const [node, cell] of table) {
          lines.push({ resource: id, node, score: cell.score, reasons: [...cell.reasons] });
        }
      }
    }
    return lines;
  }
}

export function allocate(ctx: PolicyContext): Allocation {
  const allocator = new Allocator(ctx);
  allocator.run();
  const sorted = (map: Map<string, string>) =>
    [...map]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([resource, reason]) => ({ resource, reason }));
  return {
    placement: allocator.placement,
    scores: allocator.scoreLines(),
    unplaceable: sorted(allocator.unplaceable),
    blocked: sorted(allocator.blocked),
    waiting: sorted(allocator.waiting),
    blockedKeys: allocator.blockedKeys,
    tables: allocator.tables,
  };
}
