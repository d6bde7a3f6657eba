import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { ListenAddress } from "../config/api-schema.js";
import type { Route } from "../control/route.js";
import { MAX_BODY_BYTES, reply, routeHandler, type UpgradeHandler } from "../control/server.js";
import { refuseUpgrade } from "../sessions/session-hub.js";
import { type Admission, roleNeeded, TokenTable } from "./auth.js";
import { ASSET_HEADERS, type DashboardAsset, type DashboardAssets } from "./dashboard-assets.js";
import { ApiError } from "./errors.js";
import { serveEventStream } from "./event-stream.js";
import type { StatusFeed } from "./status-feed.js";
import type { ApiToken } from "./tokens.js";

/** A request the API answered before its route: who (when the token was known), what, why. */
export interface ApiRequestRecord {
  status: number;
  method: string;
  path: string;
  remote: string;
  /** The token's name; null without a known token. */
  token: string | null;
  reason: string;
}

export interface ApiServerOptions {
  listen: ListenAddress;
  tls?: { cert: string; key: string } | undefined;
  tokens: readonly ApiToken[];
  /** The control socket's routes (and GET /metrics): the same handlers, the same schemas. */
  routes: Record<string, Route>;
  /** A refused request (401, 403): the agent logs it. */
  onRefused(record: ApiRequestRecord): void;
  /** An operate request let through, before its route runs: the agent logs who asked what. */
  onOperate(record: { method: string; path: string; remote: string; token: string }): void;
  /** The dashboard's files, served at / without a token (they hold no data); none: no dashboard. */
  dashboard?: DashboardAssets | null;
  /** GET /v1/stream's source (server-sent events for the dashboard); none: no stream. */
  feed?: StatusFeed | null;
  /**
   * HTTP upgrades (the session protocol): admitted with an `operate` token first, since a
   * session changes the state; none: upgrades are refused.
   */
  upgrade?: UpgradeHandler;
}

/** The token table every request is checked against; replaced whole, never edited. */
interface TokensInForce {
  table: TokenTable;
}

/** Each open stream (GET /v1/stream, GET /v1/where?follow=1) and the Authorization header it was admitted with. */
type OpenStreams = Map<ServerResponse, string | undefined>;
/** Each upgraded connection (a session's) and the Authorization header it was admitted with. */
type OpenUpgrades = Map<Duplex, string | undefined>;

/** Bounds on what one client can hold: connections, and how long headers and bodies may take. */
const MAX_CONNECTIONS = 64;
/** Open streams at once: each holds a connection, and the API must keep some for the rest. */
const MAX_STREAMS = 16;
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The HTTP API over the network (docs/api.md): the control socket's routes behind bearer tokens
 * (auth.ts), over HTTPS with `api.tls`, else over HTTP on loopback only (the configuration
 * refuses anything else). node:http, as the control socket: a dozen routes and one check before
 * them do not need a framework.
 */
