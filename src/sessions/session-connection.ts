import type { Duplex } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Timers } from "../coordination/timers.js";
import type { ClusterState } from "../state/types.js";
import type { Clock } from "../time/clock.js";
import { primaryNode } from "./primary.js";
import {
  type AgentMessage,
  type ClientRequest,
  LineSplitter,
  parseClientLine,
} from "./protocol.js";
import type { KeeperEvent, KeeperResult, SessionKeeper } from "./session-keeper.js";

/** Requests waiting on one connection; past this the client is flooding and is disconnected. */
const MAX_PENDING_REQUESTS = 16;
/** Resources one connection may watch. */
const MAX_WATCHES = 32;

export interface SessionConnectionDeps {
  keeper: SessionKeeper;
  clock: Clock;
  timers: Timers;
  state(): ClusterState;
  /** The agent pings after this long without writing: the client's reader-idle hears it alive. */
  pingEveryMs: number;
  /** A connection silent this long is closed (its session keeps its own TTL). */
  silentCloseMs: number;
}

/**
 * One client's long connection (protocol.ts): its lines are read within MAX_LINE_BYTES and
 * checked, its requests answered in order, its session's TTL renewed by every line, the
 * keeper's events about its session passed on, and a ping sent whenever the agent has written
 * nothing for `pingEveryMs`. A bad line is answered with an error and the connection closed.
 */
export class SessionConnection {
  #session: string | null = null;
  readonly #watches = new Map<string, string | null>();
  readonly #splitter = new LineSplitter();
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #lastWriteMs: number;
  #lastReadMs: number;
  #cancelTimer: (() => void) | null = null;
  #closed = false;
  readonly #unsubscribe: () => void;

  constructor(
    private readonly socket: Duplex,
    private readonly deps: SessionConnectionDeps,
    private readonly onClose: () => void,
  ) {
    this.#lastWriteMs = deps.clock.nowMs();
    this.#lastReadMs = this.#lastWriteMs;
    // Not socket.setEncoding: an upgraded HTTP socket refuses it.
    const decoder = new StringDecoder("utf8");
    socket.on("data", (chunk: Buffer) => this.#read(decoder.write(chunk)));
    socket.on("error", () => this.close());
    socket.on("close", () => this.close());
    socket.on("end", () => this.close());
    this.#unsubscribe = deps.keeper.subscribe((event) => this.#keeperEvent(event));
    this.#schedule();
  }

  close(): void {
    if (this.#teardown()) this.socket.destroy();
  }

  /** Stops everything this connection runs; false when it had already stopped. */
  #teardown(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#cancelTimer?.();
    this.#unsubscribe();
    this.onClose();
    return true;
  }

  /** The committed state changed: watched resources whose primary moved are told. */
  stateChanged(): void {
    if (this.#closed || this.#watches.size === 0) return;
    const state = this.deps.state();
    for (const [resource, last] of this.#watches) {
      const node = primaryNode(state, resource);
      if (node === last) continue;
      this.#watches.set(resource, node);
      this.#send({ op: "event", type: "primary_moved", resource, node });
    }
  }

  /** Bytes read from the socket (or read with the upgrade request, before it was handed over). */
  receive(chunk: string): void {
    this.#read(chunk);
  }

  #read(chunk: string): void {
    if (this.#closed) return;
    this.#lastReadMs = this.deps.clock.nowMs();
    const { lines, overflow } = this.#splitter.push(chunk);
    for (const line of lines) {
      const parsed = parseClientLine(line);
      if (!parsed.ok) {
        this.#fail(`bad line: ${parsed.error}`);
        return;
      }
      if (this.#session !== null) this.deps.keeper.renew(this.#session);
      if (parsed.message.op === "ping") continue;
      if (++this.#pending > MAX_PENDING_REQUESTS) {
        this.#fail(`more than ${MAX_PENDING_REQUESTS} requests waiting: wait for results`);
        return;
      }
      const request = parsed.message;
      this.#queue = this.#queue.then(async () => {
        const result = await this.#handle(request).catch(
          (error: unknown): KeeperResult => ({
            ok: false,
            code: "unavailable",
            error: (error as Error).message,
          }),
        );
        this.#pending--;
        this.#answer(request.id, result);
      });
    }
    if (overflow) this.#fail("a line is longer than the protocol allows");
  }

