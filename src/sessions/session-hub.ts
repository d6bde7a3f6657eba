import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Timers } from "../coordination/timers.js";
import type { ClusterState } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import { SESSION_PATH, SESSION_UPGRADE_PROTOCOL } from "./protocol.js";
import { SessionConnection } from "./session-connection.js";
import type { SessionKeeper } from "./session-keeper.js";

/** Session connections at once on one agent: each holds a socket and a timer. */
const MAX_CONNECTIONS = 64;
/** The agent writes at least this often, so a client's reader-idle of a few seconds holds. */
export const AGENT_PING_EVERY_MS = 1000;
const SILENT_CLOSE_MS = 60_000;

export interface SessionHubDeps {
  keeper: SessionKeeper;
  clock: Clock;
  timers: Timers;
  state(): ClusterState;
}

/** Why an upgrade is refused: an HTTP status and words, written before the socket closes. */
export interface UpgradeRefusal {
  status: number;
  error: string;
  headers?: Record<string, string>;
}

/**
 * The session connections of one agent: an HTTP upgrade of `GET /v1/session` to
 * `vigil-session` (on the control socket, or on the API listener once its token is admitted)
 * becomes a SessionConnection; the committed state's changes reach every connection.
 */
export class SessionHub {
  readonly #connections = new Set<SessionConnection>();

  constructor(private readonly deps: SessionHubDeps) {}

  /** Whether this upgrade request is for the session protocol (else: not ours, refuse it). */
  static wants(request: IncomingMessage): boolean {
    const path = new URL(request.url ?? "/", "http://vigil").pathname;
    return (
      request.method === "GET" &&
      path === SESSION_PATH &&
      (request.headers.upgrade ?? "").toLowerCase() === SESSION_UPGRADE_PROTOCOL
    );
  }

  /** Takes an upgraded socket (already admitted), or refuses it when the hub is full. */
  accept(socket: Duplex, head: Buffer): void {
    if (this.#connections.size >= MAX_CONNECTIONS) {
      refuseUpgrade(socket, {
        status: 503,
        error: `${MAX_CONNECTIONS} session connections are open on this agent already`,
      });
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${SESSION_UPGRADE_PROTOCOL}\r\nConnection: Upgrade\r\n\r\n`,
    );
    const connection = new SessionConnection(
      socket,
      {
        ...this.deps,
        pingEveryMs: AGENT_PING_EVERY_MS,
        silentCloseMs: SILENT_CLOSE_MS,
      },
      () => this.#connections.delete(connection),
    );
    this.#connections.add(connection);
    if (head.length > 0) connection.receive(head.toString("utf8"));
  }

  stateChanged(): void {
    for (const connection of this.#connections) connection.stateChanged();
  }

  get size(): number {
    return this.#connections.size;
  }

  closeAll(): void {
    for (const connection of [...this.#connections]) connection.close();
  }
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const body = JSON.stringify({ error: refusal.error });
  const headers = Object.entries(refusal.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.status === 101 ? "" : "Refused"}\r\n${headers}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
