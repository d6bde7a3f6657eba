import { readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { setChildNice } from "./child-priority.js";

/**
 * The agent's heartbeats, lease renewals and guard feeds are timers: on a host whose CPUs are
 * busy (a database at full load, a backup compressing) they come late, peers take the node for
 * dead and its guard for hung, and a healthy node fails over — a false alarm. Corosync runs at
 * realtime priority for this reason; the agent takes a high niceness instead (a bug spinning at
 * realtime priority would freeze the host it should protect). What the agent runs gets its
 * original niceness back (child-priority.ts). Raising needs root (CAP_SYS_NICE).
 *
 * Returns why it could not, or null.
 */
export function raiseAgentPriority(nice: number): string | null {
  const started = getPriority();
  if (nice >= started) return null;
  try {
    setPriority(nice);
  } catch (error) {
    return `cannot raise the agent's scheduling priority to ${nice} (scheduling.nice needs root): ${(error as Error).message}; it runs at ${started}`;
  }
  setChildNice(started);
  return raiseSessionGroup(nice);
}

/**
 * With the kernel's autogroups (Debian's default: kernel.sched_autogroup_enabled), a niceness
 * only weighs against the processes of the same session, and every daemon, the agent's guard
 * and every child it starts has a session of its own: against them the agent's group would
 * count as one at niceness 0 whatever its own. The group's niceness is what counts there.
 * Returns why it could not, or null (a kernel without autogroups has nothing to set).
 */
export function raiseSessionGroup(nice: number): string | null {
  // Only a session of its own (a daemon's, or the session the agent made for its guard): in a
  // shared one it would raise the shell that started it, and everything else there.
  if (!leadsOwnSession()) return null;
  try {
    writeFileSync("/proc/self/autogroup", String(nice));
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    return `cannot raise the scheduling priority of the agent's session group to ${nice}: ${(error as Error).message}`;
  }
}

/** Whether this process leads its session (field 6 of /proc/self/stat, after the command). */
function leadsOwnSession(): boolean {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const session = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[3]);
    return session === process.pid;
  } catch {
    return false;
  }
}