  async #handle(request: ClientRequest): Promise<KeeperResult> {
    const keeper = this.deps.keeper;
    if (request.op === "open") {
      if (this.#session !== null)
        return {
          ok: false,
          code: "bad_request",
          error: `this connection has session ${this.#session}: destroy it first`,
        };
      const result = await keeper.open({
        name: request.name,
        ttlMs: request.ttl_ms,
        lockDelayMs: request.lock_delay_ms,
        checks: request.checks,
      });
      if (result.ok && result.session !== undefined) this.#session = result.session;
      return result;
    }
    if (request.op === "resume") {
      if (!keeper.owns(request.session))
        return {
          ok: false,
          code: "session_lost",
          error: `no session ${request.session} on this node (it ended, or was opened elsewhere)`,
        };
      this.#session = request.session;
      keeper.renew(request.session);
      return { ok: true, session: request.session };
    }
    if (request.op === "watch") {
      if (!this.#watches.has(request.resource) && this.#watches.size >= MAX_WATCHES)
        return { ok: false, code: "bad_request", error: `at most ${MAX_WATCHES} watches` };
      const node = primaryNode(this.deps.state(), request.resource);
      this.#watches.set(request.resource, node);
      this.#send({ op: "event", type: "primary_moved", resource: request.resource, node });
      return { ok: true };
    }
    const session = this.#session;
    if (session === null)
      return { ok: false, code: "no_session", error: "open or resume a session first" };
    if (request.op === "acquire") return keeper.acquire(session, request.key);
    if (request.op === "release") return keeper.release(session, request.key);
    const result = await keeper.destroy(session);
    if (result.ok) this.#session = null;
    return result;
  }

  #answer(id: number, result: KeeperResult): void {
    if (result.ok) {
      this.#send({
        op: "result",
        id,
        ok: true,
        ...(result.session === undefined ? {} : { session: result.session }),
        ...(result.atMs === undefined ? {} : { at_ms: result.atMs }),
      });
      return;
    }
    this.#send({
      op: "result",
      id,
      ok: false,
      code: result.code,
      error: result.error,
      ...(result.holder === undefined ? {} : { holder: result.holder }),
      ...(result.freeAtMs === undefined ? {} : { free_at_ms: result.freeAtMs }),
    });
  }

  #keeperEvent(event: KeeperEvent): void {
    if (this.#session === null || event.session !== this.#session) return;
    if (event.type === "session_lost") {
      this.#session = null;
      this.#send({ op: "event", ...event });
    } else {
      this.#send({ op: "event", ...event });
    }
  }

  /** Answers with the error, then ends the connection once the answer is written. */
  #fail(error: string): void {
    if (this.#closed) return;
    const line = `${JSON.stringify({ op: "error", error } satisfies AgentMessage)}\n`;
    this.#teardown();
    this.socket.end(line);
  }

  #send(message: AgentMessage): void {
    if (this.#closed) return;
    this.#lastWriteMs = this.deps.clock.nowMs();
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  /** The agent's own idle timers: a ping on writer-idle, and a close after long silence. */
  #schedule(): void {
    if (this.#closed) return;
    const now = this.deps.clock.nowMs();
    if (now - this.#lastReadMs >= this.deps.silentCloseMs) {
      this.close();
      return;
    }
    if (now - this.#lastWriteMs >= this.deps.pingEveryMs) this.#send({ op: "ping" });
    const next = Math.min(
      this.#lastWriteMs + this.deps.pingEveryMs,
      this.#lastReadMs + this.deps.silentCloseMs,
    );
    this.#cancelTimer = this.deps.timers.after(Math.max(10, next - now), () => this.#schedule());
  }
}
