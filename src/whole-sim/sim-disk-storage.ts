import type { PersistedState, PersistOps } from "../consensus/types.js";
import type { SimDisk } from "../sim/disk.js";
import type { RaftStorage } from "../storage/raft-storage.js";

/**
 * A simulated host's disk as the Coordinator's Raft storage: what `apply` accepted is durable
 * (the fsync point) and is what the next run of the agent finds.
 */
export class SimDiskStorage implements RaftStorage {
  readonly droppedTornTail = null;
  private readonly loaded: PersistedState;

  constructor(private readonly disk: SimDisk) {
    this.loaded = disk.load();
  }

  state(): PersistedState {
    return this.loaded;
  }

  async apply(ops: PersistOps): Promise<void> {
    this.disk.apply(ops);
  }

  async close(): Promise<void> {}
}
