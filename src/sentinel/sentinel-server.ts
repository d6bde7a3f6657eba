import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import type { ListenAddress } from "../config/api-schema.js";
import { InvariantError } from "../invariant/invariant-error.js";
import type { Logger } from "../log/logger.js";
import { encodeResp, errorReply, RespRequestReader } from "./resp.js";
import type { SentinelWorld } from "./sentinel-replies.js";
import { SentinelSession, type SessionAnswer } from "./sentinel-session.js";

export interface SentinelServerOptions {
  listen: ListenAddress;
  world: SentinelWorld;
  logger: Logger;
  /** Runs a socket callback so that an exception is logged and contained (CallbackGuard.wrap). */
  wrap<A extends unknown[]>(where: string, callback: (...args: A) => void): (...args: A) => void;
}

/** Clients at once: Sentinel clients hold one or two connections per process. */
const MAX_CONNECTIONS = 512;
/** Replies a client has not read: past this it is not reading, and is dropped. */
const MAX_UNREAD_BYTES = 1024 * 1024;
/** Dead clients (a host powered off) are found by TCP keepalive, as Redis does. */
const KEEPALIVE_MS = 60_000;

/**
 * The Redis Sentinel protocol over TCP (docs/configuration.md, "sentinel"): each connection a
 * RespRequestReader and a SentinelSession; `publish` sends a message to every subscriber.
 * A client that breaks the protocol gets Redis's error and is disconnected; nothing it sends
 * reaches further than its own connection.
 */
export class SentinelServer {
  private readonly sessions = new Map<Socket, SentinelSession>();
  private nextClientId = 1;

  private constructor(
    private readonly server: Server,
    private readonly options: SentinelServerOptions,
  ) {}

  static async start(options: SentinelServerOptions): Promise<SentinelServer> {
    const server = createServer({
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: KEEPALIVE_MS,
    });
    const sentinel = new SentinelServer(server, options);
    server.on(
      "connection",
      options.wrap("sentinel connection", (socket: Socket) => sentinel.accept(socket)),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: Error) =>
        reject(
          new Error(
            `the Sentinel-protocol listener cannot listen on ${options.listen.host}:${options.listen.port}: ${error.message} (sentinel.listen, or this node's sentinel_listen)`,
          ),
        ),
      );
      server.listen(options.listen.port, options.listen.host, () => {
        server.removeAllListeners("error");
        resolve();
      });
    });
    server.on(
      "error",
      options.wrap("sentinel listener", (error: Error) =>
        options.logger.warn({ err: error.message }, "Sentinel listener error"),
      ),
    );
    return sentinel;
  }

  address(): ListenAddress {
    const address = this.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** A message on `channel` to every client subscribed to it. */
  publish(channel: string, text: string): number {
    let delivered = 0;
    for (const [socket, session] of this.sessions) {
      const messages = session.messages(channel, text);
      if (messages.length === 0) continue;
      this.send(socket, messages.map(encodeResp));
      delivered++;
    }
    return delivered;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sessions.keys()) socket.destroy();
    this.sessions.clear();
    await closed;
  }

  private accept(socket: Socket): void {
    const { wrap } = this.options;
    socket.on("error", () => {
      // A client that resets its connection: its close follows, nothing else to do.
    });
    if (this.sessions.size >= MAX_CONNECTIONS) {
      socket.end(encodeResp(errorReply("ERR max number of clients reached")));
      return;
    }
    const reader = new RespRequestReader();
    const session = new SentinelSession(this.options.world, this.nextClientId++);
    this.sessions.set(socket, session);
    socket.on("close", () => this.sessions.delete(socket));
    socket.on(
      "data",
      wrap("sentinel request", (chunk: Buffer) => {
        if (!this.sessions.has(socket)) return;
        const { commands, error } = reader.push(chunk);
        const out: Buffer[] = [];
        let close = false;
        for (const command of commands) {
          const answer = this.answer(session, command);
          out.push(...answer.replies.map(encodeResp));
          if (answer.close) {
            close = true;
            break;
          }
        }
        if (!close && error !== null) {
          out.push(encodeResp(errorReply(error)));
          close = true;
        }
        this.send(socket, out);
        if (close) {
          this.sessions.delete(socket);
          socket.end();
        }
      }),
    );
  }

  /** A command's answer; a bug met by one command is that client's error, not the agent's end. */
  private answer(session: SentinelSession, command: string[]): SessionAnswer {
    try {
      return session.handle(command);
    } catch (error) {
      if (error instanceof InvariantError) throw error;
      this.options.logger.error(
        { err: (error as Error).message, command: command[0] },
        "a Sentinel-protocol command failed",
      );
      return { replies: [errorReply("ERR internal error (logged by the agent)")], close: false };
    }
  }

  private send(socket: Socket, chunks: readonly Buffer[]): void {
    if (chunks.length === 0 || socket.destroyed) return;
    socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    if (socket.writableLength > MAX_UNREAD_BYTES) {
      this.sessions.delete(socket);
      socket.destroy();
    }
  }
}
