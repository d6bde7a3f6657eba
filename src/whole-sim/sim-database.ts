import type { RunRole } from "../policy/types.js";
import type { SeededRandom } from "../sim/random.js";
import type { World } from "./world.js";

/** How often the database's writes and replication advance (virtual ms). */
const TICK_MS = 50;
/** The primary's offsets kept for its replicas' lag (ticks). */
const HISTORY_TICKS = 8;

export interface SimDatabaseOptions {
  world: World;
  random: SeededRandom;
  /** The promotable clone whose copies are the database (keys `<clone>:<index>`). */
  clone: string;
  hosts: readonly string[];
  /** Whether monitors report the offset (false: the defect no-offsets). */
  reportsOffsets: boolean;
  /** Whether the replication stream from one host reaches another now (powered, not cut). */
  reaches(from: string, to: string): boolean;
}

/**
 * The replicated database of the promotable clone, as the real Redis agent
 * (examples/agents/redis) sees it: the promoted copy accepts writes, so its replication offset
 * grows; a replica follows the primary its stream reaches, `lag` behind (its own, 0-300 ms),
 * and takes the primary's offset (lower too: a full resync drops what the primary lacks). A copy
 * starts empty (offset 0). Each copy's monitor reports its offset as the promotion score, as
 * the agent prints `promotion-score=<offset>`.
 */
export class SimDatabase {
  /** Host → the offset of the copy running there. */
  private readonly offsets = new Map<string, number>();
  /** Host → the offsets of its copy while promoted, newest last, one per tick. */
  private readonly history = new Map<string, number[]>();
  /** Host → the role of its copy. */
  private readonly roles = new Map<string, RunRole>();
  /** Host → how many ticks its replica trails the primary. */
  private readonly lagTicks = new Map<string, number>();
  /** Host → when its copy's offset last changed, and when its agent's monitor last read it. */
  private readonly changedAtMs = new Map<string, number>();
  private readonly monitoredAtMs = new Map<string, number>();
  /** Hosts whose copy was promoted since it started. */
  private readonly wasPromoted = new Set<string>();
  private ticking = false;

  constructor(private readonly options: SimDatabaseOptions) {
    for (const host of options.hosts) this.lagTicks.set(host, options.random.int(0, 6));
  }

  /** Whether `key` is a copy of the database. */
  isCopy(key: string): boolean {
    return key.startsWith(`${this.options.clone}:`);
  }

  /** The offset of the copy `key` on `host`, if it is a copy running there. */
  offsetOf(host: string, key: string): number | undefined {
    return this.isCopy(key) ? this.offsets.get(host) : undefined;
  }

  /**
   * Scenario 4's agent, which scores copies by something else than data (as ocf:heartbeat:redis
   * scores 1 + its connected clients): the host named first scores highest. Its offset is read
   * apart (the clone's replication_offset), and what it reads as readOffset says.
   */
  agentScoreOf(host: string, key: string): number | undefined {
    if (!this.isCopy(key) || !this.offsets.has(host)) return undefined;
    return this.options.hosts.length - this.options.hosts.indexOf(host);
  }

  /** What the clone's replication_offset command reads on `host` (nothing: the defect no-offsets). */
  readOffset(host: string, key: string): number | undefined {
    return this.options.reportsOffsets ? this.offsetOf(host, key) : undefined;
  }

  /** What the copy's monitor prints as its promotion score, if anything. */
  scoreOf(host: string, key: string): number | undefined {
    return this.options.reportsOffsets ? this.offsetOf(host, key) : undefined;
  }

  /**
   * The copies running now that replicate, never were primaries since they started (a demoted
   * primary is on its way out, or stays primary), and whose offset the cluster can know: their
   * agent's monitor ran after the offset last changed, at least `reportedForMs` ago (its score
   * committed since). A promotion chooses among these; a replica still catching up, or whose
   * newest offset no monitor has read yet, is not something a choice can be judged by.
   */
  settledReplicas(reportedForMs: number): Array<{ host: string; offset: number }> {
    const nowMs = this.options.world.nowMs();
    const result: Array<{ host: string; offset: number }> = [];
    for (const [host, role] of this.roles) {
      if (role === "promoted" || this.wasPromoted.has(host)) continue;
      const monitoredAtMs = this.monitoredAtMs.get(host);
      if (monitoredAtMs === undefined || nowMs - monitoredAtMs < reportedForMs) continue;
      if ((this.changedAtMs.get(host) ?? 0) > monitoredAtMs) continue;
      result.push({ host, offset: this.offsets.get(host) ?? 0 });
    }
    return result;
  }

  /** The agent's monitor of the copy on `host` ended now, reading its offset. */
  monitored(host: string, key: string): void {
    if (this.isCopy(key) && this.roles.has(host))
      this.monitoredAtMs.set(host, this.options.world.nowMs());
  }

  /** A copy's role changed on `host` (its simulated agent's view). */
  roleChanged(host: string, key: string, was: RunRole | null, role: RunRole | null): void {
    if (!this.isCopy(key)) return;
    if (role === null) {
      this.roles.delete(host);
      this.offsets.delete(host);
      this.history.delete(host);
      this.wasPromoted.delete(host);
      this.changedAtMs.delete(host);
      this.monitoredAtMs.delete(host);
      return;
    }
    if (role === "promoted") this.wasPromoted.add(host);
    if (was === null) this.setOffset(host, 0);
    this.roles.set(host, role);
    if (role !== "promoted") this.history.delete(host);
    if (!this.ticking) {
      this.ticking = true;
      this.options.world.at(this.options.world.nowMs() + TICK_MS, () => this.tick());
    }
  }

  /** Writes reach the primaries; replicas take their primary's offset of `lag` ago. */
  private tick(): void {
    const { random, world } = this.options;
    for (const [host, role] of this.roles) {
      if (role !== "promoted") continue;
      const offset = (this.offsets.get(host) ?? 0) + random.int(0, 40);
      this.setOffset(host, offset);
      const history = this.history.get(host) ?? [];
      history.push(offset);
      if (history.length > HISTORY_TICKS) history.shift();
      this.history.set(host, history);
    }
    for (const [host, role] of this.roles) {
      if (role === "promoted") continue;
      const primary = [...this.history.keys()].find((p) => this.options.reaches(p, host));
      if (primary === undefined) continue;
      const history = this.history.get(primary)!;
      const lag = this.lagTicks.get(host) ?? 0;
      this.setOffset(host, history[Math.max(0, history.length - 1 - lag)]!);
    }
    if (this.roles.size === 0) {
      this.ticking = false;
      return;
    }
    world.at(world.nowMs() + TICK_MS, () => this.tick());
  }

  private setOffset(host: string, offset: number): void {
    if (this.offsets.get(host) === offset) return;
    this.offsets.set(host, offset);
    this.changedAtMs.set(host, this.options.world.nowMs());
  }
}
