/**
 * RESP2, the Redis serialization protocol, as far as a Sentinel speaks it: requests in (arrays of
 * bulk strings, or inline command lines as redis-cli and telnet send), replies out. Pure: bytes
 * in, commands and bytes out. Every size a client declares or sends is bounded; past a bound the
 * reader fails with Redis's own wording and the connection is to be closed after the error reply.
 */

export type RespValue =
  | { kind: "simple"; text: string }
  | { kind: "error"; text: string }
  | { kind: "integer"; value: number }
  | { kind: "bulk"; text: string | null }
  | { kind: "array"; items: readonly RespValue[] | null };

export const simple = (text: string): RespValue => ({ kind: "simple", text });
export const errorReply = (text: string): RespValue => ({ kind: "error", text });
export const integer = (value: number): RespValue => ({ kind: "integer", value });
export const bulk = (text: string | null): RespValue => ({ kind: "bulk", text });
export const array = (items: readonly RespValue[] | null): RespValue => ({ kind: "array", items });
/** Strings as bulk strings: most replies are lists of words. */
export const bulks = (texts: readonly string[]): RespValue => array(texts.map(bulk));
export const OK = simple("OK");

/** A simple string or error is one line: a CR or LF inside would end it early. */
const oneLine = (text: string) => text.replace(/[\r\n]+/g, " ");

export function encodeResp(value: RespValue): Buffer {
  const parts: string[] = [];
  const put = (item: RespValue): void => {
    switch (item.kind) {
      case "simple":
        parts.push(`+${oneLine(item.text)}\r\n`);
        return;
      case "error":
        parts.push(`-${oneLine(item.text)}\r\n`);
        return;
      case "integer":
        parts.push(`:${Math.trunc(item.value)}\r\n`);
        return;
      case "bulk":
        parts.push(
          item.text === null ? "$-1\r\n" : `$${Buffer.byteLength(item.text)}\r\n${item.text}\r\n`,
        );
        return;
      case "array":
        if (item.items === null) {
          parts.push("*-1\r\n");
          return;
        }
        parts.push(`*${item.items.length}\r\n`);
        for (const inner of item.items) put(inner);
    }
  };
  put(value);
  return Buffer.from(parts.join(""));
}

export interface RespLimits {
  /** Arguments of one command: Sentinel's commands take a handful. */
  maxArguments: number;
  /** Bytes of one argument. */
  maxBulkBytes: number;
  /** Bytes of one inline command line, and of a length line. */
  maxInlineBytes: number;
  /** Bytes held for a command not complete yet. */
  maxPendingBytes: number;
}

/** Far above what any Sentinel command needs, far below what would hurt the agent. */
export const DEFAULT_RESP_LIMITS: RespLimits = {
  maxArguments: 1024,
  maxBulkBytes: 64 * 1024,
  maxInlineBytes: 16 * 1024,
  maxPendingBytes: 256 * 1024,
};

export interface ReadResult {
  /** Complete commands, in order, each its arguments (never empty). */
  commands: string[][];
  /** A protocol error after those commands: reply with it and close the connection. */
  error: string | null;
}

type Step =
  | { kind: "command"; args: string[]; end: number }
  | { kind: "more" }
  | { kind: "skip"; end: number };

class ProtocolError extends Error {}

const INITIAL_BUFFER_BYTES = 4096;

/** Reads requests from one connection's bytes, as they arrive in chunks of any size. */
export class RespRequestReader {
  /** Bytes received and not read yet: buffer[start, end). Grows by doubling, so a client that
   * sends a byte at a time costs linear copying, not quadratic. */
  private buffer: Buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
  private start = 0;
  private end = 0;
  /** What is being read: buffer[start, end) while push runs. */
  private pending: Buffer = this.buffer.subarray(0, 0);
  private failed: string | null = null;

  constructor(private readonly limits: RespLimits = DEFAULT_RESP_LIMITS) {}

