import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";
import { socketPathTooLong } from "../config/socket-path.js";
import { EventStreamReply, serveEvents } from "./event-stream.js";
import { findRoute, RequestError, type Route } from "./route.js";

/**
 * The local control channel: HTTP over a Unix socket. Only root can use it: the socket is mode
 * 0600 in a directory of mode 0700, so the kernel does the access control and no token is
 * needed. `vigil status` is its first client; the network API (src/api/) serves the same routes
 * through the same handler (routeHandler).
 */

export class ControlSocketError extends Error {
  override readonly name = "ControlSocketError";
}

/** Commands are small; a configuration document is at most 1 MiB of text. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * An HTTP upgrade request (the session protocol, src/sessions/): the handler takes the socket,
 * or answers and closes it. Without one, upgrades are refused.
 */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly streams: Set<ServerResponse>,
  ) {}

  static async listen(
    socketPath: string,
    routes: Record<string, Route>,
    upgrade?: UpgradeHandler,
  ): Promise<ControlServer> {
    // `vigil agent --socket` bypasses the configuration's check.
    const tooLong = socketPathTooLong(socketPath);
    if (tooLong !== null) throw new ControlSocketError(`control socket ${socketPath}: ${tooLong}`);
    await prepareSocketPath(socketPath);
    // Open streams are ended on close: the server's close waits for every connection.
    const streams = new Set<ServerResponse>();
    const server = createServer(
      routeHandler(routes, {
        admitStream: (_request, response) => {
          streams.add(response);
          response.once("close", () => streams.delete(response));
          return null;
        },
      }),
    );
    // The socket's mode is the access control: whoever reaches it is root, as for every route.
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (upgrade === undefined) socket.destroy();
      else upgrade(request, socket, head);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new ControlSocketError(`cannot listen on control socket ${socketPath}: ${error.message}`),
        ),
      );
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
    return new ControlServer(server, socketPath, streams);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const stream of this.streams) stream.end();
    await closed;
    this.server.closeAllConnections();
    await unlink(this.socketPath).catch(() => {});
  }
}

/**
 * A reply that is not JSON (the Prometheus text of GET /metrics): a route returns it as is.
 */
export class RawReply {
  constructor(
    readonly contentType: string,
    readonly body: string,
  ) {}
}

/** Why a request is refused before its route runs (the network API's tokens). */
export interface Refusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

export interface RouteHandlerOptions {
  /** Bodies over this many bytes are refused with 413 before they are read whole. */
  maxBodyBytes?: number;
  /** Null lets the request through to its route; a refusal answers it at once. */
  admit?(request: IncomingMessage, routeKey: string): Refusal | null;
  /**
   * A route answered with a stream (EventStreamReply): null lets it open; a refusal (too many
   * open) answers instead. Without it, every stream opens.
   */
  admitStream?(request: IncomingMessage, response: ServerResponse): Refusal | null;
}

/**
 * The request listener every Vigil HTTP server runs (the control socket, the network API):
 * "METHOD /path" picks the route, the JSON body is read within its bound, and the route's
 * result (or RequestError) becomes the reply, or a stream of server-sent events. One implementation, so a route behaves the same
 * whichever way it is reached.
 */
export function routeHandler(
  routes: Record<string, Route>,
  options: RouteHandlerOptions = {},
): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  return (request, response) => {
    const url = new URL(request.url ?? "/", "http://vigil");
    const key = `${request.method} ${url.pathname}`;
    const refusal = options.admit?.(request, key) ?? null;
    if (refusal !== null) {
      // The body of a refused request is not read: the connection closes after the reply.
      reply(response, refusal.status, { error: refusal.error }, refusal.headers, true);
      return;
    }
    let found: ReturnType<typeof findRoute>;
    try {
      found = findRoute(routes, request.method ?? "", url.pathname, url.searchParams);
    } catch (error) {
      request.resume();
      const status = error instanceof RequestError ? error.status : 500;
      reply(response, status, { error: (error as Error).message });
      return;
    }
    if (found === undefined) {
      request.resume();
      reply(response, 404, { error: `no route ${key}`, routes: Object.keys(routes) });
      return;
    }
    const { route, query } = found;
    readBody(request, maxBodyBytes)
      .then((body) => route(body, query))
      .then(
        (result) => {
          if (!(result instanceof EventStreamReply)) return reply(response, 200, result);
          const refusal = options.admitStream?.(request, response) ?? null;
          if (refusal === null) serveEvents(request, response, result.start);
          else reply(response, refusal.status, { error: refusal.error }, refusal.headers);
        },
        (error: unknown) =>
          error instanceof RequestError
            ? reply(response, error.status, { error: error.message }, {}, error.status === 413)
            : reply(response, 500, { error: (error as Error).message }),
      );
  };
}

async function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<unknown> {
  if (request.method === "GET") {
    request.resume();
    return undefined;
  }
  const tooLarge = () => new RequestError(413, `request body over ${maxBodyBytes} bytes`);
  if (Number(request.headers["content-length"] ?? 0) > maxBodyBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RequestError(400, "request body is not JSON");
  }
}

/** Writes a whole reply: JSON, or a RawReply as it is; `close` ends the connection after it. */
export function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  close = false,
) {
  const raw = body instanceof RawReply ? body : null;
  const text = raw?.body ?? JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    "content-type": raw?.contentType ?? "application/json",
    "content-length": Buffer.byteLength(text),
    ...(close ? { connection: "close" } : {}),
  });
  response.end(text);
}

/** A socket left by a crashed agent is removed; one that answers belongs to a running agent. */
async function prepareSocketPath(socketPath: string): Promise<void> {
  await mkdir(dirname(socketPath), { recursive: true, mode: 0o700 });
  const existing = await lstat(socketPath).catch(() => null);
  if (existing === null) return;
  if (!existing.isSocket()) {
    throw new ControlSocketError(
      `control socket path ${socketPath} exists and is not a socket; remove it or choose another path`,
    );
  }
  if (await answers(socketPath)) {
    throw new ControlSocketError(
      `another agent is already running on control socket ${socketPath}; stop it first or pass --socket`,
    );
  }
  await unlink(socketPath);
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
