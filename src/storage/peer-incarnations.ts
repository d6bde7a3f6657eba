import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { type CarriedOverIncarnations, NOTHING_CARRIED_OVER } from "../wire/replay-guard.js";
import { decodeChecksummedFile, encodeChecksummedFile } from "./checksummed-file.js";
import { replaceFileDurably } from "./durable-fs.js";
import { fileMagic } from "./record-codec.js";
import { StoreCorruptError } from "./store-corrupt-error.js";

export const PEER_INCARNATIONS_FILE = "peer-incarnations";
const MAGIC = fileMagic("VIGPINC1");
const MAX_NODE_ID = 0xffff;

const fileSchema = z.object({
  peers: z
    .array(
      z.object({
        id: z.number().int().min(1).max(MAX_NODE_ID),
        incarnation: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      }),
    )
    .max(MAX_NODE_ID),
});

export interface PeerIncarnationsOptions {
  stateDir: string;
  /** Records of nodes no longer configured are dropped: one record per configured peer at most. */
  isKnownNode(id: number): boolean;
  /**
   * Says what went wrong, for the log: a damaged record at load (then the safe fallback holds),
   * a failed write (retried at the next change). Never a reason to stop.
   */
  report(problem: string): void;
}

/**
 * Per peer, the highest incarnation this node accepted, kept in `state_dir` so that the anti-
 * replay state survives a restart (see ReplayGuard): a restarted node refuses every older run of
 * a peer, and takes up the run it last heard only from a frame proven fresh.
 *
 * It changes only when a peer restarts, so every change is written at once (atomic replacement,
 * fsync'd), one write at a time and later changes coalesced. A frame of a new run is accepted
 * while its write is under way: a crash in those milliseconds forgets that run, and a capture of
 * it could then be replayed after this node's restart as a run it never heard.
 *
 * The file is only ever replaced by a rename, so a crash cannot damage it. When it is damaged
 * all the same, this node falls back to the safe side: every peer's first run heard is refused
 * until a frame of it proves fresh, as if every peer had been heard before. (A peer that waits
 * for a proof from this very run at the same time — it heard this run, then restarted, and this
 * node never accepted it since — hears nothing from it either, until this node restarts: its
 * new run is one that peer never heard.)
 */
export class PeerIncarnations {
  private dirty = false;
  private writing: Promise<void> | null = null;

  private constructor(
    private readonly options: PeerIncarnationsOptions,
    private readonly incarnations: Map<number, number>,
    readonly carriedOver: CarriedOverIncarnations,
  ) {}

  static async load(options: PeerIncarnationsOptions): Promise<PeerIncarnations> {
    const path = join(options.stateDir, PEER_INCARNATIONS_FILE);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        return new PeerIncarnations(options, new Map(), NOTHING_CARRIED_OVER);
      }
      return PeerIncarnations.damaged(options, `${path}: ${(error as Error).message}`);
    }
    let peers: z.infer<typeof fileSchema>["peers"];
    try {
      peers = decodeChecksummedFile(bytes, MAGIC, fileSchema, path).peers;
    } catch (error) {
      if (!(error instanceof StoreCorruptError)) throw error;
      return PeerIncarnations.damaged(options, `${path}, ${error.where}: ${error.problem}`);
    }
    const incarnations = new Map<number, number>();
    for (const { id, incarnation } of peers) {
      if (options.isKnownNode(id)) {
        incarnations.set(id, Math.max(incarnation, incarnations.get(id) ?? 0));
      }
    }
    return new PeerIncarnations(options, incarnations, {
      kind: "known",
      bySender: new Map(incarnations),
    });
  }

  private static damaged(options: PeerIncarnationsOptions, problem: string): PeerIncarnations {
    report(
      options,
      `${problem}; until a frame of each peer's run proves fresh (echoes this run), its frames are refused`,
    );
    return new PeerIncarnations(options, new Map(), { kind: "unknown" });
  }

  /** `senderId`'s run `incarnation` was accepted: written when it is newer than the record. */
  note(senderId: number, incarnation: number): void {
    const recorded = this.incarnations.get(senderId);
    if (recorded !== undefined && incarnation <= recorded) return;
    this.incarnations.set(senderId, incarnation);
    this.dirty = true;
    this.writing ??= this.writeWhileDirty();
  }

  /** Resolves once every change noted so far was written (or failed to be). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  private async writeWhileDirty(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const peers = [...this.incarnations].map(([id, incarnation]) => ({ id, incarnation }));
        await replaceFileDurably(
          this.options.stateDir,
          PEER_INCARNATIONS_FILE,
          encodeChecksummedFile(MAGIC, { peers }),
        );
      }
    } catch (error) {
      this.dirty = true;
      report(
        this.options,
        `cannot record a peer's new incarnation in ${join(this.options.stateDir, PEER_INCARNATIONS_FILE)}: ${(error as Error).message}`,
      );
    } finally {
      this.writing = null;
    }
  }
}

function report(options: PeerIncarnationsOptions, problem: string): void {
  try {
    options.report(problem);
  } catch {
    // Reporting must not turn a failed write into a crash of the receive path.
  }
}
