/** Turns a finished agent process into an OCF answer, with the agent's own reason when it gave one. */
import type { ProcessOutcome } from "../executor/process-runner.js";
import type { ActionOutcome } from "./agent.js";
import {
  isOcfExitCode,
  OCF_ERR_GENERIC,
  OCF_ERR_INSTALLED,
  OCF_ERR_PERM,
  OCF_SUCCESS,
} from "./ocf-codes.js";

export function scriptOutcome(process: ProcessOutcome, file: string): ActionOutcome {
  if (process.spawnError) {
    if (process.spawnError.code === "ENOENT") {
      return { code: OCF_ERR_INSTALLED, reason: `${file} does not exist` };
    }
    if (process.spawnError.code === "EACCES") {
      return { code: OCF_ERR_PERM, reason: `${file} is not executable` };
    }
    return { code: OCF_ERR_GENERIC, reason: `cannot run ${file}: ${process.spawnError.message}` };
  }
  if (process.timedOut) return { code: OCF_ERR_GENERIC, reason: `${file} timed out` };
  if (process.exitCode === null) {
    return { code: OCF_ERR_GENERIC, reason: `${file} was killed by ${process.exitSignal}` };
  }
  if (!isOcfExitCode(process.exitCode)) {
    const detail = lastLine(process.stderrTail);
    return {
      code: OCF_ERR_GENERIC,
      reason: `${file} exited with ${process.exitCode}, not an OCF code${detail ? `: ${detail}` : ""}`,
    };
  }
  if (process.exitCode === OCF_SUCCESS) return { code: OCF_SUCCESS };
  const reason = exitReason(process.stderrTail);
  return reason ? { code: process.exitCode, reason } : { code: process.exitCode };
}

/** OCF agents report why they failed with `ocf-exit-reason:TEXT` on stderr; else the last line. */
export function exitReason(stderr: string): string | undefined {
  const lines = stderr.split("\n").map((line) => line.trim());
  const marked = lines.filter((line) => line.startsWith("ocf-exit-reason:")).at(-1);
  if (marked !== undefined) return marked.slice("ocf-exit-reason:".length).trim() || undefined;
  return lastLine(stderr);
}

function lastLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .at(-1);
}
