import { type FileHandle, mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  HardState,
  LogEntry,
  PersistedState,
  PersistOps,
  Snapshot,
} from "../consensus/types.js";
import { decodeChecksummedFile, encodeChecksummedFile } from "./checksummed-file.js";
import { removeLeftoverTemporaries, replaceFileDurably, writeFully } from "./durable-fs.js";
import { planPersist } from "./persist-plan.js";
import { encodeLogFile, encodeLogRecord, replayLog } from "./raft-log-file.js";
import type { DroppedTornTail, RaftStorage } from "./raft-storage.js";
import { hardStateSchema, snapshotSchema } from "./raft-store-schema.js";
import { fileMagic } from "./record-codec.js";
import { StoreCorruptError } from "./store-corrupt-error.js";

export { InvalidPersistOpsError } from "./persist-plan.js";
export type { DroppedTornTail } from "./raft-storage.js";
export { StoreCorruptError } from "./store-corrupt-error.js";

const HARD_STATE_FILE = "hardstate";
const SNAPSHOT_FILE = "snapshot";
const LOG_FILE = "log";
const HARD_STATE_MAGIC = fileMagic("VIGRHS01");
const SNAPSHOT_MAGIC = fileMagic("VIGRSN01");
const INITIAL_HARD_STATE: HardState = { term: 0, votedFor: null };

/**
 * The durable store of the Raft core. One directory holds:
 *   hardstate — term and vote, replaced atomically;
 *   snapshot  — the latest snapshot, replaced atomically;
 *   log       — the entries after the snapshot, appended to with one write + fdatasync per
 *               apply(), and rewritten (atomically) after each snapshot so disk use stays bounded.
 * Every state() after a crash equals the state after some prefix of the steps of the apply()
 * that was running — hard state, snapshot, log change — and nothing of an apply() that resolved
 * is ever lost. The hard state goes first: a term ahead of the log is what Raft expects (a node
 * that heard of a new term before any entry of it), an entry of a term the node does not know it
 * is in is not (its vote requests would carry a last log term above their own).
 */
export class RaftStore implements RaftStorage {
  private current: PersistedState;
  private log: FileHandle | null;
  private logSizeBytes: number;
  /** The hard state's term, raised at open to the newest entry's (see open), or null. */
  termRaised: { from: number; to: number } | null = null;
  /** Serializes apply() calls: each must see the file as the previous one left it. */
  private queue: Promise<void> = Promise.resolve();
  /** After a failed write the file and memory may disagree; refuse further writes until restart. */
  private failure: Error | null = null;

  private constructor(
    private readonly dir: string,
    current: PersistedState,
    log: FileHandle,
    logSizeBytes: number,
    /** What recovery dropped when this store was opened. */
    readonly droppedTornTail: DroppedTornTail | null,
  ) {
    this.current = current;
    this.log = log;
    this.logSizeBytes = logSizeBytes;
  }

