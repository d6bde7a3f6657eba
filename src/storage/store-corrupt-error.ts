import { dirname } from "node:path";

/**
 * The Raft state on disk is damaged in a way a crash cannot explain. Starting anyway could make
 * this node forget a vote or an acknowledged entry, which breaks Raft's safety, so it refuses.
 */
export class StoreCorruptError extends Error {
  override readonly name = "StoreCorruptError";

  constructor(
    readonly file: string,
    readonly where: string,
    readonly problem: string,
  ) {
    super(
      `${file}, ${where}: ${problem}. A crash cannot produce this, so the node refuses to start on ` +
        `this Raft state. Move the state directory ${dirname(file)} aside (keep it for diagnosis) and ` +
        "restart: the node rejoins as a fresh member and catches up from the leader via a snapshot. " +
        "Do this only while the other members still form a quorum without this node.",
    );
  }
}
