import { LinkError } from "./errors.js";

export type LinkPhase = "new" | "opening" | "open" | "closed";

/**
 * The open/close life of a link, shared by every kind: open() runs once; a failed open leaves the
 * link closed; close() during open() wins, so a late-finishing open never reopens a closed link.
 */
export class LinkLifecycle {
  phase: LinkPhase = "new";

  constructor(private readonly linkName: string) {}

  open(start: () => Promise<void>): Promise<void> {
    if (this.phase !== "new") {
      return Promise.reject(
        new LinkError(this.linkName, "open_failed", `cannot open a link that is ${this.phase}`),
      );
    }
    this.phase = "opening";
    return start().then(
      () => {
        if (this.phase === "opening") this.phase = "open";
      },
      (error: unknown) => {
        this.phase = "closed";
        throw error;
      },
    );
  }
}
