import type { IncomingMessage, ServerResponse } from "node:http";
import type { FeedListener, StatusFeed } from "./status-feed.js";

/**
 * A client that reads more slowly than the feed writes is cut off past this much unsent data
 * (several minutes of status at once a second), rather than buffered without bound.
 */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

/** One server-sent event: its name and its JSON data on one line. */
export function formatEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

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
  request.resume();
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    // A reverse proxy in front of the API must not hold the events back.
    "x-accel-buffering": "no",
  });
  response.flushHeaders();
  let unsubscribe: (() => void) | null = null;
  const send = (event: string, data: unknown) => {
    if (response.destroyed || response.writableEnded) return;
    if (response.writableLength > MAX_UNSENT_BYTES) {
      response.destroy();
      return;
    }
    response.write(formatEvent(event, data));
  };
  const listener: FeedListener = {
    history: (history) => send("history", history),
    status: (status) => send("status", status),
    heartbeats: (samples) => send("heartbeats", samples),
    state: (state) => send("state", state),
  };
  response.once("close", () => unsubscribe?.());
  unsubscribe = feed.subscribe(listener);
  if (response.destroyed) unsubscribe();
}
