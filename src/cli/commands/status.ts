import type { AgentStatus } from "../../agent/status.js";
import { controlGet } from "../../control/client.js";
import type { ClusterState } from "../../state/types.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";
import { type ResourcesReply, renderResources } from "../resources-table.js";
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
    // The resources come from routes of their own; an agent that cannot answer them (not
    // coordinating yet) still shows its heartbeat status.
    const [status, resources, state] = await Promise.all([
      controlGet<AgentStatus>(socketPath, "/v1/status"),
      controlGet<ResourcesReply>(socketPath, "/v1/resources").catch((error: Error) => error),
      options.json
        ? null
        : controlGet<ClusterState>(socketPath, "/v1/state").catch((error: Error) => error),
    ]);
    if (options.json) {
      return JSON.stringify(
        { ...status, resources: resources instanceof Error ? null : resources },
        null,
        2,
      );
    }
    const lines = [renderStatus(status), ""];
    if (resources instanceof Error) lines.push(`Resources: not available (${resources.message})`);
    else {
      const operator = state === null || state instanceof Error ? {} : state.operator;
      lines.push(...renderResources(resources, operator, status.node.name));
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
