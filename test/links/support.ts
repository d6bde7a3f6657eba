import type { Link, ReceivedFrame } from "../../src/links/link.js";
import { waitFor } from "../support/wait.js";

export { freeUdpPorts } from "../../src/demo/local-cluster.js";

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
