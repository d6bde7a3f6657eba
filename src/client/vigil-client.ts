import { EventEmitter } from "node:events";
import {
  type ClientRequest as HttpRequest,
  request as httpRequest,
  type IncomingMessage,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import {
  type AgentMessage,
  type ClientMessage,
  type ClientRequest,
  LineSplitter,
  type ResultCode,
  SESSION_PATH,
  SESSION_UPGRADE_PROTOCOL,
} from "../sessions/protocol.js";
import type { SessionEndReason } from "../state/types.js";
import { type BackoffTimes, IdleState, type IdleTimes, reconnectDelayMs } from "./idle-state.js";

/**
 * A client of Vigil's sessions and locks (docs/api.md, "Sessions and locks"): one long
 * connection to the agent of the application's node, watched by Netty-style idle timers — on
 * writer-idle it sends a heartbeat (which renews the session's TTL), on reader-idle (the agent
 * pings every second, so silence means a dead or paused agent or a cut) it closes and
 * reconnects with exponential backoff and jitter, then resumes its session. What the
 * application must act on arrives as events: `sessionLost`, `lockLost`, `primaryMoved`, and
 * `connected` / `reconnecting`.
 */

export interface ConnectOptions {
  /** The agent's control socket (root only): the default when no host is given. */
  socket?: string;
  /** The agent's API listener (`api.listen`), with an operate token. */
  host?: string;
  port?: number;
  /** HTTPS to the API (`api.tls`); `ca` to trust a private certificate authority. */
  tls?: boolean | { ca: string | Buffer };
  token?: string;
  /** Idle timers; defaults: reader 3000 ms, writer 1000 ms, all off. */
  idle?: Partial<IdleTimes>;
  /** Reconnect backoff; defaults: 100 ms, at most 5000 ms. */
  backoff?: Partial<BackoffTimes>;
  /** For tests: the clock and randomness the timers and jitter use. */
  nowMs?: () => number;
  random?: () => number;
}

export interface SessionOptions {
  name: string;
  ttlMs: number;
  /** How long a lock of this session stays taken after the session ends (default 15000). */
  lockDelayMs?: number;
  /** Checks on the agent's node whose failure ends the session. */
  checks?: string[];
}

export type AcquireResult =
  | { acquired: true; atMs: number }
  | { acquired: false; code: ResultCode; error: string; holder?: string; freeAtMs?: number };

export class VigilRequestError extends Error {
  override readonly name = "VigilRequestError";
  constructor(
    readonly code: ResultCode | "connection_lost" | "closed",
    message: string,
  ) {
    super(message);
  }
}

export interface VigilClientEvents {
  connected: [];
  reconnecting: [{ attempt: number; delayMs: number; reason: string }];
  sessionLost: [{ session: string; reason: SessionEndReason | "unknown" | "ttl_elapsed_here" }];
  lockLost: [{ key: string; session: string }];
  primaryMoved: [{ resource: string; node: string | null }];
  idle: [{ kind: "reader_idle" | "writer_idle" | "all_idle" }];
}

type Result = Extract<AgentMessage, { op: "result" }>;
interface Pending {
  resolve(result: Result): void;
  reject(error: Error): void;
}

export function connect(options: ConnectOptions): VigilClient {
  const client = new VigilClient(options);
  client.start();
  return client;
}

export class VigilClient extends EventEmitter<VigilClientEvents> {
  readonly #options: ConnectOptions;
  readonly #nowMs: () => number;
  readonly #random: () => number;
  readonly #idleTimes: IdleTimes;
  readonly #backoff: BackoffTimes;
  #socket: Duplex | null = null;
  #request: HttpRequest | null = null;
  #idle: IdleState | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #sessionTimer: NodeJS.Timeout | null = null;
  #lastWriteMs = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #closed = false;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #session: { id: string; ttlMs: number } | null = null;
  readonly #locks = new Set<string>();
  readonly #watches = new Set<string>();
  #ready: Promise<void>;
  #markReady: () => void = () => {};

  constructor(options: ConnectOptions) {
    super();
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#idleTimes = {
      readerIdleMs: options.idle?.readerIdleMs ?? 3000,
      writerIdleMs: options.idle?.writerIdleMs ?? 1000,
      allIdleMs: options.idle?.allIdleMs ?? 0,
    };
    this.#backoff = {
      baseMs: options.backoff?.baseMs ?? 100,
      maxMs: options.backoff?.maxMs ?? 5000,
    };
    this.#ready = this.#newReady();
  }

  /** The session this client holds, or null. */
  get session(): string | null {
    return this.#session?.id ?? null;
  }

  /** The locks this client holds as far as it knows (none once its session is lost). */
  heldLocks(): string[] {
    return [...this.#locks].sort();
  }

  start(): void {
    this.#dial();
  }

  /** Opens a session on the agent's node; its TTL is kept by this client's heartbeats. */
  async openSession(options: SessionOptions): Promise<string> {
    if (this.#session !== null)
      throw new VigilRequestError("bad_request", "a session is open already");
    const result = await this.#call({
      op: "open",
      id: 0,
      name: options.name,
      ttl_ms: options.ttlMs,
      lock_delay_ms: options.lockDelayMs ?? 15_000,
      checks: options.checks ?? [],
    });
    if (!result.ok || result.session === undefined)
      throw new VigilRequestError(result.ok ? "unavailable" : result.code, errorOf(result));
    this.#session = { id: result.session, ttlMs: options.ttlMs };
    this.#armSessionWatch();
    return result.session;
  }

  /** Tries once to take the lock; a refusal says whether it is held or in its lock-delay. */
  async acquire(key: string): Promise<AcquireResult> {
    const result = await this.#call({ op: "acquire", id: 0, key });
    if (result.ok) {
      this.#locks.add(key);
      return { acquired: true, atMs: result.at_ms ?? this.#nowMs() };
    }
    return {
      acquired: false,
      code: result.code,
      error: result.error,
      ...(result.holder === undefined ? {} : { holder: result.holder }),
      ...(result.free_at_ms === undefined ? {} : { freeAtMs: result.free_at_ms }),
    };
  }

  async release(key: string): Promise<void> {
    const result = await this.#call({ op: "release", id: 0, key });
    this.#locks.delete(key);
    if (!result.ok) throw new VigilRequestError(result.code, result.error);
  }

  /** Ends the session: its locks are free at once. */
  async destroy(): Promise<void> {
    const result = await this.#call({ op: "destroy", id: 0 });
    if (!result.ok) throw new VigilRequestError(result.code, result.error);
    this.#session = null;
    this.#locks.clear();
  }

  /** Tells `primaryMoved` now (where it runs) and whenever the resource's primary moves. */
  async watch(resource: string): Promise<void> {
    this.#watches.add(resource);
    const result = await this.#call({ op: "watch", id: 0, resource });
    if (!result.ok) throw new VigilRequestError(result.code, result.error);
  }

  /** Closes the connection; the session lives on until its TTL (destroy() ends it at once). */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    if (this.#sessionTimer !== null) clearTimeout(this.#sessionTimer);
    this.#disconnect(new VigilRequestError("closed", "the client was closed"));
  }

  async #call(message: ClientRequest): Promise<Result> {
    if (this.#closed) throw new VigilRequestError("closed", "the client was closed");
    await this.#ready;
    const id = this.#nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#write({ ...message, id });
    });
  }

  #newReady(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#markReady = resolve;
    });
  }

  #dial(): void {
    if (this.#closed) return;
    const { socket, host, port, tls, token } = this.#options;
    const headers: Record<string, string> = {
      connection: "Upgrade",
      upgrade: SESSION_UPGRADE_PROTOCOL,
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    };
    const common = { method: "GET", path: SESSION_PATH, headers };
    const request =
      host === undefined
        ? httpRequest({ ...common, socketPath: socket ?? "/run/vigil/vigil.sock" })
        : tls
          ? httpsRequest({
              ...common,
              host,
              port,
              ...(typeof tls === "object" ? { ca: tls.ca } : {}),
            })
          : httpRequest({ ...common, host, port });
    this.#request = request;
    request.on("upgrade", (_response: IncomingMessage, upgraded: Duplex, head: Buffer) => {
      this.#request = null;
      this.#attach(upgraded, head);
    });
    request.on("response", (response: IncomingMessage) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (body.length < 1000) body += chunk;
      });
      response.on("end", () =>
        this.#lost(`the agent refused (${response.statusCode}): ${body.trim()}`),
      );
    });
    request.on("error", (error: Error) => this.#lost(`cannot reach the agent: ${error.message}`));
    request.end();
  }

  #attach(socket: Duplex, head: Buffer): void {
    this.#socket = socket;
    this.#attempt = 0;
    const now = this.#nowMs();
    this.#idle = new IdleState(this.#idleTimes, now);
    const splitter = new LineSplitter(1024 * 1024);
    const decoder = new StringDecoder("utf8");
    const onData = (chunk: Buffer) => {
      this.#idle?.read(this.#nowMs());
      const { lines } = splitter.push(decoder.write(chunk));
      for (const line of lines) this.#receive(line);
    };
    socket.on("data", onData);
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.#socket === socket) this.#lost("the connection closed");
    });
    if (head.length > 0) onData(head);
    this.#armIdle();
    void this.#resume();
  }

  /** A new connection: the session (if any) and the watches are taken up again. */
  async #resume(): Promise<void> {
    // Away longer than the TTL: the session is given up (and ended there), not resumed.
    this.#checkSessionLapsed(this.#nowMs());
    const session = this.#session;
    const socket = this.#socket;
    if (session !== null) {
      const id = this.#nextId++;
      const result = await new Promise<Result | null>((resolve) => {
        this.#pending.set(id, { resolve, reject: () => resolve(null) });
        this.#write({ op: "resume", id, session: session.id });
      });
      if (result === null || this.#socket !== socket) return;
      if (!result.ok) this.#sessionLost(session.id, "unknown");
    }
    for (const resource of this.#watches) {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: () => {}, reject: () => {} });
      this.#write({ op: "watch", id, resource });
    }
    this.emit("connected");
    this.#markReady();
  }

  #receive(line: string): void {
    let message: AgentMessage;
    try {
      message = JSON.parse(line) as AgentMessage;
    } catch {
      this.#lost("the agent sent a line that is not JSON");
      return;
    }
    if (message.op === "result") {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      pending?.resolve(message);
    } else if (message.op === "event") {
      if (message.type === "session_lost") this.#sessionLost(message.session, message.reason);
      else if (message.type === "lock_lost") {
        this.#locks.delete(message.key);
        this.emit("lockLost", { key: message.key, session: message.session });
      } else this.emit("primaryMoved", { resource: message.resource, node: message.node });
    } else if (message.op === "error") {
      this.#lost(`the agent closed the connection: ${message.error}`);
    }
  }

  #sessionLost(session: string, reason: VigilClientEvents["sessionLost"][0]["reason"]): void {
    if (this.#session?.id !== session) return;
    this.#session = null;
    for (const key of this.heldLocks()) {
      this.#locks.delete(key);
      this.emit("lockLost", { key, session });
    }
    this.emit("sessionLost", { session, reason });
  }

  #write(message: ClientMessage): void {
    const socket = this.#socket;
    if (socket === null) return;
    const now = this.#nowMs();
    if (message.op !== "destroy" && message.op !== "resume") this.#checkSessionLapsed(now);
    this.#lastWriteMs = now;
    this.#idle?.wrote(now);
    socket.write(`${JSON.stringify(message)}\n`);
  }

  /**
   * The agent renews the TTL only on what this client writes: once nothing was written for the
   * TTL (a pause — SIGSTOP, a stalled VM — or an agent unreachable that long), the session has
   * surely lapsed, and no lock may be trusted, whatever the agent says later.
   */
  #checkSessionLapsed(nowMs: number): void {
    const session = this.#session;
    if (session === null || nowMs - this.#lastWriteMs < session.ttlMs) return;
    this.#sessionLost(session.id, "ttl_elapsed_here");
    // Ended on the agent too, if it still lives there (bound to this connection or not): this
    // client no longer stands by it, and must not keep it alive with its heartbeats.
    if (this.#socket === null) return;
    for (const message of [{ op: "resume", session: session.id }, { op: "destroy" }] as const) {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: () => {}, reject: () => {} });
      this.#write({ ...message, id });
    }
  }

  /** Looks at the session's TTL when it would lapse without a write (while disconnected, say). */
  #armSessionWatch(): void {
    if (this.#sessionTimer !== null) clearTimeout(this.#sessionTimer);
    this.#sessionTimer = null;
    const session = this.#session;
    if (session === null || this.#closed) return;
    const delayMs = Math.max(1, this.#lastWriteMs + session.ttlMs - this.#nowMs());
    this.#sessionTimer = setTimeout(() => {
      this.#sessionTimer = null;
      this.#checkSessionLapsed(this.#nowMs());
      this.#armSessionWatch();
    }, delayMs);
  }

  #armIdle(): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    const deadline = this.#idle?.nextDeadlineMs() ?? null;
    if (deadline === null) return;
    this.#idleTimer = setTimeout(() => this.#onIdleTimer(), Math.max(1, deadline - this.#nowMs()));
  }

  #onIdleTimer(): void {
    const idle = this.#idle;
    if (idle === null) return;
    const now = this.#nowMs();
    for (const kind of idle.due(now)) {
      this.emit("idle", { kind });
      if (kind === "writer_idle") this.#write({ op: "ping" });
      if (kind === "reader_idle") {
        this.#lost(`nothing heard from the agent for ${this.#idleTimes.readerIdleMs} ms`);
        return;
      }
    }
    this.#armIdle();
  }

  #disconnect(error: Error): void {
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#idle = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.destroy();
    this.#request?.destroy();
    this.#request = null;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  /** The connection is gone: whatever waited fails, and a new one is dialled after a backoff. */
  #lost(reason: string): void {
    if (this.#closed || this.#retryTimer !== null) return;
    this.#disconnect(new VigilRequestError("connection_lost", reason));
    this.#ready = this.#newReady();
    const delayMs = reconnectDelayMs(this.#attempt, this.#backoff, this.#random);
    this.emit("reconnecting", { attempt: ++this.#attempt, delayMs, reason });
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#dial();
    }, delayMs);
  }
}

function errorOf(result: Result): string {
  return result.ok ? "the agent gave no session id" : result.error;
}
