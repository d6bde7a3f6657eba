import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import type { ClusterState, SessionEndReason } from "../../src/state/types.js";
import { waitFor } from "./wait.js";

/** One line of examples/leader-election.mjs. */
export interface ElectionLine {
  event: string;
  atMs: number;
  session?: string;
  code?: string;
  reason?: string;
  acquiredAtMs?: number;
}

/**
 * One copy of the leader-election example, a process of its own (so it can be paused, or
 * outlive its agent), its stdout read line by line. It runs on this machine and reaches the
 * agent by its control socket, a file path: from outside a lab host's network namespace too.
 */
export class Contender {
  readonly lines: ElectionLine[] = [];
  readonly child: ChildProcess;

  constructor(socket: string, key: string, ttlMs: number, lockDelayMs: number) {
    this.child = spawn(
      process.execPath,
      [
        "examples/leader-election.mjs",
        "--socket",
        socket,
        "--key",
        key,
        "--ttl-ms",
        String(ttlMs),
        "--lock-delay-ms",
        String(lockDelayMs),
        "--retry-ms",
        "100",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let pending = "";
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => {
      const parts = (pending + chunk).split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) if (part !== "") this.lines.push(JSON.parse(part) as ElectionLine);
    });
  }

  /** The first line from `from` on that matches; a timeout names the last lines it printed. */
  async wait(
    what: string,
    match: (line: ElectionLine) => boolean,
    from = 0,
  ): Promise<ElectionLine> {
    try {
      return await waitFor(what, () => this.lines.slice(from).find(match), { timeoutMs: 30_000 });
    } catch (error) {
      const last = this.lines.slice(-5).map((line) => JSON.stringify(line));
      throw new Error(`${(error as Error).message}; its last lines: ${last.join(" ")}`);
    }
  }

  kill(): void {
    this.child.kill("SIGCONT");
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}

/**
 * From the committed state: `lost` ended for `reason`, and `key` went to `winner` no earlier
 * than the end's time plus the lock-delay (the state's timestamps, not how fast it went).
 * Returns the end's time.
 */
export function assertTakenAfterLockDelay(
  state: ClusterState,
  expected: {
    key: string;
    lost: string;
    winner: string;
    reason: SessionEndReason;
    lockDelayMs: number;
  },
): number {
  const end = state.sessionEnds?.find((e) => e.session === expected.lost);
  assert.equal(end?.reason, expected.reason, JSON.stringify(state.sessionEnds));
  const lock = state.locks?.[expected.key];
  assert.ok(lock !== undefined && "session" in lock, JSON.stringify(lock));
  assert.equal(lock.session, expected.winner);
  assert.ok(
    lock.acquiredAtMs >= end.atMs + expected.lockDelayMs,
    `acquired at ${lock.acquiredAtMs}, the session ended at ${end.atMs}`,
  );
  return end.atMs;
}
