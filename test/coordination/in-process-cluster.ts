import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { parseConfigText } from "../../src/config/load.js";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import { Coordinator } from "../../src/coordination/coordinator.js";
import { VALID_YAML } from "../config/helpers.js";

export interface InProcessClusterOptions {
  /** Return true to lose a message on the wire. */
  lose?: (from: number, to: number, message: ClusterMessage) => boolean;
  pacedHeartbeats?: boolean;
  /** Called with the node's id when its coordinator meets a broken invariant. */
  onInvariantBroken?: (nodeId: number, error: Error) => void;
}

/**
 * Three real coordinators (Raft core, store on disk, real timers) of VALID_YAML's nodes, joined by
 * an in-process wire that delivers a copy of each message on the next turn of the event loop.
 */
export class InProcessCluster {
  readonly config = parseConfigText(VALID_YAML, "test.yaml");
  readonly coordinators = new Map<number, Coordinator>();

  private constructor(private readonly dir: string) {}

  static async start(options: InProcessClusterOptions = {}): Promise<InProcessCluster> {
    const cluster = new InProcessCluster(await mkdtemp(join(tmpdir(), "vigil-coordinators-")));
    const { config, coordinators } = cluster;
    for (const node of config.nodes) {
      const coordinator = await Coordinator.start({
        localNode: node,
        nodes: config.nodes,
        timing: config.timing,
        coordination: config.coordination,
        stateDir: join(cluster.dir, node.name),
        clock: { nowMs: () => performance.timeOrigin + performance.now() },
        logger: pino({ level: "silent" }),
        send: (to, message) => {
          if (options.lose?.(node.id, to, message) === true) return;
          // A copy, as the wire would deliver: the receiver must not share the sender's objects.
          const copy = JSON.parse(JSON.stringify(message)) as ClusterMessage;
          setImmediate(() => coordinators.get(to)?.receive(node.id, copy));
        },
        pacedHeartbeats: options.pacedHeartbeats === true,
        onInvariantBroken: (error) => options.onInvariantBroken?.(node.id, error),
      });
      coordinators.set(node.id, coordinator);
    }
    for (const coordinator of coordinators.values()) {
      for (const node of config.nodes) coordinator.noticePeerUp(node.id);
    }
    return cluster;
  }

  async stop(): Promise<void> {
    for (const coordinator of this.coordinators.values()) await coordinator.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
