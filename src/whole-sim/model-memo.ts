import type { NodeConfig } from "../config/schema.js";
import type { ClusterState } from "../state/types.js";
import { committedModel } from "../takeover/cluster-view.js";
import { deepFreeze } from "./deep-freeze.js";

type CommittedModel = ReturnType<typeof committedModel>;

/**
 * committedModel, remembered per document: each node of a run reads the committed resource
 * document once per run and configuration, and the nodes hold the very same document object
 * (the commands they applied come from one CommandParseMemo), so it is checked once. Frozen,
 * as the nodes share it.
 */
export class ModelMemo {
  private readonly models = new WeakMap<object, Map<string, CommittedModel>>();

  readonly committedModel = (state: ClusterState, nodes: readonly NodeConfig[]): CommittedModel => {
    const { document } = state.config;
    if (state.config.version === 0) return committedModel(state, nodes);
    const byNodes = this.models.get(document) ?? new Map<string, CommittedModel>();
    this.models.set(document, byNodes);
    const key = nodes.map((node) => `${node.name}${node.witness ? " witness" : ""}`).join(",");
    let model = byNodes.get(key);
    if (model === undefined) {
      model = deepFreeze(committedModel(state, nodes));
      byNodes.set(key, model);
    }
    return model;
  };
}
