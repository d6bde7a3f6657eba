/**
 * The test hosts' lives during a run: power-offs and power-ons by the run, agents that ended
 * (expected, killed by the run or by their node guard, fenced by the cluster, or a failure), and hosts brought back
 * after any of these. Everything here happens to a whole host, the way a machine is switched off
 * and on: the checkers learn when it went off from TakeoverLab's power-off record.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { LabProcess } from "../lab/index.js";
import { nowMs, type TakeoverLab } from "../support/takeover-lab.js";
import type { ChaosCluster } from "./cluster.js";
import type { FenceTracker } from "./fencing.js";
import { guardAction } from "./lease-guard.js";
import { describeStep, type Step } from "./scenario.js";
import type { StepResult } from "./types.js";

/** A booted agent must have joined and probed within this long (TakeoverLab.startAgent's bound). */
const JOIN_TIMEOUT_MS = 30_000;

export class HostLifecycle {
  /** Agents the lease guard fenced (host, step): a guard's job, not a failure. */
  readonly guardFences: string[] = [];
  /** Hosts their node guard released (host, step, reason): a hung agent's, or a lapsed lease's. */
  readonly guardReleases: string[] = [];
  /** The agent process of each host, exited or not, to tell an unexpected exit. */
  private readonly agents = new Map<number, LabProcess>();
  /** Agents whose end is already accounted for (a power-off by the run, a fence, or noted). */
  private readonly accounted = new WeakSet<LabProcess>();
  private readonly exitedAt = new WeakMap<LabProcess, number>();
  /** Agents the run killed alone (agent-kill): their end is expected, their guard's act noted. */
  private readonly killed = new WeakSet<LabProcess>();

  constructor(
    private readonly t: TakeoverLab,
    private readonly cluster: ChaosCluster,
    private readonly markerDir: string,
    private readonly options: {
      /** Fencing mode: the cluster's fences, and hosts waiting to be powered on after one. */
      fences: FenceTracker | undefined;
      log: (line: string) => void;
    },
  ) {}

  rememberAgents(): void {
    const t = this.t;
    for (const host of t.hosts) {
      const agent = t.cluster.agent(host);
      if (agent === undefined || this.agents.get(host) === agent) continue;
      this.agents.set(host, agent);
      void agent.exited.then(async (status) => {
        const at = nowMs();
        this.exitedAt.set(agent, at);
        if (this.accounted.has(agent)) return;
        const fenced = await this.options.fences?.fenceOf(host, at);
        if (fenced !== undefined) return;
        if (this.killed.has(agent)) return;
        const guard = guardAction(agent.stderr);
        this.options.log(
          `chaos: the agent on ${t.name(host)} exited (code ${status.code}, signal ${status.signal})${guard === null ? "" : `: its node guard ${guard.fenced ? "fenced" : "released"} the host (${guard.reason})`}`,
        );
      });
    }
  }

  /** A power-off by the run itself: the agent's end is expected. */
  async powerOff(host: number): Promise<number> {
    const agent = this.agents.get(host);
    if (agent !== undefined) this.accounted.add(agent);
    return this.t.powerOff(host);
  }

  /** Power back on as after a reboot: the marker files (volatile state) go too. */
  async powerOn(host: number): Promise<void> {
    const fences = this.options.fences;
    if (fences !== undefined) return this.powerOnBetweenFences(host, fences);
    await this.clearMarkers(host);
    await this.t.powerOn(host);
    this.rememberAgents();
  }

  private async clearMarkers(host: number): Promise<void> {
    const suffix = `.${this.t.name(host)}.running`;
    for (const file of await readdir(this.markerDir))
      if (file.endsWith(suffix)) await rm(join(this.markerDir, file), { force: true });
  }

  /**
   * Fencing mode: the power-on holds the host's lock up to the agent's start, so no fence cuts it
   * in half, and a fence done before it is recorded first (the new VIP watcher must not be taken
   * for the one that fence stopped). A fence may still come once the agent runs, before it has
   * joined: the host then waits for the next power-on (restartFenced) instead of failing here.
   */
  private async powerOnBetweenFences(host: number, fences: FenceTracker): Promise<void> {
    const t = this.t;
    const lock = await fences.lockHost(host);
    let agent: LabProcess;
    try {
      await fences.poll();
      // Under the lock: a fence recorded from here on is a new one, and the host waits again.
      fences.poweredOn(host);
      await this.clearMarkers(host);
      await t.powerOn(host, { startAgent: false });
      agent = await t.cluster.start(host);
    } finally {
      await lock.release();
    }
    this.rememberAgents();
    await this.joinedUnlessFenced(host, agent, fences);
  }

  /** The new agent joins, or a fence ends it first (the host then waits for restartFenced). */
  private async joinedUnlessFenced(host: number, agent: LabProcess, fences: FenceTracker) {
    const t = this.t;
    const fencedBefore = fences.count(host);
    const joined = await this.cluster.joinedOrExited(host, agent, JOIN_TIMEOUT_MS);
    if (joined) return;
    await fences.fenceOf(host, this.exitedAt.get(agent) ?? nowMs());
    if (fences.count(host) > fencedBefore) return;
    throw new Error(
      `the agent on ${t.name(host)} exited before it joined: ${agent.stderr.slice(-1500)}`,
    );
  }

