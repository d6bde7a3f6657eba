/**
 * The chaos driver: sets the cluster up in the asked mode, then runs the schedule's steps one
 * after another within the budget, and assembles the report.
 *
 * Each step: maybe a configuration change (then wait until every node has probed it), a random
 * phase, the fault, the hold (maybe a configuration change through a host the fault spares, and
 * light loss on another host), the heal (hosts the cluster fenced meanwhile are powered on too);
 * then the cluster must settle (every agent sees every other on every link, one leader, the group
 * running on one node in the leader's state, every agent probed), the client must be answered by
 * that node, asked after the heal, within the bound, and every agent must hold the last
 * configuration acknowledged. Then a quiet settle time.
 */

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { FenceEvent } from "../../src/state/types.js";
import type { Lab } from "../lab/index.js";
import { anyState, nowMs, type TakeoverLab } from "../support/takeover-lab.js";
import { labWarnings } from "./agent-warnings.js";
import { Checkers } from "./checkers.js";
import { ChaosCluster } from "./cluster.js";
import { ConfigChanges } from "./config-changes.js";
import { FaultInjector } from "./faults.js";
import { FenceTracker, fenceExpectation, judgeFences, twoNodeFenceExpectation } from "./fencing.js";
import { HostLifecycle } from "./hosts.js";
import { describeMode, fencingOn, modeConfig } from "./modes.js";
import { describeStep, kindOf, type Step, schedule } from "./scenario.js";
import {
  type ChaosOptions,
  type ChaosReport,
  DEFAULT_BOUND_MS,
  type FenceRecord,
  type StepResult,
} from "./types.js";

function sum(items: readonly { ms: number }[]): number {
  return items.reduce((total, item) => total + item.ms, 0);
}

/** What the driver works with once the cluster runs. */
interface Parts {
  t: TakeoverLab;
  cluster: ChaosCluster;
  hosts: HostLifecycle;
  faults: FaultInjector;
  config: ConfigChanges;
  checkers: Checkers;
  fences: FenceTracker | undefined;
}

export class ChaosDriver {
  private readonly boundMs: number;
  private readonly log: (line: string) => void;
  private readonly steps: StepResult[] = [];
  private readonly failures: string[] = [];
  private readonly faultsByKind: Record<string, number> = {};
  private readonly fenceRecords: FenceRecord[] = [];
  private readonly markerDir: string;
  private p: Parts | undefined;

  constructor(
    private readonly lab: Lab,
    private readonly options: ChaosOptions,
  ) {
    this.boundMs = options.boundMs ?? DEFAULT_BOUND_MS;
    this.log = options.log ?? (() => {});
    this.markerDir = join(lab.dir, "markers");
  }

  private get parts(): Parts {
    if (this.p === undefined) throw new Error("the cluster is not set up");
    return this.p;
  }

  async close(): Promise<void> {
    this.p?.fences?.stop();
    await this.p?.t.close().catch(() => undefined);
  }

  private async setUp(): Promise<void> {
    const options = this.options;
    await mkdir(this.markerDir, { recursive: true });
    const extraConfig = await modeConfig(this.lab, options);
    const cluster = await ChaosCluster.create(this.lab, {
      ...(options.built === undefined ? {} : { built: options.built }),
      extraConfig,
    });
    const t = cluster.t;
    const fences = fencingOn(options) ? new FenceTracker(t, this.log) : undefined;
    const hosts = new HostLifecycle(t, cluster, this.markerDir, {
      fences,
      log: this.log,
    });
    this.p = {
      t,
      cluster,
      hosts,
      faults: new FaultInjector(this.lab, t, cluster, hosts),
      config: new ConfigChanges(
        t,
        {
          seed: options.seed,
          markerDir: this.markerDir,
          ...(options.built === undefined ? {} : { built: options.built }),
        },
        this.log,
      ),
      checkers: new Checkers(t, this.boundMs, this.log),
      fences,
    };
    hosts.rememberAgents();
    fences?.start();
    this.log(`chaos: ${describeMode(options)}`);
    if (fences !== undefined)
      this.log(
        `chaos: fencing on: fence_lab logs to ${fences.logPath}, locks in ${fences.lockDir}`,
      );
  }

