/**
 * Output of a spawned lab process: kept in memory for assertions and waitForLine, and copied to
 * a log file for reading after a failed run (VIGIL_LAB_KEEP=1).
 */
import { EventEmitter } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";
import type { ExitStatus } from "./processes.js";

/** A chatty agent writes a few MiB in a long test; beyond this the oldest output goes. */
const MAX_CAPTURED_CHARS = 8 * 1024 * 1024;
/** After exit, how long pipes may still deliver buffered output before waitForLine gives up. */
const EXIT_DRAIN_MS = 500;
/** How much output a waitForLine failure quotes. */
const TAIL_CHARS = 2_000;

export class CapturedStream {
  private captured = "";
  private partialLine = "";
  private ended = false;
  private readonly events = new EventEmitter();
  private readonly log: WriteStream;

  constructor(
    source: Readable,
    readonly logPath: string,
  ) {
    this.log = createWriteStream(logPath, { flags: "a" });
    // A log that cannot be written must not crash the test; the in-memory copy still works.
    this.log.on("error", () => undefined);
    source.setEncoding("utf8");
    source.on("data", (chunk: string) => this.append(chunk));
    source.once("close", () => this.finish());
  }

  get text(): string {
    return this.captured;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Complete lines written so far (the retained part). */
  lines(): string[] {
    const complete = this.captured.slice(0, this.captured.length - this.partialLine.length);
    return complete.split("\n").slice(0, -1);
  }

  onLine(listener: (line: string) => void): () => void {
    this.events.on("line", listener);
    return () => this.events.off("line", listener);
  }

  onEnd(listener: () => void): () => void {
    this.events.on("end", listener);
    return () => this.events.off("end", listener);
  }

  private append(chunk: string): void {
    this.log.write(chunk);
    this.captured += chunk;
    if (this.captured.length > MAX_CAPTURED_CHARS) {
      this.captured = this.captured.slice(this.captured.length - MAX_CAPTURED_CHARS);
    }
    const parts = (this.partialLine + chunk).split("\n");
    this.partialLine = parts.pop() ?? "";
    for (const line of parts) this.events.emit("line", line);
  }

  private finish(): void {
    if (this.ended) return;
    // A last line without a newline still counts once the stream is over.
    if (this.partialLine !== "") {
      const line = this.partialLine;
      this.partialLine = "";
      this.events.emit("line", line);
    }
    this.ended = true;
    this.log.end();
    this.events.emit("end");
  }
}

export function waitForLine(
  streams: readonly CapturedStream[],
  pattern: RegExp,
  timeoutMs: number,
  exited: Promise<ExitStatus>,
  describe: string,
): Promise<string> {
  // A /g or /y pattern keeps lastIndex between test() calls and would skip matches.
  const matcher = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ""));
  for (const stream of streams) {
    const found = stream.lines().find((line) => matcher.test(line));
    if (found !== undefined) return Promise.resolve(found);
  }
  return new Promise<string>((resolvePromise, reject) => {
    const cleanups: (() => void)[] = [];
    const settle = (outcome: () => void) => {
      for (const cleanup of cleanups) cleanup();
      outcome();
    };
    const fail = (why: string) =>
      settle(() =>
        reject(
          new Error(`${describe}: no line matching ${pattern} ${why}\n${tail(streams)}`.trimEnd()),
        ),
      );
    for (const stream of streams) {
      cleanups.push(
        stream.onLine((line) => {
          if (matcher.test(line)) settle(() => resolvePromise(line));
        }),
      );
    }
    const timer = setTimeout(() => fail(`within ${timeoutMs} ms`), timeoutMs);
    cleanups.push(() => clearTimeout(timer));
    let exitStatus: ExitStatus | null = null;
    const failIfDrained = () => {
      if (exitStatus !== null && streams.every((stream) => stream.isEnded))
        fail(`before it exited (${formatExit(exitStatus)})`);
    };
    for (const stream of streams) cleanups.push(stream.onEnd(failIfDrained));
    let active = true;
    cleanups.push(() => {
      active = false;
    });
    void exited.then((status) => {
      if (!active) return;
      exitStatus = status;
      failIfDrained();
      // A child that inherited the pipes can hold them open: do not wait for EOF forever.
      const drain = setTimeout(
        () => fail(`before it exited (${formatExit(status)})`),
        EXIT_DRAIN_MS,
      );
      cleanups.push(() => clearTimeout(drain));
    });
  });
}

export function formatExit(status: ExitStatus): string {
  return status.signal !== null ? `signal ${status.signal}` : `code ${status.code}`;
}

export function tail(streams: readonly CapturedStream[]): string {
  return streams
    .map((stream) => {
      const text = stream.text;
      if (text === "") return "";
      const shown = text.length > TAIL_CHARS ? `...${text.slice(-TAIL_CHARS)}` : text;
      return `--- ${stream.logPath}\n${shown}`;
    })
    .filter((part) => part !== "")
    .join("\n");
}
