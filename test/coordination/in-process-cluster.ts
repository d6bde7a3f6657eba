import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { parseConfigText } from "../../src/config/load.js";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import { Coordinator } from "../../src/coordination/coordinator.js";
import type { RaftStorage } from "../../src/storage/raft-storage.js";
import { VALID_YAML } from "../config/helpers.js";
import { VirtualTime } from "./virtual-time.js";

/** How long a message takes on the in-process wire, in virtual time. */
const WIRE_MS = 1;
/** How much virtual time a run may take before the test gives up on what it waits for. */
const LIMIT_MS = 30_000;

export interface InProcessClusterOptions {
  /** Return true to lose a message on the wire. */
  lose?: (from: number, to: number, message: ClusterMessage) => boolean;
  pacedHeartbeats?: boolean;
  /** Called with the node's id when its coordinator meets a broken invariant. */
  onInvariantBroken?: (nodeId: number, error: Error) => void;
  /** Each node's randomness (CoordinatorOptions.random); node:crypto's when absent. */
  random?: (nodeId: number) => () => number;
  /** Each node's Raft store (CoordinatorOptions.store); a RaftStore on disk when absent. */
  store?: (nodeId: number) => RaftStorage;
  /** Nodes a node's membership has not seen since it started (wait_for_all); none by default. */
  unseen?: (nodeId: number) => number[];
}

/**
 * Three real coordinators (Raft core, store on disk unless one is given) of VALID_YAML's nodes
 * on virtual time, joined by an in-process wire that delivers a copy of each message WIRE_MS
 * later. Time moves only while the test runs the cluster (runUntil, runFor, outcome), and only
 * once no coordinator has a step in flight (disk writes included): a loaded machine makes a test
 * slower, it never makes a timer late, so elections happen only when the scenario causes them.
 */
export class InProcessCluster {
  readonly config = parseConfigText(VALID_YAML, "test.yaml");
  readonly coordinators = new Map<number, Coordinator>();
  readonly time = new VirtualTime(1_700_000_000_000);

  private constructor(private readonly dir: string) {}

  static async start(options: InProcessClusterOptions = {}): Promise<InProcessCluster> {
    const cluster = new InProcessCluster(await mkdtemp(join(tmpdir(), "vigil-coordinators-")));
    const { config, coordinators, time } = cluster;
    for (const node of config.nodes) {
      const coordinator = await Coordinator.start({
        localNode: node,
        nodes: config.nodes,
        timing: config.timing,
        coordination: config.coordination,
        stateDir: join(cluster.dir, node.name),
        clock: time,
        timers: time,
        logger: pino({ level: "silent" }),
        send: (to, message) => {
          if (options.lose?.(node.id, to, message) === true) return;
          // A copy, as the wire would deliver: the receiver must not share the sender's objects.
          const copy = JSON.parse(JSON.stringify(message)) as ClusterMessage;
          time.after(WIRE_MS, () => coordinators.get(to)?.receive(node.id, copy));
        },
        pacedHeartbeats: options.pacedHeartbeats === true,
        onInvariantBroken: (error) => options.onInvariantBroken?.(node.id, error),
        ...(options.random === undefined ? {} : { random: options.random(node.id) }),
        ...(options.store === undefined ? {} : { store: options.store(node.id) }),
      });
      coordinators.set(node.id, coordinator);
    }
    for (const [id, coordinator] of coordinators) {
      const unseen = options.unseen?.(id) ?? [];
      for (const node of config.nodes) {
        if (!unseen.includes(node.id)) coordinator.noticePeerUp(node.id);
      }
    }
    return cluster;
  }

  /**
   * Runs the cluster until `probe` returns something other than undefined, and returns it.
   * Fails when `limitMs` of virtual time pass first, or when nothing is left to happen.
   */
  async runUntil<T>(what: string, probe: () => T | undefined, limitMs = LIMIT_MS): Promise<T> {
    const endMs = this.time.nowMs() + limitMs;
    for (;;) {
      await this.settle();
      const value = probe();
      if (value !== undefined) return value;
      const nextMs = this.time.nextAtMs();
      if (nextMs === undefined || nextMs > endMs)
        throw new Error(`no ${what} within ${limitMs} ms of virtual time`);
      this.time.fireNext();
    }
  }

  /** Runs the cluster until `promise` settles (within `limitMs` of virtual time), and awaits it. */
  async outcome<T>(what: string, promise: Promise<T>, limitMs = LIMIT_MS): Promise<T> {
    let settled = false;
    const done = promise.finally(() => {
      settled = true;
    });
    await this.runUntil(what, () => (settled ? true : undefined), limitMs);
    return done;
  }

  /** Runs the cluster for `ms` of virtual time. */
  async runFor(ms: number): Promise<void> {
    const endMs = this.time.nowMs() + ms;
    for (;;) {
      await this.settle();
      const nextMs = this.time.nextAtMs();
      if (nextMs === undefined || nextMs > endMs) break;
      this.time.fireNext();
    }
    this.time.advanceTo(endMs);
  }

  async stop(): Promise<void> {
    for (const coordinator of this.coordinators.values()) await coordinator.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Waits until no coordinator has a step queued or running, the disk's part included. */
  private async settle(): Promise<void> {
    const all = [...this.coordinators.values()];
    do {
      await Promise.all(all.map((coordinator) => coordinator.idle()));
      // What the steps' outcomes set off in promise callbacks (a forward's answer) runs first.
      await new Promise((resolve) => setImmediate(resolve));
    } while (all.some((coordinator) => coordinator.busy()));
  }
}
