/**
 * A state the code relies on never to happen has happened (a Raft log with a gap, a truncation
 * into the snapshot): going on could act on state that is wrong, which in a cluster manager means
 * two nodes running one resource or a committed write lost. It is the one exception that stops
 * the agent loudly (exit 70) even when thrown in a timer or socket callback, where any other
 * exception is logged, counted and contained (src/agent/callback-guard.ts).
 */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}
