import { ControlClientError, controlGet } from "../../control/client.js";
import type { StatusReply } from "../../control/status-reply.js";
import type { ClusterState } from "../../state/types.js";
import { renderChecks } from "../checks-table.js";
import { UsageError } from "../errors.js";
import { renderHooks } from "../hooks-table.js";
import { controlSocketPath } from "../paths.js";
import { parseIntervalMs, repeatUntilStopped } from "../refresh.js";
import { renderResources } from "../resources-table.js";
import { leaderNameOf, renderStatus } from "../status-table.js";
import { plainFrame, terminalFrame } from "../watch-frame.js";

export interface StatusOptions {
  socket?: string;
  config?: string;
  json?: boolean;
  watch?: boolean;
  intervalMs?: string;
}

/**
 * `vigil status [--json] [--watch [--interval-ms MS]]`. With --watch it refreshes until Ctrl-C:
 * in place on a terminal, as successive dated snapshots on a pipe, and with --json as one JSON
 * object per line per refresh. An agent that cannot be reached is shown as such (on stderr with
 * --json) and asked again at the next refresh.
 */
export async function runStatus(options: StatusOptions): Promise<void> {
  if (options.intervalMs !== undefined && options.watch !== true)
    throw new UsageError("--interval-ms goes with --watch");
  const intervalMs = parseIntervalMs(options.intervalMs);
  const socketPath = await controlSocketPath(options);
  if (options.watch !== true) {
    const status = await statusOf(socketPath, options.json === true);
    process.stdout.write(`${options.json ? JSON.stringify(status.reply, null, 2) : status.text}\n`);
    return;
  }
  const terminal = process.stdout.isTTY === true && options.json !== true;
  await repeatUntilStopped(intervalMs, async () => {
    const atMs = Date.now();
    const status = await statusOf(socketPath, options.json === true).catch((error: unknown) => {
      if (error instanceof ControlClientError) return error;
      throw error;
    });
    const failed = status instanceof ControlClientError;
    if (options.json) {
      if (failed) process.stderr.write(`vigil: ${status.message} (retrying)\n`);
      else process.stdout.write(`${JSON.stringify(status.reply)}\n`);
      return;
    }
    const frame = { body: failed ? status.message : status.text, atMs, intervalMs, failed };
    process.stdout.write(terminal ? terminalFrame(frame) : plainFrame(frame));
  });
}

/**
 * The agent's status reply, and as `vigil status` shows it (skipped for --json). The agent
 * composes the status and the resources (Agent.statusReply): --json prints its reply as it is,
 * the same JSON as GET /v1/status on the network API.
 */
async function statusOf(
  socketPath: string,
  json: boolean,
): Promise<{ reply: StatusReply; text: string }> {
  const [status, state] = await Promise.all([
    controlGet<StatusReply>(socketPath, "/v1/status"),
    json ? null : controlGet<ClusterState>(socketPath, "/v1/state").catch((error: Error) => error),
  ]);
  if (json) return { reply: status, text: "" };
  const lines = [renderStatus(status), ""];
  if (status.resources === null) lines.push("Resources: not available (not coordinating yet)");
  else {
    const operator = state === null || state instanceof Error ? {} : state.operator;
    lines.push(
      ...renderResources(status.resources, operator, status.node.name, leaderNameOf(status)),
    );
    if (state instanceof Error) lines.push(`Operator overrides: not available (${state.message})`);
  }
  if ((status.checks ?? []).length > 0)
    lines.push("", ...renderChecks(status.checks, status.nowMs));
  if ((status.hooks ?? []).length > 0) lines.push("", ...renderHooks(status.hooks));
  const sessions = status.sessions;
  if (sessions !== undefined && (sessions.sessions > 0 || sessions.locks > 0))
    lines.push(
      "",
      `Sessions: ${sessions.sessions} open (${sessions.local} on this node, ${sessions.connections} connected here), ${sessions.locks} lock${sessions.locks === 1 ? "" : "s"} held (vigil session list, vigil lock list)`,
    );
  return { reply: status, text: lines.join("\n") };
}
