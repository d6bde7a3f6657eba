import type { AgentStatus } from "../../agent/status.js";
import { controlGet } from "../../control/client.js";
import { UsageError } from "../errors.js";
import { controlSocketPath } from "../paths.js";
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
    const status = await controlGet<AgentStatus>(socketPath, "/v1/status");
    return options.json ? JSON.stringify(status, null, 2) : renderStatus(status);
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
