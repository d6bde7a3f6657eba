import { controlGet } from "../../control/client.js";
import type { StatusReply } from "../../control/status-reply.js";
import type { ClusterState } from "../../state/types.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";
import { renderResources } from "../resources-table.js";
import { renderStatus } from "../status-table.js";

export interface StatusOptions {
  socket?: string;
  config?: string;
  json?: boolean;
  watch?: string;
}

export async function runStatus(options: StatusOptions): Promise<void> {
  const socketPath = await controlSocketPath(options);
  const show = async () => {
    // The agent composes the status and the resources (Agent.statusReply): --json prints its
    // reply as it is, the same JSON as GET /v1/status on the network API.
    const [status, state] = await Promise.all([
      controlGet<StatusReply>(socketPath, "/v1/status"),
      options.json
        ? null
        : controlGet<ClusterState>(socketPath, "/v1/state").catch((error: Error) => error),
    ]);
    if (options.json) return JSON.stringify(status, null, 2);
    const lines = [renderStatus(status), ""];
    if (status.resources === null) lines.push("Resources: not available (not coordinating yet)");
    else {
      const operator = state === null || state instanceof Error ? {} : state.operator;
      lines.push(...renderResources(status.resources, operator, status.node.name));
      if (state instanceof Error)
        lines.push(`Operator overrides: not available (${state.message})`);
    }
    return lines.join("\n");
  };
  if (options.watch === undefined) {
    process.stdout.write(`${await show()}\n`);
    return;
  }
  const intervalMs = Number(options.watch);
  if (!Number.isFinite(intervalMs) || intervalMs < 100) {
    throw new UsageError(
      `--watch takes an interval in milliseconds of at least 100, got "${options.watch}"`,
    );
  }
  for (;;) {
    const text = await show();
    process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}\n` : `${text}\n\n`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
