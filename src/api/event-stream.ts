import type { IncomingMessage, ServerResponse } from "node:http";
import { serveEvents } from "../control/event-stream.js";
import type { StatusFeed } from "./status-feed.js";

/**
 * GET /v1/stream (docs/api.md): the feed as server-sent events, `history` first, then `status`
 * and `heartbeats` on every change and at least once a second, and `state` when its version
 * changes. The request was admitted before (a read token); the stream ends when the client goes.
 */
export function serveEventStream(
  feed: StatusFeed,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  serveEvents(request, response, (send) =>
    feed.subscribe({
      history: (history) => send("history", history),
      status: (status) => send("status", status),
      heartbeats: (samples) => send("heartbeats", samples),
      state: (state) => send("state", state),
    }),
  );
}
