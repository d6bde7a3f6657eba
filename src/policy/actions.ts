import { isOnline, type PolicyContext } from "./context.js";
import { cloneInstanceKey } from "./naming.js";
import type { Action, ActionOp, Placed } from "./types.js";

const PHASE: Record<ActionOp, number> = { demote: 0, stop: 1, start: 2, promote: 3 };
const INVERSE = { start: "stop", promote: "demote" } as const;

export function actionId(op: ActionOp, resource: string, node: string): string {
  return `${op} ${resource}@${node}`;
}

/** A growing action graph; edges that would close a cycle are refused (see `orderAfter`). */
class ActionGraph {
  private readonly actions = new Map<
    string,
    { action: Action; rank: number; after: Set<string> }
  >();
  /** Each resource's actions in the order they were added (`of` is asked for every pair). */
  private readonly byResource = new Map<string, Action[]>();

  add(op: ActionOp, resource: string, node: string): string {
    const id = actionId(op, resource, node);
    if (!this.actions.has(id)) {
      const action: Action = { id, resource, node, op, after: [] };
      this.actions.set(id, { action, rank: this.actions.size, after: new Set() });
      const ofResource = this.byResource.get(resource);
      if (ofResource === undefined) this.byResource.set(resource, [action]);
      else ofResource.push(action);
    }
    return id;
  }

  of(resource: string, op: ActionOp): string[] {
    return (this.byResource.get(resource) ?? [])
      .filter((action) => action.op === op)
      .map((action) => action.id);
  }

  /** `later` waits for `earlier`. Structural edges: the caller guarantees they cannot cycle. */
  require(earlier: string, later: string): void {
    if (earlier === later) return;
    this.actions.get(later)?.after.add(earlier);
  }

  /** Like `require`, but skipped when `earlier` already (transitively) waits for `later`. */
  orderAfter(earlier: string, later: string): void {
    if (earlier === later || this.waitsFor(earlier, later)) return;
    this.require(earlier, later);
  }

  /** Whether `earlier` already waits, directly or transitively, for `later`. */
  private waitsFor(earlier: string, later: string): boolean {
    const stack = [earlier];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (id === later) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(this.actions.get(id)?.after ?? []));
    }
    return false;
  }

  /** Topological order; among ready actions: demote, stop, start, promote, then creation order. */
  ordered(): Action[] {
    const entries = [...this.actions.values()];
    const done = new Set<string>();
    const result: Action[] = [];
    while (result.length < entries.length) {
      const ready = entries
        .filter(
          ({ action, after }) => !done.has(action.id) && [...after].every((id) => done.has(id)),
        )
        .sort((a, b) => PHASE[a.action.op] - PHASE[b.action.op] || a.rank - b.rank);
      const next = ready[0];
      if (next === undefined) throw new Error("policy: action graph has a cycle (internal error)");
      done.add(next.action.id);
      const rankOf = (id: string) => this.actions.get(id)?.rank ?? 0;
      result.push({ ...next.action, after: [...next.after].sort((a, b) => rankOf(a) - rankOf(b)) });
    }
    return result;
  }
}

function sortedKeys(...records: Array<Record<string, unknown>>): string[] {
  const keys = new Set<string>();
  for (const record of records) for (const key of Object.keys(record)) keys.add(key);
  return [...keys].sort();
}

/**
 * The transition from `current` to `target` as an acyclic action graph. A move is a stop on the
 * old node and a start on the new one after it (never two copies at once); demote comes before
 * stop, promote after start; nothing is ever scheduled on an offline node.
 */
export function planActions(
  ctx: PolicyContext,
  target: Record<string, Placed[]>,
  blockedKeys: ReadonlySet<string>,
): Action[] {
  const graph = new ActionGraph();
  const current = ctx.input.current;
  const nodeRank = (node: string) => {
    const rank = ctx.nodeNames.indexOf(node);
    return rank < 0 ? ctx.nodeNames.length : rank;
  };
  const byNode = (list: readonly Placed[]) =>
    [...list].sort((a, b) => nodeRank(a.node) - nodeRank(b.node) || (a.node < b.node ? -1 : 1));

  const keys = sortedKeys(current, target);
  for (const key of keys) {
    if (blockedKeys.has(key)) continue;
    const now = byNode(current[key] ?? []).filter((placed) => isOnline(ctx, placed.node));
    const wanted = byNode(target[key] ?? []);
    const stops: string[] = [];
    for (const running of now) {
      const keep = wanted.find((placed) => placed.node === running.node);
      const wasPromoted = running.role === "promoted";
      const demote =
        wasPromoted && keep?.role !== "promoted"
          ? graph.add("demote", key, running.node)
          : undefined;
      if (keep === undefined) {
        const stop = graph.add("stop", key, running.node);
        if (demote !== undefined) graph.require(demote, stop);
        stops.push(stop);
      } else if (!wasPromoted && keep.role === "promoted") {
        graph.add("promote", key, running.node);
      }
    }
    for (const placed of wanted) {
      if (now.some((running) => running.node === placed.node)) continue;
      if (!isOnline(ctx, placed.node)) continue;
      const start = graph.add("start", key, placed.node);
      for (const stop of stops) graph.require(stop, start);
      if (placed.role === "promoted") graph.require(start, graph.add("promote", key, placed.node));
    }
  }

  for (const unit of ctx.index.units) {
    if (unit.kind === "group") chainMembers(graph, unit.members);
    if (unit.kind !== "clone") continue;
    const instances = keys.filter((key) => key === unit.id || key.startsWith(`${unit.id}:`));
    if (unit.members !== undefined) {
      for (let index = 0; index < unit.clone.max; index++) {
        chainMembers(
          graph,
          unit.members.map((member) => cloneInstanceKey(unit.id, index, member)),
        );
      }
    }
    // A new primary is promoted only after every old one is demoted: never two primaries.
    const demotes = instances.flatMap((key) => graph.of(key, "demote"));
    for (const key of instances) {
      for (const promote of graph.of(key, "promote")) {
        for (const demote of demotes) graph.require(demote, promote);
        for (const start of graph.of(key, "start")) graph.require(start, promote);
      }
    }
  }

  for (const order of ctx.index.orders) {
    const firstOp = order.firstAction ?? "start";
    const thenOp = order.thenAction ?? "start";
    const firstKeys = ctx.index.keysOf(order.first);
    const thenKeys = ctx.index.keysOf(order.then);
    const collect = (keys: string[], op: ActionOp) => keys.flatMap((key) => graph.of(key, op));
    for (const earlier of collect(firstKeys, firstOp)) {
      for (const later of collect(thenKeys, thenOp)) graph.orderAfter(earlier, later);
    }
    // Stopping runs the other way round: `then` stops (or demotes) before `first` does.
    for (const earlier of collect(thenKeys, INVERSE[thenOp])) {
      for (const later of collect(firstKeys, INVERSE[firstOp])) graph.orderAfter(earlier, later);
    }
  }
  return graph.ordered();
}

/** Group members start in order and stop in reverse order. */
function chainMembers(graph: ActionGraph, keys: string[]): void {
  for (let later = 1; later < keys.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      const earlierKey = keys[earlier] as string;
      const laterKey = keys[later] as string;
      for (const a of graph.of(earlierKey, "start")) {
        for (const b of graph.of(laterKey, "start")) graph.require(a, b);
      }
      for (const a of graph.of(laterKey, "stop")) {
        for (const b of graph.of(earlierKey, "stop")) graph.require(a, b);
      }
    }
  }
}