  /**
   * The cluster settles; an agent its guard ended meanwhile is started again (as the service
   * manager would), and in fencing mode a host fenced meanwhile is powered on.
   */
  private settle(what: string, result: StepResult | null = null): Promise<void> {
    const { cluster, hosts, fences } = this.parts;
    return cluster.settle(what, async () => {
      if (fences !== undefined) await hosts.restartFenced(result);
      await hosts.restartReleased(result);
    });
  }

  async run(): Promise<ChaosReport> {
    const startedAtMs = nowMs();
    const { seed } = this.options;
    this.log(`chaos: seed ${seed}, lab ${this.lab.id} (${this.lab.dir}), bound ${this.boundMs} ms`);
    await this.setUp();
    const { t, config, checkers, fences } = this.parts;
    await config.applyInitial();
    await this.settle("after setup");
    await t.startProber();
    this.log(`chaos: cluster ready, group on ${t.name(await t.waitForGroup())}`);

    let aborted: string | null = null;
    const firstStepAt = nowMs();
    const scheduleOptions = {
      longPauses: this.options.longPauses ?? true,
      twoNode: this.options.twoNode ?? false,
    };
    for (const step of schedule(seed, scheduleOptions)) {
      if (this.options.maxSteps !== undefined && step.index > this.options.maxSteps) break;
      if (this.options.budgetMs !== undefined && nowMs() - firstStepAt >= this.options.budgetMs)
        break;
      const result = await this.runStep(step);
      this.steps.push(result);
      for (const failure of result.failures) this.failures.push(`step ${step.index}: ${failure}`);
      if (result.aborted) {
        aborted = `step ${step.index} left the cluster unusable: ${result.failures.at(-1) ?? "?"}`;
        break;
      }
    }

    // Final verdicts: the whole run's intervals (an overlap may span steps).
    if (fences !== undefined) {
      await fences.poll();
      for (const fence of fences.attribute(null, await this.fenceHistory())) {
        this.fenceRecords.push(fence);
        this.failures.push(
          `the cluster fenced ${fence.node} outside any step's fault (${new Date(fence.atMs).toISOString()})`,
        );
      }
    }
    const doubleActive = await checkers.doubleActive(this.steps);
    const configLost = await config.check("at the end");
    for (const d of doubleActive) {
      this.failures.push(
        `${d.what} on two hosts (${d.nodes.join(" and ")}) for ${d.ms.toFixed(1)} ms from ${new Date(d.fromMs).toISOString()}${d.step === null ? "" : ` (${this.steps.find((s) => s.step.index === d.step)?.description ?? `step ${d.step}`})`}`,
      );
    }
    for (const lost of configLost) this.failures.push(`at the end: ${lost}`);

    const agentWarnings = await labWarnings(this.lab.dir);
    let evidenceDir: string | null = null;
    if (this.failures.length > 0 && this.options.evidenceDir !== undefined) {
      evidenceDir = join(this.options.evidenceDir, `chaos-seed${seed}-${this.lab.id}`);
      await checkers.keepEvidence(evidenceDir).catch((error: unknown) => {
        this.log(`chaos: could not copy the lab directory: ${String(error)}`);
        evidenceDir = null;
      });
    }

    const unavailable = this.steps.filter((s) => s.unavailabilityMs !== null);
    const longest = unavailable.reduce<StepResult | null>(
      (best, s) => (best === null || s.unavailabilityMs! > best.unavailabilityMs! ? s : best),
      null,
    );
    const slowest = this.steps
      .filter((s) => s.backAfterHealMs !== null)
      .reduce<StepResult | null>(
        (best, s) => (best === null || s.backAfterHealMs! > best.backAfterHealMs! ? s : best),
        null,
      );
    return {
      seed,
      longPauses: this.options.longPauses ?? true,
      fencing: fencingOn(this.options),
      twoNode: this.options.twoNode ?? false,
      boundMs: this.boundMs,
      mode: describeMode(this.options),
      guardFences: this.parts.hosts.guardFences,
      guardReleases: this.parts.hosts.guardReleases,
      fences: this.fenceRecords,
      failedFenceCalls: fences?.failedCalls ?? [],
      labId: this.lab.id,
      startedAtMs,
      endedAtMs: nowMs(),
      steps: this.steps,
      faultsByKind: this.faultsByKind,
      doubleActive,
      vipDoubleActiveMs: sum(doubleActive.filter((d) => d.what === "VIP")),
      serviceDoubleActiveMs: sum(doubleActive.filter((d) => d.what === "service")),
      longestUnavailability:
        longest === null
          ? null
          : { ms: longest.unavailabilityMs!, step: longest.step.index, kind: longest.kind },
      slowestBack:
        slowest === null
          ? null
          : { ms: slowest.backAfterHealMs!, step: slowest.step.index, kind: slowest.kind },
      configChanges: config.ledger.acknowledged.length,
      configLost,
      failures: this.failures,
      aborted,
      evidenceDir,
      agentWarnings,
    };
  }