export class ApiServer {
  private constructor(
    private readonly server: Server,
    readonly address: ListenAddress,
    readonly tls: boolean,
    private readonly access: TokensInForce,
    private readonly streams: OpenStreams,
    private readonly upgrades: OpenUpgrades,
  ) {}

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const access: TokensInForce = { table: new TokenTable(options.tokens) };
    const streams: OpenStreams = new Map();
    const upgrades: OpenUpgrades = new Map();
    /** Checks the request's token against the role its method needs; logs refusals and changes. */
    const authorize = (request: IncomingMessage, key: string): Admission => {
      const [method = "", path = ""] = key.split(" ");
      const remote = request.socket.remoteAddress ?? "?";
      const admission = access.table.admit(request.headers.authorization, request.method);
      if (!admission.ok) {
        options.onRefused({
          status: admission.status,
          method,
          path,
          remote,
          token: admission.name,
          reason: admission.error,
        });
      } else if (roleNeeded(request.method) === "operate") {
        options.onOperate({ method, path, remote, token: admission.name });
      }
      return admission;
    };
    /** Holds a stream's connection, up to MAX_STREAMS, ended when its token is revoked. */
    const admitStream = (request: IncomingMessage, response: ServerResponse) => {
      if (streams.size >= MAX_STREAMS)
        return { status: 503, error: `${MAX_STREAMS} streams are open already` };
      streams.set(response, request.headers.authorization);
      response.once("close", () => streams.delete(response));
      return null;
    };
    const routes = routeHandler(options.routes, {
      maxBodyBytes: MAX_BODY_BYTES,
      admit: (request, key) => {
        const admission = authorize(request, key);
        return admission.ok ? null : admission;
      },
      admitStream,
    });
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      const path = new URL(request.url ?? "/", "http://vigil").pathname;
      const key = `${request.method} ${path}`;
      const reads = request.method === "GET" || request.method === "HEAD";
      const asset = reads ? options.dashboard?.find(path) : undefined;
      if (asset !== undefined) {
        serveAsset(request, response, asset);
        return;
      }
      const feed = options.feed;
      if (key === "GET /v1/stream" && feed != null) {
        const admission = authorize(request, key);
        if (!admission.ok) {
          reply(response, admission.status, { error: admission.error }, admission.headers, true);
          return;
        }
        const refusal = admitStream(request, response);
        if (refusal === null) serveEventStream(feed, request, response);
        else reply(response, refusal.status, { error: refusal.error });
        return;
      }
      if (key === "GET /v1/whoami") {
        const admission = authorize(request, key);
        if (admission.ok) reply(response, 200, { name: admission.name, role: admission.role });
        else reply(response, admission.status, { error: admission.error }, admission.headers, true);
        return;
      }
      routes(request, response);
    };
    const server =
      options.tls === undefined
        ? createHttpServer(handler)
        : httpsServer(options.tls, await readTls(options.tls), handler);
    server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(request.url ?? "/", "http://vigil").pathname;
      const admission = access.table.admit(request.headers.authorization, "POST");
      const remote = request.socket.remoteAddress ?? "?";
      const record = { method: request.method ?? "", path, remote };
      if (!admission.ok) {
        options.onRefused({
          ...record,
          status: admission.status,
          token: admission.name,
          reason: admission.error,
        });
        refuseUpgrade(socket, admission);
      } else if (options.upgrade === undefined) {
        refuseUpgrade(socket, { status: 404, error: `no upgrade at ${path}` });
      } else {
        options.onOperate({ ...record, token: admission.name });
        upgrades.set(socket, request.headers.authorization);
        socket.once("close", () => upgrades.delete(socket));
        options.upgrade(request, socket, head);
      }
    });
    server.maxConnections = MAX_CONNECTIONS;
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    const { host, port } = options.listen;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          new ApiError(
            `the API cannot listen on ${formatAddress(options.listen)}: ${error.code === "EADDRINUSE" ? "the port is in use (another agent, or another program): choose another api.listen" : error.message}`,
          ),
        ),
      );
      server.listen(port, host, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    return new ApiServer(
      server,
      { host, port: bound.port },
      options.tls !== undefined,
      access,
      streams,
      upgrades,
    );
  }

  /**
   * Puts new tokens in force (the agent's SIGHUP), all at once: a request is judged by the
   * table in force when it arrives. An open stream whose token the new table refuses is ended,
   * so a revoked token stops reading now, not whenever its client reconnects; so is an upgraded
   * (session) connection whose token is no longer an operate token. Returns how many streams
   * and connections were ended.
   */
  replaceTokens(tokens: readonly ApiToken[]): number {
    const table = new TokenTable(tokens);
    this.access.table = table;
    let ended = 0;
    for (const [response, authorization] of this.streams) {
      if (table.admit(authorization, "GET").ok) continue;
      this.streams.delete(response);
      response.end();
      ended++;
    }
    for (const [socket, authorization] of this.upgrades) {
      if (table.admit(authorization, "POST").ok) continue;
      this.upgrades.delete(socket);
      socket.destroy();
      ended++;
    }
    return ended;
  }

  /** "https://127.0.0.1:9420" */
  url(): string {
    return `${this.tls ? "https" : "http"}://${formatAddress(this.address)}`;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}

export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function serveAsset(request: IncomingMessage, response: ServerResponse, asset: DashboardAsset) {
  request.resume();
  response.writeHead(200, {
    ...ASSET_HEADERS,
    "content-type": asset.contentType,
    "content-length": asset.body.length,
  });
  response.end(request.method === "HEAD" ? undefined : asset.body);
}

function httpsServer(
  files: { cert: string; key: string },
  pem: { cert: Buffer; key: Buffer },
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Server {
  try {
    return createHttpsServer(pem, handler);
  } catch (error) {
    throw new ApiError(
      `api.tls: cannot use ${files.cert} and ${files.key} (PEM certificate and its private key): ${(error as Error).message}`,
    );
  }
}

async function readTls(tls: { cert: string; key: string }): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (path: string, key: string) =>
    readFile(path).catch((error: Error) => {
      throw new ApiError(`api.tls.${key}: cannot read ${path}: ${error.message}`);
    });
  return { cert: await read(tls.cert, "cert"), key: await read(tls.key, "key") };
}
