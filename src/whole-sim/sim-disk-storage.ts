import type { PersistedState, PersistOps } from "../consensus/types.js";
import { SimDisk } from "../sim/disk.js";
import type { SeededRandom } from "../sim/random.js";
import type { DroppedTornTail, RaftStorage } from "../storage/raft-storage.js";
import type { ProcessTime, World } from "./world.js";

/** How torn writes are simulated on a host's disk (scenario 2); without it, writes are atomic. */
export interface TornWriteModel {
  world: World;
  /** Draws each write's fsync latency and what a crash leaves of the write in flight. */
  random: SeededRandom;
  /**
   * A deliberate defect (checker self-test): a crash also tears the last record that was
   * acknowledged as durable, as a disk that lies about fsync would.
   */
  tearAcknowledged?: boolean;
}

/** A write accepted by the store whose fsync has not been acknowledged yet. */
interface WriteInFlight {
  ops: PersistOps;
}

/**
 * A simulated host's disk, across the runs of its agent. Without a torn-write model, what
 * `apply` accepted is durable at once. With one, each write takes a while to be fsync'd, and a
 * crash (power-off, SIGKILL) during it leaves what the real store would find at its next open
 * (src/storage/raft-store.ts): the steps of that write in their order (hardstate, snapshot, the
 * log's record), any prefix of them; the log's record whole, or torn (its checksum fails:
 * the store drops it at open and says so) or absent. Only what was never acknowledged is lost.
 */
export class HostDisk {
  private disk: SimDisk;
  private inFlight: WriteInFlight | null = null;
  private tornTail: DroppedTornTail | null = null;
  /** A crash waiting for the next write, to strike before its fsync is acknowledged. */
  private crashDuringWrite: (() => void) | null = null;

  constructor(
    private readonly name: string,
    private readonly torn: TornWriteModel | null,
  ) {
    this.disk = new SimDisk(name);
  }

  /** The Raft storage of one run of the agent: what it opens now, on the run's time. */
  open(time: ProcessTime): RaftStorage {
    const dropped = this.tornTail;
    // The real store cuts the torn record off durably at open: it is reported once.
    this.tornTail = null;
    return new SimDiskStorage(this, time, dropped);
  }

  /** A deliberate defect (checker self-test): everything on the disk is gone. */
  lose(): void {
    this.disk = new SimDisk(this.name);
    this.inFlight = null;
    this.tornTail = null;
  }

  /**
   * Runs `crash` halfway through the next write (a fault aimed at the moment a torn record is
   * possible); false if the disk has no torn-write model. The caller may cancel it with
   * `disarmCrash` and crash anyway.
   */
  armCrashDuringWrite(crash: () => void): boolean {
    if (this.torn === null) return false;
    this.crashDuringWrite = crash;
    return true;
  }

  /** Whether an armed crash is still waiting (then it is disarmed). */
  disarmCrash(crash: () => void): boolean {
    if (this.crashDuringWrite !== crash) return false;
    this.crashDuringWrite = null;
    return true;
  }

  /** The agent stopped at once (power-off, SIGKILL): what its write in flight left. */
  crash(): void {
    const torn = this.torn;
    const write = this.inFlight;
    this.inFlight = null;
    if (torn === null) return;
    if (torn.tearAcknowledged === true) {
      // Nothing of the write in flight, and the acknowledged record before it torn.
      this.tearLastRecord();
      return;
    }
    if (write === null) return;
    const { ops } = write;
    const { random } = torn;
    const steps: Array<"snapshot" | "record" | "hardState"> = [];
    if (ops.hardState !== undefined) steps.push("hardState");
    if (ops.snapshot !== undefined) steps.push("snapshot");
    if (ops.truncateFrom !== undefined || (ops.append?.length ?? 0) > 0) steps.push("record");
    const whole = random.int(0, steps.length);
    const reached: PersistOps = {};
    for (const step of steps.slice(0, whole)) {
      if (step === "snapshot") reached.snapshot = ops.snapshot!;
      else if (step === "hardState") reached.hardState = ops.hardState!;
      else {
        if (ops.truncateFrom !== undefined) reached.truncateFrom = ops.truncateFrom;
        if (ops.append !== undefined) reached.append = ops.append;
      }
    }
    this.disk.apply(reached);
    // The step the crash interrupted: a log record half on the disk fails its checksum.
    if (steps[whole] === "record" && random.chance(0.5)) {
      const droppedBytes = random.int(1, 4096);
      this.tornTail = {
        file: `/sim/${this.name}/raft/log`,
        offset: random.int(16, 1 << 20),
        droppedBytes,
        reason: "the record's checksum does not match (simulated torn write)",
      };
    }
  }

  load(): PersistedState {
    return this.disk.load();
  }

  /** Whether writes take time and a crash may tear them (else each is durable at once). */
  get tearsWrites(): boolean {
    return this.torn !== null;
  }

  /** Writes `ops` durably at once (no torn-write model). */
  writeNow(ops: PersistOps): void {
    this.disk.apply(ops);
  }

  /** Writes `ops`; resolves once they are fsync'd, never if a crash came first. */
  write(ops: PersistOps, time: ProcessTime): Promise<void> {
    const torn = this.torn;
    if (torn === null) {
      this.disk.apply(ops);
      return Promise.resolve();
    }
    const write: WriteInFlight = { ops };
    this.inFlight = write;
    // An fdatasync of a small record: 0.1-3 ms.
    const latencyMs = torn.random.int(1, 30) / 10;
    const crash = this.crashDuringWrite;
    if (crash !== null) {
      this.crashDuringWrite = null;
      torn.world.at(torn.world.nowMs() + latencyMs / 2, crash);
    }
    return new Promise((resolve, reject) => {
      torn.world.at(torn.world.nowMs() + latencyMs, () => {
        // A crash meanwhile decided what of it is on the disk; it is never acknowledged.
        if (this.inFlight !== write) return;
        this.inFlight = null;
        try {
          this.disk.apply(ops);
        } catch (error) {
          time.run(() => reject(error));
          return;
        }
        time.run(resolve);
      });
    });
  }

  /** The defect tear-acked: the log's last record is dropped although it was acknowledged. */
  private tearLastRecord(): void {
    const last = this.disk.lastIndex();
    const snapshotIndex = this.disk.snapshotOnDisk()?.meta.lastIncludedIndex ?? 0;
    if (last > snapshotIndex) this.disk.apply({ truncateFrom: last });
  }
}

/**
 * The Coordinator's Raft storage on a simulated host's disk: `apply` resolves at the fsync
 * point, and what it accepted is what the next run of the agent finds.
 */
class SimDiskStorage implements RaftStorage {
  private readonly loaded: PersistedState;
  /** Serializes writes, as the real store does: each sees the file as the previous left it. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly disk: HostDisk,
    private readonly time: ProcessTime,
    readonly droppedTornTail: DroppedTornTail | null,
  ) {
    this.loaded = disk.load();
  }

  state(): PersistedState {
    return this.loaded;
  }

  async apply(ops: PersistOps): Promise<void> {
    if (!this.disk.tearsWrites) {
      this.disk.writeNow(ops);
      return;
    }
    const run = this.queue.then(() => this.disk.write(ops, this.time));
    this.queue = run;
    await run;
  }

  async close(): Promise<void> {}
}