  // -------------------------------------------------------------------------------------------
  // One step

  private async runStep(step: Step): Promise<StepResult> {
    const { t, cluster, hosts, faults, config, checkers, fences } = this.parts;
    const result: StepResult = {
      step,
      description: describeStep(step),
      kind: kindOf(step.fault),
      target: null,
      groupBefore: null,
      groupAfter: null,
      startedAtMs: nowMs(),
      faultAtMs: null,
      healAtMs: null,
      backAtMs: null,
      backAfterHealMs: null,
      unavailabilityMs: null,
      outage: null,
      configChanges: [],
      targetHeld: null,
      fenceExpectation: null,
      fences: [],
      notes: [],
      failures: [],
      aborted: false,
      endedAtMs: 0,
    };
    this.log(`chaos: ${result.description}`);
    try {
      // An agent may have ended since the last step settled (its guard acts late): two
      // hosts must never be down at once, so bring it back before the next fault.
      await hosts.noteUnexpectedExits(step, result, "before the step's fault");
      if (t.hosts.some((h) => t.cluster.agent(h) === undefined)) {
        await hosts.restartDeadAgents(result);
        await this.settle(`before step ${step.index}`, result);
      }
      if (step.configBefore !== null) {
        await config.change(step.configBefore, step, t.hosts, result);
        await this.settle(`after step ${step.index}'s configuration change`, result);
      }
      result.groupBefore = t.name(await cluster.groupOnLeader());
      await sleep(step.phaseMs);

      const target = await faults.resolve(step.fault);
      result.target = t.name(target);
      const kind = kindOf(step.fault);
      this.faultsByKind[kind] = (this.faultsByKind[kind] ?? 0) + 1;
      const others = t.hosts.filter((h) => h !== target);
      if (fences !== undefined) {
        result.targetHeld = await cluster.heldBy(target);
        result.fenceExpectation =
          this.options.twoNode === true
            ? twoNodeFenceExpectation(step.fault, step.holdMs, t.name(target), t.name(others[0]!))
            : fenceExpectation(step.fault, step.holdMs, result.targetHeld, t.name(target));
      }
      // Through a host the fault spares, or in two-node mode the one expected to survive (a
      // partition or an inbound cut of the target gets the other host fenced, not the target).
      const expectation = result.fenceExpectation;
      const configVia =
        this.options.twoNode === true && expectation?.lost === true
          ? t.hosts.filter((h) => t.name(h) !== expectation.node)
          : others;

      const heal = await faults.inject(step.fault, target, step.holdMs, result);
      if (faults.cutsClientLink(step.fault, target, result.groupBefore)) {
        result.notes.push(
          "the client's link to the serving host is cut while the cluster links still work: unreachable until the heal (no connectivity rule moves it)",
        );
      }
      const holdEnd = result.faultAtMs! + step.holdMs;
      const healBackground = await faults.background(step, others, result);
      if (step.background !== null)
        this.faultsByKind["background-loss"] = (this.faultsByKind["background-loss"] ?? 0) + 1;
      const during =
        step.configDuring === null
          ? Promise.resolve()
          : sleep(Math.min(300, step.holdMs / 4)).then(() =>
              config.change(step.configDuring!, step, configVia, result),
            );
      // A change's failure is recorded in the result; the hold must end on time either way.
      const duringDone = during.catch((error: unknown) => {
        result.failures.push(`configuration change during the fault: ${(error as Error).message}`);
      });
      await sleep(Math.max(0, holdEnd - nowMs()));

      result.healAtMs = nowMs();
      await healBackground();
      await heal();
      await hosts.noteUnexpectedExits(step, result, "during the step");
      await duringDone;
      await hosts.restartDeadAgents(result);
      try {
        await this.settle(`after step ${step.index}`, result);
      } catch (error) {
        result.failures.push(`the cluster did not settle: ${(error as Error).message}`);
        result.aborted = true;
        return await this.finish(result);
      }
      const after = await cluster.groupOnLeader();
      result.groupAfter = t.name(after);
      // Back: the client is answered by the host the group settled on, asked after the heal.
      await checkers.serviceBack(result);
      for (const lost of await config.check(`after step ${step.index}`)) result.failures.push(lost);
      const overlapping = (await checkers.doubleActive(this.steps, false)).filter(
        (d) => d.fromMs >= result.startedAtMs,
      );
      for (const d of overlapping) {
        this.log(
          `chaos: step ${step.index}: ${d.what} ON TWO HOSTS ${d.nodes.join("+")} ${d.ms.toFixed(1)} ms`,
        );
      }
      await sleep(step.settleMs);
    } catch (error) {
      result.failures.push(`step failed: ${(error as Error).stack ?? String(error)}`);
      result.aborted = true;
      await faults
        .healEverything()
        .catch((e: unknown) => this.log(`chaos: could not heal after the failure: ${String(e)}`));
    }
    return this.finish(result);
  }

