import type { PersistedState, PersistOps } from "../consensus/types.js";
import type { TornTail } from "./raft-log-file.js";

/** A torn final record the store dropped from the log `file` on opening: the caller tells the operator. */
export interface DroppedTornTail extends TornTail {
  file: string;
}

/**
 * What the coordinator needs of the Raft core's durable store: RaftStore on disk in the agent,
 * an in-memory one where the disk is simulated (a test, a simulator).
 */
export interface RaftStorage {
  /** What the core (re)starts from. */
  state(): PersistedState;
  /** Resolves once ops are durable; the core's messages of the same step wait for it. */
  apply(ops: PersistOps): Promise<void>;
  close(): Promise<void>;
  /** What recovery dropped when this store was opened, or null. */
  readonly droppedTornTail: DroppedTornTail | null;
  /** The term recovery raised to the log's newest when this store was opened, if it did. */
  readonly termRaised?: { from: number; to: number } | null;
}
