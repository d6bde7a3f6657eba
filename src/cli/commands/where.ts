import { controlGet } from "../../control/client.js";
import type { WhereReply } from "../../control/where-routes.js";
import { controlSocketPath } from "../paths.js";
import { renderTable } from "../table.js";

export interface WhereOptions {
  socket?: string;
  config?: string;
  json?: boolean;
}

/** `vigil where RESOURCE [--json]`: the nodes its copies run on, and in which role. */
export async function runWhere(resource: string, options: WhereOptions): Promise<void> {
  const socketPath = await controlSocketPath(options);
  const reply = await controlGet<WhereReply>(
    socketPath,
    `/v1/where?${new URLSearchParams({ resource })}`,
  );
  if (options.json === true) {
    process.stdout.write(`${JSON.stringify(reply)}\n`);
    return;
  }
  if (reply.copies.length === 0) {
    process.stdout.write(`${resource} runs nowhere (state version ${reply.stateVersion})\n`);
    return;
  }
  const rows = [["COPY", "NODE", "ROLE"], ...reply.copies.map((c) => [c.key, c.node, c.role])];
  process.stdout.write(`${renderTable(rows).join("\n")}\n`);
}