  /** Opens (creating if absent, mode 0700) the directory; recovers; refuses with StoreCorruptError on real corruption. */
  static async open(dir: string): Promise<RaftStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`cannot create the Raft state directory ${dir}: ${(error as Error).message}`);
    }
    await removeLeftoverTemporaries(dir, [HARD_STATE_FILE, SNAPSHOT_FILE, LOG_FILE]);

    const hardStatePath = join(dir, HARD_STATE_FILE);
    const hardStateBytes = await readIfPresent(hardStatePath);
    const hardState =
      hardStateBytes === null
        ? INITIAL_HARD_STATE
        : decodeChecksummedFile(hardStateBytes, HARD_STATE_MAGIC, hardStateSchema, hardStatePath);

    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const snapshotBytes = await readIfPresent(snapshotPath);
    const snapshot: Snapshot | null =
      snapshotBytes === null
        ? null
        : decodeChecksummedFile(snapshotBytes, SNAPSHOT_MAGIC, snapshotSchema, snapshotPath);
    const snapshotIndex = snapshot?.meta.lastIncludedIndex ?? 0;

    const logPath = join(dir, LOG_FILE);
    let logBytes = await readIfPresent(logPath);
    if (logBytes === null) {
      // open() creates the log before any apply() can write the other files, so a missing log
      // next to them means it was deleted, and with it entries this node acknowledged.
      if (hardStateBytes !== null || snapshotBytes !== null) {
        throw new StoreCorruptError(
          logPath,
          "whole file",
          "the log is missing while hardstate or snapshot exist",
        );
      }
      logBytes = encodeLogFile(0, []);
      await replaceFileDurably(dir, LOG_FILE, logBytes);
    }
    const replayed = replayLog(logBytes, logPath);
    if (replayed.baseIndex > snapshotIndex) {
      throw new StoreCorruptError(
        logPath,
        "header",
        `the log starts after index ${replayed.baseIndex} but the snapshot covers only up to ${snapshotIndex}, so entries in between are missing`,
      );
    }
    // A crash between writing a snapshot and compacting the log leaves entries the snapshot
    // covers; they are dropped here, and the compaction is finished before anything is appended.
    const entries = replayed.entries.filter((entry) => entry.index > snapshotIndex);
    let logSizeBytes = replayed.validBytes;
    if (replayed.baseIndex < snapshotIndex) {
      const compacted = encodeLogFile(snapshotIndex, entries);
      await replaceFileDurably(dir, LOG_FILE, compacted);
      logSizeBytes = compacted.length;
    } else if (replayed.tornTail !== null) {
      await cutTornTail(logPath, logSizeBytes);
    }
    const log = await open(logPath, "r+");
    const dropped = replayed.tornTail === null ? null : { file: logPath, ...replayed.tornTail };
    // A store written before the hard state went first may hold entries of a term its hard
    // state never reached (a crash between the two writes): the node was in that term, and cast
    // no vote in it that was ever sent (a vote is sent after its write).
    const lastTerm = entries.at(-1)?.term ?? snapshot?.meta.lastIncludedTerm ?? 0;
    let termRaised: { from: number; to: number } | null = null;
    let restored = hardState;
    if (lastTerm > hardState.term) {
      restored = { term: lastTerm, votedFor: null };
      await replaceFileDurably(
        dir,
        HARD_STATE_FILE,
        encodeChecksummedFile(HARD_STATE_MAGIC, restored),
      );
      termRaised = { from: hardState.term, to: lastTerm };
    }
    const store = new RaftStore(
      dir,
      { hardState: restored, snapshot, entries },
      log,
      logSizeBytes,
      dropped,
    );
    store.termRaised = termRaised;
    return store;
  }

  /** What the core restarts from. */
  state(): PersistedState {
    return structuredClone(this.current);
  }

  /** Makes ops durable (fsync) before resolving. Order: hardState, snapshot, truncateFrom, append. */
  apply(ops: PersistOps): Promise<void> {
    const run = this.queue.then(() => this.applyNow(ops));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    const log = this.log;
    this.log = null;
    await log?.close();
  }

  private async applyNow(ops: PersistOps): Promise<void> {
    if (this.log === null) throw new Error(`the Raft store in ${this.dir} is closed`);
    if (this.failure !== null) {
      throw new Error(
        `the Raft store in ${this.dir} failed earlier (${this.failure.message}); restart to recover from disk`,
      );
    }
    const plan = planPersist(this.current, ops);
    try {
      if (plan.hardStateChanged) {
        await replaceFileDurably(
          this.dir,
          HARD_STATE_FILE,
          encodeChecksummedFile(HARD_STATE_MAGIC, plan.next.hardState),
        );
      }
      if (plan.snapshotChanged && plan.next.snapshot !== null) {
        await replaceFileDurably(
          this.dir,
          SNAPSHOT_FILE,
          encodeChecksummedFile(SNAPSHOT_MAGIC, plan.next.snapshot),
        );
        await this.rewriteLog(plan.next.snapshot.meta.lastIncludedIndex, plan.next.entries);
      } else if (plan.logRecord !== null) {
        const record = encodeLogRecord(plan.logRecord);
        await writeFully(this.log, record, this.logSizeBytes);
        await this.log.datasync();
        this.logSizeBytes += record.length;
      }
    } catch (error) {
      this.failure = error as Error;
      throw error;
    }
    this.current = plan.next;
  }

  /** Replaces the log with one holding only `entries` (those after the snapshot). */
  private async rewriteLog(baseIndex: number, entries: readonly LogEntry[]): Promise<void> {
    const bytes = encodeLogFile(baseIndex, entries);
    await replaceFileDurably(this.dir, LOG_FILE, bytes);
    const previous = this.log;
    this.log = await open(join(this.dir, LOG_FILE), "r+");
    this.logSizeBytes = bytes.length;
    await previous?.close();
  }
}

/** Drops a torn final record, durably, so the next append starts on a record boundary. */
async function cutTornTail(logPath: string, validBytes: number): Promise<void> {
  const log = await open(logPath, "r+");
  try {
    await log.truncate(validBytes);
    await log.sync();
  } finally {
    await log.close();
  }
}

async function readIfPresent(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
