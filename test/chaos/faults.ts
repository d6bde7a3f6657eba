/**
 * Carrying out a step's faults on the lab: who the target is when the step runs, the fault itself
 * and how to heal it, the light background loss on another host, and healing everything after a
 * step failed half-way.
 */
import type { Lab } from "../lab/index.js";
import { nowMs, type TakeoverLab } from "../support/takeover-lab.js";
import type { ChaosCluster } from "./cluster.js";
import type { HostLifecycle } from "./hosts.js";
import { type Fault, type HostTarget, SHORT_PAUSE_MAX_MS, type Step } from "./scenario.js";
import type { StepResult } from "./types.js";

export type Heal = () => Promise<void>;

export class FaultInjector {
  constructor(
    private readonly lab: Lab,
    private readonly t: TakeoverLab,
    private readonly cluster: ChaosCluster,
    private readonly hosts: HostLifecycle,
  ) {}

  /** The host the fault hits: "leader" and "active" are whoever they are now. */
  async resolve(fault: Fault): Promise<number> {
    const target: HostTarget =
      fault.kind === "leader-kill" ? { role: "leader" } : (fault as { target: HostTarget }).target;
    switch (target.role) {
      case "host":
        return target.index;
      case "leader":
        return this.t.waitForLeader(10_000);
      case "active":
        return this.cluster.groupOnLeader();
    }
  }

  /** Applies the fault now; records when; returns how to heal it. */
  async inject(fault: Fault, host: number, holdMs: number, result: StepResult): Promise<Heal> {
    const t = this.t;
    const lab = this.lab;
    const linksOf = (links: number | "all") => (links === "all" ? [0, 1] : [links]);
    switch (fault.kind) {
      case "power-off":
      case "leader-kill": {
        result.faultAtMs = await this.hosts.powerOff(host);
        return () => this.hosts.powerOn(host);
      }
      case "link-cut":
        result.faultAtMs = nowMs();
        await lab.cutLink(host, fault.link, "both");
        return () => lab.healLink(host, fault.link);
      case "isolate":
        result.faultAtMs = nowMs();
        await lab.cutAll(host, "both");
        return () => lab.healAll(host);
      case "one-way-cut":
        result.faultAtMs = nowMs();
        for (const link of linksOf(fault.links)) await lab.cutLink(host, link, fault.direction);
        return async () => {
          for (const link of linksOf(fault.links)) await lab.healLink(host, link);
        };
      case "loss":
        result.faultAtMs = nowMs();
        for (const link of linksOf(fault.links))
          await lab.randomLoss(host, link, fault.percent, fault.direction);
        return async () => {
          for (const link of linksOf(fault.links)) await lab.clearLoss(host, link);
        };
      case "agent-kill":
        result.faultAtMs = this.hosts.killAgent(host);
        return () => this.hosts.startAgent(host, result);
      case "pause": {
        // Only the agent's process group: its resources, its node guard (own groups) and the
        // test's VIP watcher keep running, as when the agent alone hangs.
        const agent = t.cluster.agent(host);
        if (agent === undefined) throw new Error(`no agent runs on ${t.name(host)} to pause`);
        if (!fault.long && holdMs > SHORT_PAUSE_MAX_MS)
          throw new Error(`a short pause of ${holdMs} ms is not short`);
        result.faultAtMs = nowMs();
        agent.kill("SIGSTOP");
        // A long pause: the guard has killed the paused agent by now (its exit is checked as
        // the guard's), so the host gets a new one; a short one just goes on.
        return async () => {
          if (agent.running) agent.kill("SIGCONT");
          else await this.hosts.startAgent(host, result);
        };
      }
    }
  }

  /** The step's light loss on one link of a host the fault spares, if it has one. */
  async background(step: Step, others: readonly number[], result: StepResult): Promise<Heal> {
    if (step.background === null) return async () => {};
    const other = others[step.background.otherPick]!;
    const { link, percent } = step.background;
    await this.lab.randomLoss(other, link, percent, "both");
    result.notes.push(`background ${percent}% loss on link ${link} of ${this.t.name(other)}`);
    return () => this.lab.clearLoss(other, link);
  }

  /** After a step failed half-way: no fault may stay behind (the report still gets written). */
  async healEverything(): Promise<void> {
    for (const host of this.t.hosts) {
      this.t.cluster.agent(host)?.kill("SIGCONT");
      await this.lab.healAll(host);
      for (const link of [0, 1]) await this.lab.clearLoss(host, link);
    }
  }

  /** Whether the fault cuts link 0 (the client's) of the host serving, both ways, but not every link. */
  cutsClientLink(fault: Fault, target: number, serving: string | null): boolean {
    if (serving !== this.t.name(target)) return false;
    if (fault.kind === "link-cut") return fault.link === 0;
    if (fault.kind === "one-way-cut") return fault.links === 0;
    return false;
  }
}
