import { InvariantError } from "../invariant/invariant-error.js";

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
  | "invariant_broken"
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

/** Anything thrown during a run, as a report: a checker's verdict, or a core that threw. */
export function toViolation(error: unknown): SimViolationReport {
  if (error instanceof SimViolation) return { kind: error.kind, message: error.message };
  // A node's own assertion (src/invariant/invariant-error.ts): a real agent stops, exit 70.
  if (error instanceof InvariantError) {
    return { kind: "invariant_broken", message: `invariant_broken: ${error.message}` };
  }
  const err = error instanceof Error ? error : new Error(String(error));
  const where = err.stack?.split("\n").slice(1, 4).join(" / ").trim() ?? "";
  return { kind: "node_threw", message: `node_threw: ${err.message} (${where})` };
}

export interface SimViolationReport {
  kind: ViolationKind;
  message: string;
}
