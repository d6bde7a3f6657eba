import { ControlClientError, controlGet, controlStream } from "../../control/client.js";
import type { WhereReply } from "../../control/where-routes.js";
import { controlSocketPath } from "../paths.js";
import { renderTable } from "../table.js";

export interface WhereOptions {
  socket?: string;
  config?: string;
  json?: boolean;
  follow?: boolean;
}

/**
 * `vigil where RESOURCE [--json] [--follow]`: the nodes its copies run on, and in which role.
 * --follow prints the answer again whenever it changes (GET /v1/where?follow=1), until Ctrl-C
 * or until the agent stops.
 */
export async function runWhere(resource: string, options: WhereOptions): Promise<void> {
  const socketPath = await controlSocketPath(options);
  const print = (reply: WhereReply) => {
    process.stdout.write(options.json === true ? `${JSON.stringify(reply)}\n` : describe(reply));
  };
  if (options.follow !== true) {
    print(
      await controlGet<WhereReply>(socketPath, `/v1/where?${new URLSearchParams({ resource })}`),
    );
    return;
  }
  await controlStream(
    socketPath,
    `/v1/where?${new URLSearchParams({ resource, follow: "1" })}`,
    (event, data) => {
      if (event !== "where") return;
      const reply = data as WhereReply;
      // Each answer under a dated line, as `vigil status --watch` on a pipe.
      if (options.json !== true)
        process.stdout.write(
          `--- ${new Date().toISOString()}  state version ${reply.stateVersion}\n`,
        );
      print(reply);
    },
  );
  throw new ControlClientError(`the agent at ${socketPath} ended the stream (it is stopping)`);
}

function describe(reply: WhereReply): string {
  if (reply.copies.length === 0)
    return `${reply.resource} runs nowhere (state version ${reply.stateVersion})\n`;
  const rows = [["COPY", "NODE", "ROLE"], ...reply.copies.map((c) => [c.key, c.node, c.role])];
  return `${renderTable(rows).join("\n")}\n`;
}
