/**
 * The cluster under test and what "settled" means: three agents on the lab with the service
 * group of test/support/takeover-lab.ts (plus the mode's configuration), and the waits that tell
 * when it is usable again after a step.
 */
import type { RawConfig } from "../../src/config/schema.js";
import type { Lab, LabProcess } from "../lab/index.js";
import { groupNode, hostIndexOf, nowMs, stateOf, TakeoverLab } from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";

/** How long the cluster may take to settle after a step (every wait is polled, not slept). */
const SETTLE_TIMEOUT_MS = 45_000;

export class ChaosCluster {
  private constructor(readonly t: TakeoverLab) {}

  /** Starts an agent on every host of `lab`, with `extraConfig` in their configuration. */
  static async create(
    lab: Lab,
    options: { built?: boolean; extraConfig?: Partial<RawConfig> },
  ): Promise<ChaosCluster> {
    const t = await TakeoverLab.create(lab, {
      ...(options.built === undefined ? {} : { built: options.built }),
      ...(options.extraConfig === undefined ? {} : { extraConfig: options.extraConfig }),
    });
    return new ChaosCluster(t);
  }

  /** Where the group runs, settled, in the leader's state (a follower's may lag behind). */
  async groupOnLeader(timeoutMs = 10_000, what = ""): Promise<number> {
    const t = this.t;
    const node = await waitFor(
      `the leader's state to show the group running on one node ${what}`,
      async () => groupNode(await stateOf(t.cluster, await t.waitForLeader(timeoutMs))),
      { timeoutMs },
    );
    return hostIndexOf(node);
  }

  /** The placement keys the leader's state records on `host` (cells: what may run there). */
  async heldBy(host: number): Promise<string[]> {
    const t = this.t;
    const state = await stateOf(t.cluster, await t.waitForLeader(10_000));
    const node = t.name(host);
    return Object.entries(state.resources)
      .filter(([, byNode]) => Object.hasOwn(byNode, node))
      .map(([key]) => key)
      .sort();
  }

  /**
   * Every agent runs and sees every other on every link, all agree on a leader, the group runs
   * on one node and every agent has probed the configuration in force.
   *
   * With `between`, it runs before every look, and everything must hold at once: a host that
   * goes away meanwhile (fenced) is brought back by `between` rather than waited for in vain.
   */
  async settle(what: string, between?: () => Promise<void>): Promise<void> {
    const t = this.t;
    const deadline = nowMs() + SETTLE_TIMEOUT_MS;
    const left = () => Math.max(1_000, deadline - nowMs());
    if (between === undefined) {
      await waitFor(
        `every agent to see every other on every link ${what}`,
        async () => {
          await t.cluster.waitAllUp();
          return true;
        },
        { timeoutMs: left() },
      );
      await t.waitForLeader(left());
      await this.groupOnLeader(left(), what);
      for (const host of t.hosts) await t.waitProbed(host, left());
      return;
    }
    let missing = "";
    try {
      await waitFor(
        `the cluster to settle ${what}`,
        async () => {
          await between();
          missing = await this.unsettled();
          return missing === "" ? true : undefined;
        },
        { timeoutMs: left(), intervalMs: 50 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; still missing: ${missing || "?"}`);
    }
  }

  /** What keeps the cluster from being settled right now ("" when nothing does). */
  private async unsettled(): Promise<string> {
    const t = this.t;
    const down = t.hosts.filter((h) => t.cluster.agent(h) === undefined);
    if (down.length > 0) return `no agent runs on ${down.map((h) => t.name(h)).join(", ")}`;
    if (!(await this.allUp(t.hosts))) return "not every agent sees every other on every link";
    const leaders = await Promise.all(t.hosts.map((h) => t.leader(h)));
    const leader = leaders[0];
    if (leader === undefined || leaders.some((l) => l !== leader))
      return `no leader all agree on (${leaders.map((l) => (l === undefined ? "none" : t.name(l))).join(", ")})`;
    if (groupNode(await stateOf(t.cluster, leader)) === undefined)
      return "the leader's state does not show the group running on one node";
    for (const host of t.hosts)
      if (!(await this.probed(host))) return `${t.name(host)} has not probed`;
    return "";
  }

  /** Whether every agent of `hosts` sees every other of them up on every link, now. */
  private async allUp(hosts: readonly number[]): Promise<boolean> {
    const ids = new Set(hosts.map((host) => host + 1));
    for (const observer of hosts) {
      const status = await this.t.cluster.status(observer);
      const up = status.nodes
        .filter((node) => ids.has(node.id))
        .every((node) => node.state === "up" && node.links.every((l) => l.state === "up"));
      if (!up) return false;
    }
    return true;
  }

  /** TakeoverLab.waitProbed's condition, looked at once. */
  private async probed(host: number): Promise<boolean> {
    const t = this.t;
    const status = await t.cluster.status(host);
    const state = await stateOf(t.cluster, host);
    const agent = state.agents[t.name(host)];
    return (
      agent?.incarnation === status.node.incarnation &&
      agent.probedConfigVersion === state.config.version &&
      !agent.shuttingDown
    );
  }

  /**
   * TakeoverLab.startAgent's wait (the running agents see each other, this one has probed), or
   * the agent's end, whichever comes first: true when it joined, false when it exited.
   */
  async joinedOrExited(host: number, agent: LabProcess, timeoutMs: number): Promise<boolean> {
    const t = this.t;
    return waitFor(
      `${t.name(host)} to join and probe`,
      async () => {
        if (!agent.running) return false;
        const running = t.hosts.filter((h) => t.cluster.agent(h) !== undefined);
        return (await this.allUp(running)) && (await this.probed(host)) ? true : undefined;
      },
      { timeoutMs },
    );
  }
}
