import { planActions } from "./actions.js";
import { type Allocation, allocate } from "./allocate.js";
import { createContext, type PolicyContext } from "./context.js";
import { parseCloneInstanceKey } from "./naming.js";
import type { Action, Placed, PolicyInput, PolicyOutput, ScoreLine } from "./types.js";

/**
 * The policy engine: a pure function of its input (no clock, no I/O, no randomness). The same
 * input always gives the same output, whatever the order of constraints or resources in the
 * model; ties go to the earlier node in `nodes`, then to the smaller name. See README.md here.
 */
export function computePlacement(input: PolicyInput): PolicyOutput {
  return place(createContext(input)).output;
}

/** The output, with the allocation it came from (readyActions plans from it again). */
function place(ctx: PolicyContext): { output: PolicyOutput; allocation: Allocation } {
  const { input } = ctx;
  const allocation = allocate(ctx);
  if (input.maintenance) {
    const placement = Object.fromEntries(
      Object.keys(input.current)
        .sort()
        .map((key) => [
          key,
          (input.current[key] ?? []).map((p) => ({ node: p.node, role: p.role })),
        ]),
    );
    const output = {
      placement,
      actions: [],
      scores: allocation.scores,
      unplaceable: [],
      blocked: [],
      waiting: [],
    };
    return { output, allocation };
  }
  const output = {
    placement: allocation.placement,
    actions: planActions(ctx, allocation.placement, allocation.blockedKeys),
    scores: allocation.scores,
    unplaceable: allocation.unplaceable,
    blocked: allocation.blocked,
    waiting: allocation.waiting,
  };
  return { output, allocation };
}

export interface ReadyActions {
  output: PolicyOutput;
  ready: Action[];
  /**
   * The same input at any time from its `nowMs` up to this one gives this same answer (no failure
   * it counts has expired by then); infinite when none of them expires.
   */
  validUntilMs: number;
}

/**
 * The actions that may be carried out now, for a caller that carries out a plan step by step
 * while earlier steps may still be in flight. `input.current` says where resources MAY run (an
 * instruction in flight counts as done: safe for placement), `confirmed` where they surely do.
 * A stop or demote is ready when nothing precedes it in the plan from `input.current`; a start
 * or promote also needs nothing before it in the plan from `confirmed`, so it waits for the
 * starts it is ordered after to be confirmed, not just instructed.
 */
export function readyActions(
  input: PolicyInput,
  confirmed: Record<string, Placed[]>,
): ReadyActions {
  const ctx = createContext(input);
  const { output, allocation } = place(ctx);
  const validUntilMs = ctx.validity.untilMs;
  if (input.maintenance) return { output, ready: [], validUntilMs };
  // The same model and nodes (one index of the model serves both), what surely runs as current.
  const confirmedCtx = { ...ctx, input: { ...input, current: confirmed } };
  const fromConfirmed = planActions(confirmedCtx, output.placement, allocation.blockedKeys);
  const waitsInConfirmed = new Set(
    fromConfirmed.filter((action) => action.after.length > 0).map((action) => action.id),
  );
  const ready = output.actions.filter(
    (action) =>
      action.after.length === 0 &&
      (action.op === "stop" || action.op === "demote" || !waitsInConfirmed.has(action.id)),
  );
  return { output, ready, validUntilMs };
}

/**
 * The score lines behind a resource's placement, for `vigil explain RES`. Accepts a primitive,
 * group, group member, clone, the primitive a clone wraps, or a clone instance key ("db:1").
 */
export function explainResource(input: PolicyInput, resourceId: string): ScoreLine[] {
  const ctx = createContext(input);
  const allocation = allocate(ctx);
  const direct = allocation.scores.filter((line) => line.resource === resourceId);
  if (direct.length > 0) return direct;
  for (const unit of ctx.index.units) {
    if (unit.kind !== "clone") continue;
    const isInstance = parseCloneInstanceKey(unit.id, resourceId) !== undefined;
    if (isInstance || unit.clone.of === resourceId || unit.members?.includes(resourceId)) {
      return allocation.scores.filter((line) => line.resource === unit.id);
    }
  }
  throw new Error(`explain: unknown resource "${resourceId}"`);
}
