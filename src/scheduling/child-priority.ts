import { setPriority } from "node:os";

/**
 * The niceness the agent's children run at: what the agent had before it raised its own
 * priority (src/scheduling/priority.ts); null while it has not, and children keep what they
 * inherit. Process-wide, as the niceness it undoes is.
 */
let childNice: number | null = null;

export function setChildNice(nice: number | null): void {
  childNice = nice;
}

/**
 * A child inherits the niceness of the thread that forked it: the agent's raised one. A
 * resource's service, a fence agent or a hook must not compete with the agent's heartbeats at
 * its priority (a database at -10 would starve the very agent that watches it), so each gets
 * the agent's original niceness back as soon as it is started. Node cannot set it before the
 * exec, so a program that forks in its first microseconds could hand the raised one on; a
 * shell script takes far longer than that to start.
 */
export function lowerToChildNice(pid: number | undefined): void {
  if (childNice === null || pid === undefined) return;
  try {
    setPriority(pid, childNice);
  } catch {
    // Gone already (ESRCH): nothing of it runs at the raised priority.
  }
}
