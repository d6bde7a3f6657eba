import { type Applied, applyCommand } from "../state/apply.js";
import { type ParsedCommand, parseCommand } from "../state/commands.js";
import type { ClusterState } from "../state/types.js";
import { deepFreeze } from "./deep-freeze.js";

/**
 * applyCommand, remembered per state and payload, for every simulated node of a run: each node
 * applies every committed payload, and again after each restart. applyCommand is pure and never
 * changes the state it is given, so the same state object and payload give the same outcome; the
 * nodes that apply the same entries to the same state then hold the very same state objects, and
 * the run computes each once. A node's state that diverged (a broken Raft) is another object and
 * is applied on its own: the memo cannot hide a divergence.
 *
 * A state the memo did not make (a node's initial state, one restored from a snapshot) is first
 * looked up by its JSON text (same keys, same order, same values: it behaves alike), so that the
 * nodes' initial states share one chain.
 *
 * Parsed commands are frozen: the nodes' states share them, and applying a command must never
 * change it, which a mutation would now show at once.
 */
export class CommandMemo {
  private readonly parsed = new Map<string, ParsedCommand>();
  private readonly applied = new WeakMap<ClusterState, Map<string, Applied>>();
  private readonly byText = new Map<string, ClusterState>();

  readonly parse = (payload: string): ParsedCommand => {
    let parsed = this.parsed.get(payload);
    if (parsed === undefined) {
      parsed = deepFreeze(parseCommand(payload));
      this.parsed.set(payload, parsed);
    }
    return parsed;
  };

  readonly apply = (state: ClusterState, payload: string): Applied => {
    const from = this.applied.has(state) ? state : this.known(state);
    let outcomes = this.applied.get(from);
    if (outcomes === undefined) {
      outcomes = new Map();
      this.applied.set(from, outcomes);
    }
    let outcome = outcomes.get(payload);
    if (outcome === undefined) {
      outcome = applyCommand(from, payload, this.parse);
      outcomes.set(payload, outcome);
      if (!this.applied.has(outcome.state)) this.applied.set(outcome.state, new Map());
    }
    return outcome;
  };

  /** The state the memo knows with the same JSON text as `state`, or `state` itself. */
  private known(state: ClusterState): ClusterState {
    const text = JSON.stringify(state);
    const known = this.byText.get(text);
    if (known !== undefined) return known;
    this.byText.set(text, state);
    return state;
  }
}
