/**
 * Reads a running copy's replication offset after its monitor, with the command its clone names
 * (resource-model/replication-offset.ts). A command that fails, hangs past its own timeout or
 * prints no offset leaves the offset unknown, with why: the copy itself is not failed for it.
 */
import {
  parseReplicationOffset,
  type ReplicationOffsetSpec,
} from "../../resource-model/replication-offset.js";
import { ocfParameterEnvironment } from "../agents/script-agent.js";
import type { ProcessRunner } from "./process-runner.js";

export type OffsetReading = { offset: number } | { problem: string };

export async function readReplicationOffset(
  spec: ReplicationOffsetSpec,
  runner: ProcessRunner,
  context: {
    resourceId: string;
    params: Readonly<Record<string, string>>;
    environment: Readonly<Record<string, string>>;
  },
): Promise<OffsetReading> {
  let parameters: Record<string, string>;
  try {
    parameters = ocfParameterEnvironment(context);
  } catch (error) {
    return { problem: (error as Error).message };
  }
  const outcome = await runner.run({
    file: "/bin/sh",
    args: ["-c", spec.command],
    env: { OCF_RESOURCE_INSTANCE: context.resourceId, ...parameters, ...context.environment },
    timeoutMs: spec.timeoutMs,
  });
  if (outcome.timedOut) return { problem: `did not finish within ${spec.timeoutMs} ms` };
  if (outcome.spawnError !== undefined) return { problem: outcome.spawnError.message };
  if (outcome.exitCode !== 0) {
    const said = outcome.stderrTail.trim().split("\n").at(-1) ?? "";
    return {
      problem: `exited with ${outcome.exitCode ?? outcome.exitSignal}${said === "" ? "" : `: ${said}`}`,
    };
  }
  const parsed = parseReplicationOffset(outcome.stdout, spec.pattern);
  return typeof parsed === "number" ? { offset: parsed } : { problem: parsed };
}
