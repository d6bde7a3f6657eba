/** What the checkers look for. `contract` is a Ready the simulated disk or state machine refuses. */
export type ViolationKind =
  | "election_safety"
  | "committed_entry_changed"
  | "state_machine"
  | "lease_exclusivity"
  | "lease_expiry"
  | "durable_vote"
  | "liveness"
  | "contract"
  | "node_threw";

/** Thrown by a checker or a simulated component; the simulation turns it into a failure report. */
export class SimViolation extends Error {
  constructor(
    readonly kind: ViolationKind,
    detail: string,
  ) {
    super(`${kind}: ${detail}`);
    this.name = "SimViolation";
  }
}
