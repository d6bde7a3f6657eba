import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { dirname } from "node:path";
import { socketPathTooLong } from "../config/socket-path.js";
import { RequestError, type Route } from "./route.js";

/**
 * The local control channel: HTTP over a Unix socket. Only root can use it: the socket is mode
 * 0600 in a directory of mode 0700, so the kernel does the access control and no token is
 * needed. `vigil status` is its first client; the HTTP API of a later issue reuses the routes.
 */

export class ControlSocketError extends Error {
  override readonly name = "ControlSocketError";
}

/** Commands are small; a configuration document is at most 1 MiB of text. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
  ) {}

  static async listen(socketPath: string, routes: Record<string, Route>): Promise<ControlServer> {
    // `vigil agent --socket` bypasses the configuration's check.
    const tooLong = socketPathTooLong(socketPath);
    if (tooLong !== null) throw new ControlSocketError(`control socket ${socketPath}: ${tooLong}`);
    await prepareSocketPath(socketPath);
    const server = createServer((request, response) => handle(routes, request, response));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new ControlSocketError(`cannot listen on control socket ${socketPath}: ${error.message}`),
        ),
      );
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o600);
    return new ControlServer(server, socketPath);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await unlink(this.socketPath).catch(() => {});
  }
}

function handle(routes: Record<string, Route>, request: IncomingMessage, response: ServerResponse) {
  const path = new URL(request.url ?? "/", "http://vigil").pathname;
  const key = `${request.method} ${path}`;
  const route = routes[key];
  if (route === undefined) {
    request.resume();
    reply(response, 404, { error: `no route ${key}`, routes: Object.keys(routes) });
    return;
  }
  readBody(request)
    .then((body) => route(body))
    .then(
      (result) => reply(response, 200, result),
      (error: unknown) =>
        error instanceof RequestError
          ? reply(response, error.status, { error: error.message })
          : reply(response, 500, { error: (error as Error).message }),
    );
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  if (request.method === "GET") {
    request.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new RequestError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new RequestError(400, "request body is not JSON");
  }
}

function reply(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
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
