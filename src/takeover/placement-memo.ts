import { type ReadyActions, readyActions } from "../policy/engine.js";
import type { NodeView, PolicyInput } from "../policy/types.js";
import type { ResourceModel } from "../resource-model/types.js";
import type { ClusterState } from "../state/types.js";
import { confirmedPlacement } from "./cluster-view.js";

/**
 * The policy engine's answer to the leader's last view, kept while only time moves on. The
 * leader decides again on every committed entry, membership event, lease change and recheck
 * (every 20 ms while a lost node's lease runs out), most often from the same placement inputs
 * (a report of a notification, a score poll's answer, a hook's progress change the state but
 * none of them), and the engine is the dearest part of a decision. Pure.
 *
 * The input must be a function of the state, the node views and the time (policyInputOf is).
 * What the engine reads of the state is compared by identity (a command that leaves a part as it
 * was keeps its object): the resource cells (`current`, and what is confirmed), the fail counts,
 * maintenance and the model's parts; the node views by value; the time only matters through the
 * failures the answer counts (validUntilMs) and the constraints the leader adds as time passes (a
 * client-link cut that has stood long enough: client-links.ts), compared by id.
 */
export class ReadyActionsMemo {
  private last: {
    resources: ClusterState["resources"];
    failCounts: ClusterState["failCounts"];
    maintenance: boolean;
    model: ResourceModel;
    nodes: NodeView[];
    constraintIds: string[];
    fromMs: number;
    answer: ReadyActions;
  } | null = null;

  readyActions(state: ClusterState, input: PolicyInput): ReadyActions {
    const last = this.last;
    if (
      last !== null &&
      last.resources === state.resources &&
      last.failCounts === input.failCounts &&
      last.maintenance === input.maintenance &&
      sameModelParts(last.model, input.model) &&
      input.nowMs >= last.fromMs &&
      input.nowMs <= last.answer.validUntilMs &&
      sameNodeViews(last.nodes, input.nodes) &&
      sameIds(last.constraintIds, input.model.constraints)
    ) {
      return last.answer;
    }
    const answer = readyActions(input, confirmedPlacement(state));
    this.last = {
      resources: state.resources,
      failCounts: input.failCounts,
      maintenance: input.maintenance,
      model: input.model,
      nodes: input.nodes,
      constraintIds: input.model.constraints.map((constraint) => constraint.id),
      fromMs: input.nowMs,
      answer,
    };
    return answer;
  }
}

/** The same resources (a model with the leader's bans added shares them with the one without). */
function sameModelParts(a: ResourceModel, b: ResourceModel): boolean {
  return (
    a.primitives === b.primitives &&
    a.groups === b.groups &&
    a.clones === b.clones &&
    a.unusable === b.unusable
  );
}

function sameIds(ids: readonly string[], constraints: readonly { id: string }[]): boolean {
  return ids.length === constraints.length && constraints.every((c, i) => c.id === ids[i]);
}

function sameNodeViews(a: readonly NodeView[], b: readonly NodeView[]): boolean {
  return (
    a.length === b.length &&
    a.every((view, i) => {
      const other = b[i]!;
      return (
        view.name === other.name &&
        view.online === other.online &&
        view.standby === other.standby &&
        sameAttributes(view.attributes, other.attributes)
      );
    })
  );
}

function sameAttributes(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length &&
    keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
}
