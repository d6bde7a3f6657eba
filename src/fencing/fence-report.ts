/**
 * How a fence operation is told: one line per agent run (level, device, action, result, reason),
 * and one summary, the same in the log, the fence history, `vigil fence` and `vigil status`.
 * Pure.
 */
import type { FenceAttemptRecord } from "../state/types.js";
import { truncate } from "./agent-output.js";
import type { FenceOutcome } from "./fence-runner.js";
import type { FenceAction } from "./levels.js";

/** A fence operation's outcome as it is recorded (node_fenced) and reported. */
export interface FenceResult {
  ok: boolean;
  action: FenceAction;
  /** The devices of the level that fenced the node, or every device tried when none did. */
  devices: string[];
  /** One line: which level fenced the node and what failed before, or what failed. */
  detail: string;
  /** Every agent run, in order. */
  attempts: FenceAttemptRecord[];
}

/** The recorded detail of a fence is at most this long (node_fenced allows 1000). */
const SUMMARY_MAX_CHARS = 1000;

export function fenceResultOf(outcome: FenceOutcome): FenceResult {
  const attempts = outcome.attempts.map(
    ({ level, device, action, ok, durationMs, detail }): FenceAttemptRecord => ({
      level,
      device,
      action,
      ok,
      durationMs,
      detail,
    }),
  );
  const fencedBy = outcome.fencedBy;
  return {
    ok: outcome.ok,
    action: outcome.action,
    devices: fencedBy ?? [...new Set(attempts.map((attempt) => attempt.device))],
    detail: truncate(summary(outcome.action, attempts, fencedBy), SUMMARY_MAX_CHARS),
    attempts,
  };
}

/**
 * "reboot by ipmi-db2 (level 2); before: level 1 pdu: no answer within 20000 ms", or the
 * failures alone when no level fenced the node.
 */
function summary(
  action: FenceAction,
  attempts: readonly FenceAttemptRecord[],
  fencedBy: readonly string[] | undefined,
): string {
  const failures = attempts
    .filter((attempt) => !attempt.ok)
    .map((attempt) => `level ${attempt.level} ${attempt.device}: ${attempt.detail}`);
  if (fencedBy === undefined) {
    return failures.length === 0 ? "no fence device can fence this node" : failures.join("; ");
  }
  // The level that fenced the node is the last one tried.
  const level = attempts.at(-1)?.level;
  const by = `${action} by ${fencedBy.join(", ")}${level === undefined ? "" : ` (level ${level})`}`;
  return failures.length === 0 ? by : `${by}; failed: ${failures.join("; ")}`;
}

/** "level 1 · ipmi-db2 · off · FAILED after 3000 ms · no answer within 3000 ms" */
export function attemptLine(attempt: FenceAttemptRecord): string {
  const result = attempt.ok ? "ok" : "FAILED";
  const detail = attempt.detail === "" ? "" : ` · ${attempt.detail}`;
  return `level ${attempt.level} · ${attempt.device} · ${attempt.action} · ${result} after ${attempt.durationMs} ms${detail}`;
}
