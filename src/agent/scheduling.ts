import { getPriority, setPriority } from "node:os";
import type { Logger } from "../log/logger.js";
import { setChildNice } from "../resources/executor/child-priority.js";

/**
 * The agent's heartbeats, lease renewals and guard feeds are timers: on a host whose CPUs are
 * busy (a database at full load, a backup compressing) they come late, peers take the node for
 * dead and its guard for hung, and a healthy node fails over — a false alarm. Corosync runs at
 * realtime priority for this reason; the agent takes a high niceness instead (a bug spinning at
 * realtime priority would freeze the host it should protect), and its node guard, started
 * after, inherits it. What the agent runs gets its original niceness back (child-priority.ts).
 * Raising needs root (CAP_SYS_NICE): elsewhere the agent says so and runs as it was started.
 */
export function raiseAgentPriority(nice: number, logger: Logger): void {
  const started = getPriority();
  if (nice >= started) return;
  try {
    setPriority(nice);
    setChildNice(started);
    logger.info({ nice, was: started }, "raised the agent's scheduling priority");
  } catch (error) {
    logger.warn(
      { nice, err: (error as Error).message },
      "cannot raise the agent's scheduling priority (scheduling.nice needs root); it runs at the niceness it was started with",
    );
  }
}
