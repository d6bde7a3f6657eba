/**
 * serial: a null-modem line between exactly two nodes, the classic heartbeat path that survives a
 * dead switch. The tty is put in raw 8N1 mode without flow control by stty, then read through
 * libuv's tty handle (event driven, so close() never waits on a blocked read) and written with
 * non-blocking writes. Frames travel SLIP-encoded.
 */

import { execFile } from "node:child_process";
import { close as closeFd, constants, open as openFd, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import { promisify } from "node:util";
import type { LinkNode } from "./attachments.js";
import { attachedPeers, localAttachment, type SerialLinkConfig } from "./attachments.js";
import { explainSystemError, LinkError } from "./errors.js";
import { LinkLifecycle } from "./lifecycle.js";
import type { Link, LinkCounters, ReceivedFrame } from "./link.js";
import { encodeSlipFrame, SlipDecoder } from "./slip.js";

const execFileAsync = promisify(execFile);
const openAsync = promisify(openFd);

/** stty finishes at once; seconds mean the device hangs (e.g. a USB adapter half unplugged). */
const STTY_TIMEOUT_MS = 5_000;

/** Raw bytes, 8 data bits, no parity, one stop bit, no echo, no flow control, ignore carrier. */
export function sttyArguments(device: string, baud: number): string[] {
  return [
    "-F",
    device,
    String(baud),
    "raw",
    "-echo",
    "-echoe",
    "-echok",
    "-ixon",
    "-ixoff",
    "-crtscts",
    "cs8",
    "-cstopb",
    "-parenb",
    "clocal",
  ];
}

export function createSerialLink(
  link: SerialLinkConfig,
  localNode: LinkNode,
  peers: readonly LinkNode[],
): SerialLink {
  const local = localAttachment(link, localNode);
  if (local.device === undefined) {
    throw new LinkError(
      link.name,
      "config",
      `node ${localNode.name} needs a device on serial link ${link.name}`,
    );
  }
  const attached = attachedPeers(link, localNode, peers);
  if (attached.length > 1) {
    const names = [localNode, ...attached.map((peer) => peer.node)].map((node) => node.name);
    throw new LinkError(
      link.name,
      "config",
      `a serial link joins exactly two nodes, but ${names.join(", ")} are attached to it`,
    );
  }
  return new SerialLink(link.name, local.device, link.baud);
}

export class SerialLink implements Link {
  readonly kind = "serial" as const;
  private fd: number | undefined;
  private reader: ReadStream | undefined;
  private readonly decoder = new SlipDecoder();
  private onError: (error: Error) => void = () => {};
  private opening: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly tally = { framesSent: 0, framesReceived: 0, sendErrors: 0 };

  private readonly lifecycle: LinkLifecycle;

  constructor(
    readonly name: string,
    readonly device: string,
    readonly baud: number,
  ) {
    this.lifecycle = new LinkLifecycle(name);
  }

  open(onFrame: (frame: ReceivedFrame) => void, onError: (error: Error) => void): Promise<void> {
    // Only the first open() takes effect; later ones are refused by the lifecycle.
    if (this.lifecycle.phase !== "new") return this.lifecycle.open(() => this.openDevice(onFrame));
    this.onError = onError;
    this.opening = this.lifecycle.open(() => this.openDevice(onFrame));
    return this.opening;
  }

  private async openDevice(onFrame: (frame: ReceivedFrame) => void): Promise<void> {
    try {
      await execFileAsync("stty", sttyArguments(this.device, this.baud), {
        timeout: STTY_TIMEOUT_MS,
        killSignal: "SIGKILL",
      });
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
      throw new LinkError(
        this.name,
        "open_failed",
        `cannot configure ${this.device} at ${this.baud} baud: ${stderr || explainSystemError(error)}`,
        { cause: error },
      );
    }
    // Two descriptors: the tty read handle owns one and closes it when the line hangs up, while
    // writes go through one only this link closes, so a write can never hit a reused fd number.
    // O_NOCTTY: the agent must never acquire the line as its controlling terminal.
    const flags = constants.O_NOCTTY | constants.O_NONBLOCK;
    const writeFd = await this.openFd(constants.O_WRONLY | flags);
    let reader: ReadStream;
    try {
      const readFd = await this.openFd(constants.O_RDONLY | flags);
      try {
        reader = new ReadStream(readFd);
      } catch (error) {
        closeFdQuietly(readFd);
        throw new LinkError(
          this.name,
          "open_failed",
          `cannot read ${this.device}: ${explainSystemError(error)}`,
          { cause: error },
        );
      }
    } catch (error) {
      closeFdQuietly(writeFd);
      throw error;
    }
    reader.on("data", (chunk: Buffer) => {
      for (const bytes of this.decoder.push(chunk)) {
        this.tally.framesReceived++;
        onFrame({ bytes, from: this.device });
      }
    });
    reader.on("error", (error) => {
      this.onError(
        new LinkError(
          this.name,
          "io_failed",
          `reading ${this.device}: ${explainSystemError(error)}`,
          {
            cause: error,
          },
        ),
      );
    });
    reader.on("end", () => {
      if (this.lifecycle.phase === "open") {
        this.onError(new LinkError(this.name, "io_failed", `${this.device} was closed (hangup)`));
      }
    });
    this.fd = writeFd;
    this.reader = reader;
  }

  private async openFd(flags: number): Promise<number> {
    try {
      return await openAsync(this.device, flags);
    } catch (error) {
      throw new LinkError(
        this.name,
        "open_failed",
        `cannot open ${this.device}: ${explainSystemError(error)}`,
        { cause: error },
      );
    }
  }

  /** A serial line joins exactly two nodes: the one peer is everyone. */
  sendTo(_peerId: number, frame: Buffer): void {
    this.broadcast(frame);
  }

  broadcast(frame: Buffer): void {
    const fd = this.fd;
    if (this.lifecycle.phase !== "open" || fd === undefined) {
      this.sendFailed(`cannot send: link is ${this.lifecycle.phase}`);
      return;
    }
    const encoded = encodeSlipFrame(frame);
    try {
      // The fd is non-blocking and a frame is far below the tty's output buffer, so this returns
      // at once; a short write means the line is backed up, and the frame is lost (the next
      // frame's leading END resynchronises the receiver).
      let written = 0;
      while (written < encoded.length) {
        const count = writeSync(fd, encoded, written, encoded.length - written);
        if (count === 0) throw new Error(`line accepted ${written} of ${encoded.length} bytes`);
        written += count;
      }
      this.tally.framesSent++;
    } catch (error) {
      this.sendFailed(`write to ${this.device} failed: ${explainSystemError(error)}`, error);
    }
  }

  counters(): LinkCounters {
    return { ...this.tally, framingErrors: this.decoder.framingErrorTotal };
  }

  close(): Promise<void> {
    this.closing ??= this.closeDevice();
    return this.closing;
  }

  private async closeDevice(): Promise<void> {
    await this.opening?.catch(() => {});
    this.lifecycle.phase = "closed";
    const reader = this.reader;
    const fd = this.fd;
    this.reader = undefined;
    this.fd = undefined;
    if (fd !== undefined) closeFdQuietly(fd);
    // The tty handle owns the read descriptor and closes it with itself.
    if (reader === undefined || reader.closed) return;
    await new Promise<void>((resolve) => {
      reader.once("close", () => resolve());
      reader.destroy();
    });
  }

  private sendFailed(detail: string, cause?: unknown): void {
    this.tally.sendErrors++;
    this.onError(new LinkError(this.name, "send_failed", detail, { cause }));
  }
}

function closeFdQuietly(fd: number): void {
  closeFd(fd, () => {});
}