  push(chunk: Uint8Array): ReadResult {
    const commands: string[][] = [];
    if (this.failed !== null) return { commands, error: this.failed };
    this.append(chunk);
    this.pending = this.buffer.subarray(this.start, this.end);
    let offset = 0;
    try {
      while (offset < this.pending.length) {
        const step = this.next(offset);
        if (step.kind === "more") break;
        if (step.kind === "command") commands.push(step.args);
        offset = step.end;
      }
      this.start += offset;
      // A connection that once sent a large request does not keep its buffer while idle.
      if (this.start === this.end && this.buffer.length > INITIAL_BUFFER_BYTES) {
        this.buffer = Buffer.alloc(INITIAL_BUFFER_BYTES);
        this.start = 0;
        this.end = 0;
      }
      if (this.end - this.start > this.limits.maxPendingBytes)
        throw new ProtocolError("Protocol error: too big request");
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.failed = `ERR ${error.message}`;
      this.buffer = Buffer.alloc(0);
      this.start = 0;
      this.end = 0;
      return { commands, error: this.failed };
    }
    return { commands, error: null };
  }

  private append(chunk: Uint8Array): void {
    const held = this.end - this.start;
    if (this.end + chunk.length > this.buffer.length) {
      const needed = held + chunk.length;
      const target =
        needed <= this.buffer.length
          ? this.buffer
          : Buffer.alloc(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(target, 0, this.start, this.end);
      this.buffer = target;
      this.start = 0;
      this.end = held;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  private next(offset: number): Step {
    return this.pending[offset] === 0x2a /* * */ ? this.multibulk(offset) : this.inline(offset);
  }

  /** The line starting at `offset` without its CRLF, and where the next one starts; null if incomplete. */
  private line(offset: number, tooLong: string): { text: string; end: number } | null {
    const newline = this.pending.indexOf(0x0a, offset);
    if (newline < 0) {
      if (this.pending.length - offset > this.limits.maxInlineBytes)
        throw new ProtocolError(tooLong);
      return null;
    }
    if (newline - offset > this.limits.maxInlineBytes) throw new ProtocolError(tooLong);
    const stop = newline > offset && this.pending[newline - 1] === 0x0d ? newline - 1 : newline;
    return { text: this.pending.toString("utf8", offset, stop), end: newline + 1 };
  }

  private inline(offset: number): Step {
    const line = this.line(offset, "Protocol error: too big inline request");
    if (line === null) return { kind: "more" };
    const args = line.text.split(/[ \t]+/).filter((word) => word !== "");
    return args.length === 0
      ? { kind: "skip", end: line.end }
      : { kind: "command", args, end: line.end };
  }

  private multibulk(offset: number): Step {
    const header = this.line(offset, "Protocol error: too big mbulk count string");
    if (header === null) return { kind: "more" };
    const count = parseLength(header.text.slice(1));
    if (count === null || count > this.limits.maxArguments)
      throw new ProtocolError("Protocol error: invalid multibulk length");
    if (count <= 0) return { kind: "skip", end: header.end };
    const args: string[] = [];
    let at = header.end;
    while (args.length < count) {
      if (at >= this.pending.length) return { kind: "more" };
      if (this.pending[at] !== 0x24 /* $ */)
        throw new ProtocolError(
          `Protocol error: expected '$', got '${String.fromCharCode(this.pending[at] ?? 0)}'`,
        );
      const lengthLine = this.line(at, "Protocol error: too big bulk count string");
      if (lengthLine === null) return { kind: "more" };
      const length = parseLength(lengthLine.text.slice(1));
      if (length === null || length < 0 || length > this.limits.maxBulkBytes)
        throw new ProtocolError("Protocol error: invalid bulk length");
      const end = lengthLine.end + length;
      if (end + 2 > this.pending.length) {
        if (end + 2 - offset > this.limits.maxPendingBytes)
          throw new ProtocolError("Protocol error: too big request");
        return { kind: "more" };
      }
      if (this.pending[end] !== 0x0d || this.pending[end + 1] !== 0x0a)
        throw new ProtocolError("Protocol error: expected CRLF after a bulk string");
      args.push(this.pending.toString("utf8", lengthLine.end, end));
      at = end + 2;
    }
    return { kind: "command", args, end: at };
  }
}

/** A length as Redis writes it: an optional minus and up to 10 digits; null otherwise. */
function parseLength(text: string): number | null {
  return /^-?\d{1,10}$/.test(text) ? Number(text) : null;
}
