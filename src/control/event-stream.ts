import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * A client that reads more slowly than a stream writes is cut off past this much unsent data,
 * rather than buffered without bound.
 */
const MAX_UNSENT_BYTES = 4 * 1024 * 1024;

/** Sends one server-sent event: its name and its data as one line of JSON. */
export type SendEvent = (event: string, data: unknown) => void;

/**
 * A route's reply that stays open as server-sent events (GET /v1/where?follow=1): `start` is
 * given the sender once the headers are out and returns what to call when the client goes.
 */
export class EventStreamReply {
  constructor(readonly start: (send: SendEvent) => () => void) {}
}

/** One server-sent event: its name and its JSON data on one line. */
export function formatEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Answers `request` with a stream of server-sent events (the dashboard's GET /v1/stream, a
 * route's EventStreamReply): writes the headers, hands `start` the sender, and calls what it
 * returns once the client has gone.
 */
export function serveEvents(
  request: IncomingMessage,
  response: ServerResponse,
  start: (send: SendEvent) => () => void,
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
  const send: SendEvent = (event, data) => {
    if (response.destroyed || response.writableEnded) return;
    if (response.writableLength > MAX_UNSENT_BYTES) {
      response.destroy();
      return;
    }
    response.write(formatEvent(event, data));
  };
  let stop: (() => void) | null = null;
  response.once("close", () => stop?.());
  stop = start(send);
  if (response.destroyed) stop();
}
