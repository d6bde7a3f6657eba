import type { CallbackGuard } from "../../agent/callback-guard.js";

/**
 * Timers and sockets of the modules an agent runs (coordination, resources, fencing) have no
 * guard of their own: what reaches the event loop from them is handed to `guard`, logged and
 * counted instead of ending the process, and a broken invariant still stops the agent. The
 * agent's own heartbeat and detector timers and its links are guarded where they are set, so
 * that they are also re-armed.
 */
export function containUncaught(guard: CallbackGuard): void {
  process.on("uncaughtException", (error) => guard.report("uncaught exception", error));
  process.on("unhandledRejection", (reason) => guard.report("unhandled rejection", reason));
}