  /**
   * An agent that exited although the run did not power its host off: a failure, unless the run
   * killed it alone (agent-kill), its node guard killed it (a hung agent: the guard released or
   * fenced the host, noted with what it did and when) or the cluster fenced its host (fencing
   * mode: noted with the step's fences).
   */
  async noteUnexpectedExits(step: Step, result: StepResult, when: string): Promise<void> {
    for (const host of this.t.hosts) await this.noteExit(host, step, result, when);
  }

  private async noteExit(host: number, step: Step, result: StepResult, when: string) {
    const t = this.t;
    const agent = this.agents.get(host);
    if (agent === undefined || agent.running || this.accounted.has(agent)) return;
    const at = this.exitedAt.get(agent);
    const fenced = await this.options.fences?.fenceOf(host, at ?? nowMs());
    this.accounted.add(agent);
    if (fenced !== undefined) return;
    const rel =
      at === undefined
        ? ""
        : result.faultAtMs === null
          ? ` ${(at - result.startedAtMs).toFixed(0)} ms after the step began`
          : ` ${(at - result.faultAtMs).toFixed(0)} ms after the fault`;
    const guard = guardAction(agent.stderr);
    if (guard !== null) {
      const what = guard.fenced ? "fenced" : "released";
      result.notes.push(`the node guard ${what} ${t.name(host)} ${when}${rel}: ${guard.reason}`);
      (guard.fenced ? this.guardFences : this.guardReleases).push(
        `${t.name(host)} in step ${step.index} (${when}${rel}${result.target === t.name(host) ? "" : ", not the fault's target"}: ${guard.reason})`,
      );
      return;
    }
    if (this.killed.has(agent)) return;
    result.failures.push(
      `the agent on ${t.name(host)} exited on its own ${when}${rel} (${describeStep(step)}); last stderr: ${agent.stderr.slice(-1500)}`,
    );
  }

  /** The run kills `host`'s agent alone (its process group): its host, guard and resources stay. */
  killAgent(host: number): number {
    const agent = this.t.cluster.agent(host);
    if (agent === undefined) throw new Error(`no agent runs on ${this.t.name(host)} to kill`);
    this.killed.add(agent);
    const atMs = nowMs();
    agent.kill("SIGKILL");
    return atMs;
  }

  /**
   * Starts `host`'s agent again without powering anything, as its service manager would after
   * the agent died (its old agent's end noted first); the settle that follows waits for it to
   * join. In fencing mode a host the cluster fenced meanwhile is left off (restartFenced powers
   * it on, as after any fence), and the start holds the host's lock so no fence cuts it in half.
   */
  async startAgent(host: number, result: StepResult): Promise<void> {
    const t = this.t;
    await this.noteExit(host, result.step, result, "during the step");
    if (t.cluster.agent(host) !== undefined) return;
    const fences = this.options.fences;
    const lock = await fences?.lockHost(host);
    try {
      await fences?.poll();
      if (fences?.isPending(host) === true) return;
      await t.cluster.start(host);
    } finally {
      await lock?.release();
    }
    this.rememberAgents();
  }

  /**
   * While the cluster settles: a host whose agent its node guard ended (a hung agent, or a lease
   * that lapsed under load: noted) gets its agent started again, as its service manager would.
   * A host the cluster fenced is left to restartFenced.
   */
  async restartReleased(result: StepResult | null): Promise<void> {
    const t = this.t;
    for (const host of t.hosts) {
      const agent = this.agents.get(host);
      if (t.cluster.agent(host) !== undefined || agent === undefined) continue;
      if (agent.running || guardAction(agent.stderr) === null) continue;
      if (this.options.fences?.isPending(host) === true) continue;
      if (result !== null) {
        await this.startAgent(host, result);
        continue;
      }
      this.accounted.add(agent);
      this.options.log(`chaos: restarting ${t.name(host)}'s agent after its node guard ended it`);
      await t.cluster.start(host);
      this.rememberAgents();
    }
  }

  /**
   * Hosts whose agent is gone: one the cluster fenced is powered on (it is off already); any
   * other is power-cycled (a reboot) first.
   */
  async restartDeadAgents(result: StepResult): Promise<void> {
    const t = this.t;
    const fences = this.options.fences;
    await fences?.poll();
    for (const host of t.hosts) {
      if (t.cluster.agent(host) !== undefined) continue;
      if (fences?.isPending(host) === true) {
        result.notes.push(`powered ${t.name(host)} back on after its fence`);
        await this.powerOn(host);
        continue;
      }
      result.notes.push(`restarted ${t.name(host)} (its agent had exited)`);
      await this.powerOff(host);
      await this.powerOn(host);
    }
  }

  /**
   * Fencing mode, while the cluster settles: a host fenced since (a fence may come after the heal)
   * is powered on again, as the run does after every fence.
   */
  async restartFenced(result: StepResult | null): Promise<void> {
    const fences = this.options.fences;
    if (fences === undefined) return;
    await fences.poll();
    for (const host of fences.pendingHosts()) {
      // Its agent's exit may not have been seen yet: the next look brings it back.
      if (this.t.cluster.agent(host) !== undefined) continue;
      const line = `powered ${this.t.name(host)} back on after its fence`;
      if (result === null) this.options.log(`chaos: ${line}`);
      else result.notes.push(line);
      await this.powerOn(host);
    }
  }
}
