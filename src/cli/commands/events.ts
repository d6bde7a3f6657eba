import { ControlClientError, controlGet } from "../../control/client.js";
import type { EventsReply } from "../../control/event-routes.js";
import { UsageError } from "../errors.js";
import { formatEventLine, PrintedEvents } from "../event-lines.js";
import { controlSocketPath } from "../paths.js";
import { parseIntervalMs, repeatUntilStopped } from "../refresh.js";

export interface EventsOptions {
  socket?: string;
  config?: string;
  follow?: boolean;
  json?: boolean;
  intervalMs?: string;
}

/** More than the agent keeps of every kind together (history, fences, incidents, its own). */
const PRINTED_IDS = 4096;

/**
 * `vigil events [--follow] [--json]`: the cluster's events in their cluster-wide order (GET
 * /v1/events), each with the node that saw it. --follow asks again every --interval-ms for the
 * events after the last one printed, until Ctrl-C; an agent that cannot be reached (at the
 * start too) is said on stderr once, and asked again.
 */
export async function runEvents(options: EventsOptions): Promise<void> {
  if (options.intervalMs !== undefined && options.follow !== true)
    throw new UsageError("--interval-ms goes with --follow");
  const intervalMs = parseIntervalMs(options.intervalMs);
  const socketPath = await controlSocketPath(options);
  const printed = new PrintedEvents(PRINTED_IDS);
  let lastId: string | undefined;
  const print = (reply: EventsReply) => {
    const lines = printed
      .fresh(reply.events)
      .map((event) => (options.json ? JSON.stringify(event) : formatEventLine(event)));
    if (lines.length > 0) process.stdout.write(`${lines.join("\n")}\n`);
    lastId = reply.events.at(-1)?.id ?? lastId;
  };
  const ask = () =>
    controlGet<EventsReply>(
      socketPath,
      lastId === undefined ? "/v1/events" : `/v1/events?${new URLSearchParams({ after: lastId })}`,
    );
  if (options.follow !== true) {
    print(await ask());
    return;
  }
  let failing = false;
  await repeatUntilStopped(intervalMs, async () => {
    try {
      print(await ask());
      if (failing) process.stderr.write("vigil: the agent answers again\n");
      failing = false;
    } catch (error) {
      if (!(error instanceof ControlClientError)) throw error;
      if (!failing) process.stderr.write(`vigil: ${error.message} (retrying)\n`);
      failing = true;
    }
  });
}