  /** The fences of the step (fencing mode), and its progress line. */
  private async finish(result: StepResult): Promise<StepResult> {
    const fences = this.parts.fences;
    if (fences !== undefined) {
      await fences.poll();
      result.fences = fences.attribute(result, await this.fenceHistory());
      this.fenceRecords.push(...result.fences);
      const judged = judgeFences(result);
      result.notes.push(...judged.notes);
      result.failures.push(...judged.failures);
    }
    result.endedAtMs = nowMs();
    const outcome =
      result.failures.length > 0 ? `FAILED: ${result.failures.join("; ")}` : "recovered";
    const rel = (atMs: number) => `${(atMs - (result.faultAtMs ?? result.startedAtMs)).toFixed(0)}`;
    const gap =
      result.outage === null
        ? ""
        : ` (from ${rel(result.outage.fromMs)} to ${rel(result.outage.toMs)} ms after the fault; answered by ${result.outage.answeredBy.join(" → ") || "nobody"})`;
    const fenced =
      result.fences.length === 0
        ? ""
        : `; fenced ${result.fences.map((f) => `${f.node} at +${f.afterFaultMs?.toFixed(0) ?? "?"} ms`).join(", ")}`;
    this.log(
      `chaos: step ${result.step.index} on ${result.target ?? "?"}: back ${result.backAfterHealMs?.toFixed(0) ?? "?"} ms after the heal (held ${result.healAtMs === null || result.faultAtMs === null ? "?" : (result.healAtMs - result.faultAtMs).toFixed(0)} ms), longest unavailability ${result.unavailabilityMs?.toFixed(0) ?? "?"} ms${gap}${fenced}; ${outcome}`,
    );
    return result;
  }

  /** The cluster's record of fences (to name who fenced); empty when no agent answers. */
  private async fenceHistory(): Promise<readonly FenceEvent[]> {
    try {
      return (await anyState(this.parts.t.cluster)).fenceHistory;
    } catch {
      return [];
    }
  }
}
