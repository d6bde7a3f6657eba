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
    const dir = dirname(file);
    super(
      `${file}, ${where}: ${problem}. A crash cannot produce this, so the node refuses to start on ` +
        `this Raft state. To rejoin, move its Raft state directory aside (keep it for diagnosis) ` +
        `with \`mv ${dir} ${dir}.damaged\` and start the agent again: it rejoins as a fresh member and ` +
        "catches up from the leader. Do this only while the other members have a leader and a " +
        "quorum without this node (vigil status on one of them).",
    );
  }
}
