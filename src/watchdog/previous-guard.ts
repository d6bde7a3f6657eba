/**
 * A new run of the agent must not begin while the previous run's node guard still stops what
 * that run held: its probe would find a resource the guard is about to stop, report it running,
 * and the cluster would build on it (start what is ordered after it) just before it stops. The
 * service manager's restart delay (examples/systemd/vigil.service: 5 s) usually covers the
 * guard's release (at most the lease and its grace); an operator's quick restart, or another
 * supervisor, does not. So every run records its guard here, and the next one waits for it
 * (the whole-node simulator found the race: seed 40015450).
 */
import { readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../log/logger.js";

const GUARD_FILE = "guard.pid";
/** Longer than any release: the lease, its grace and a self-fence action's timeout. */
export const PREVIOUS_GUARD_WAIT_MS = 60_000;
const POLL_MS = 50;

/** This run's guard, by pid and start time (a pid alone may be another process by then). */
export async function recordGuard(stateDir: string, pid: number): Promise<void> {
  const started = startTimeOf(pid);
  if (started === null) return;
  await writeFile(join(stateDir, GUARD_FILE), `${pid} ${started}\n`, { mode: 0o600 });
}

/**
 * Resolves once the guard the previous run recorded has exited (at once if it has, or none was
 * recorded), or after `timeoutMs`, with a warning that says so.
 */
export async function waitForPreviousGuard(
  stateDir: string,
  logger: Logger,
  timeoutMs = PREVIOUS_GUARD_WAIT_MS,
): Promise<void> {
  let text: string;
  try {
    text = await readFile(join(stateDir, GUARD_FILE), "utf8");
  } catch {
    return; // none recorded: the first run here, or one without a guard
  }
  const match = /^(\d+) (\d+)\n?$/.exec(text);
  if (match === null) {
    logger.warn(
      { file: join(stateDir, GUARD_FILE) },
      "previous node guard record unreadable; not waited for",
    );
    return;
  }
  const pid = Number(match[1]);
  const started = match[2];
  const stillThere = () => startTimeOf(pid) === started;
  if (!stillThere()) return;
  logger.warn(
    { pid },
    "the previous run's node guard is still stopping what that run held: this run waits for it before it joins",
  );
  const deadline = Date.now() + timeoutMs;
  while (stillThere()) {
    if (Date.now() >= deadline) {
      logger.error(
        { pid, waitedMs: timeoutMs },
        "the previous run's node guard has not exited; going on without it (what it still stops may be reported running)",
      );
      return;
    }
    await sleep(POLL_MS);
  }
  logger.info({ pid }, "the previous run's node guard has exited");
}

/** Field 22 of /proc/PID/stat (clock ticks after boot), or null when no such process runs. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie has exited; its parent (the old agent, gone) will not reap it soon.
    if (fields[0] === "Z") return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}
