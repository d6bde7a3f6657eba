import { createSocket } from "node:dgram";
import type { Link, ReceivedFrame } from "../../src/links/link.js";
import { waitFor } from "../support/wait.js";

/** Ports the kernel just handed out on 127.0.0.1, released again for the test to bind. */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () => {
      const socket = createSocket("udp4");
      return new Promise<ReturnType<typeof createSocket>>((resolve) =>
        socket.bind(0, "127.0.0.1", () => resolve(socket)),
      );
    }),
  );
  const ports = sockets.map((socket) => socket.address().port);
  await Promise.all(
    sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
  );
  return ports;
}

/** Collects what a link receives and reports, for assertions. */
export class Inbox {
  readonly frames: ReceivedFrame[] = [];
  readonly errors: Error[] = [];
  readonly onFrame = (frame: ReceivedFrame) => {
    this.frames.push(frame);
  };
  readonly onError = (error: Error) => {
    this.errors.push(error);
  };

  async open(link: Link): Promise<this> {
    await link.open(this.onFrame, this.onError);
    return this;
  }

  /** Waits until `count` frames arrived; returns them. */
  waitForFrames(count: number, what: string): Promise<ReceivedFrame[]> {
    return waitFor(what, () => (this.frames.length >= count ? this.frames : undefined));
  }

  waitForErrors(count: number, what: string): Promise<Error[]> {
    return waitFor(what, () => (this.errors.length >= count ? this.errors : undefined));
  }
}
