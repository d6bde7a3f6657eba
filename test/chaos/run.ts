/**
 * Runs a chaos schedule (scenario.ts) against real agents on test hosts: a lab of 3 hosts and 1
 * client on 2 links, the default timing profile, the service group [VIP, echo service] of
 * test/support/takeover-lab.ts, a client asking the VIP who serves it every 5 ms, and a VIP
 * watcher (`ip monitor address`) on every host.
 *
 * Each step: maybe a configuration change (then wait until every node has probed it), a random
 * phase, the fault, the hold (maybe a configuration change through a host the fault spares, and
 * light loss on another host), the heal; then the cluster must settle (every agent sees every
 * other on every link, one leader, the group running on one node in the leader's state, every
 * agent probed), the client must be answered by that node, asked after the heal, within the
 * bound, and every agent must hold the last configuration acknowledged. Then a quiet settle time.
 *
 * Modes: quorum (no_quorum_policy stop, no fence device), the lab's default; with `leaseGuard`,
 * every agent also runs the lease guard, whose self-fence action is test/chaos/lab-self-fence.
 *
 * Checkers (never relaxed by a mode or an option):
 * - the VIP is never on two hosts at once (the watchers' kernel notifications);
 * - the echo service is never active on two hosts at once (its events.log, written outside the
 *   namespaces, with power-offs closing a copy);
 * - the service answers the client within `boundMs` of every heal (from the node it settled on);
 * - no acknowledged configuration change is lost (every agent's /v1/config, after every step and
 *   at the end; each apply is based on the previous acknowledged version);
 * - the cluster settles after every step, and no agent exits unless the step killed it.
 *
 * Clocks: every namespace shares the machine's clock, so the prober's, the watchers', the echo
 * service's and the agents' timestamps compare directly (nowMs()).
 */
import { cp, lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { controlGet } from "../../src/control/client.js";
import type { AppliedConfig } from "../../src/state/types.js";
import { type Lab, type LabProcess, withLab } from "../lab/index.js";
import {
  clientOutage,
  echoIntervals,
  groupNode,
  hostIndexOf,
  type Interval,
  IP_RESOURCE,
  nowMs,
  type Overlap,
  overlaps,
  type Probe,
  readEchoEvents,
  runVigil,
  stateOf,
  TakeoverLab,
} from "../support/takeover-lab.js";
import { waitFor } from "../support/wait.js";
import {
  type ConfigChange,
  describeStep,
  type Fault,
  type FaultKind,
  type HostTarget,
  kindOf,
  SHORT_PAUSE_MAX_MS,
  type Step,
  schedule,
} from "./scenario.js";

const here = fileURLToPath(new URL(".", import.meta.url));
/** examples/agents/marker: a do-nothing exec agent whose state is a file per resource and node. */
export const MARKER_AGENT = resolve(here, "../../examples/agents/marker");

/** The lease guard's self-fence action on a lab host (see the script). */
export const LAB_SELF_FENCE = resolve(here, "lab-self-fence");

/** Resources must answer the client again within this long after a heal. */
export const DEFAULT_BOUND_MS = 10_000;
/** Past the bound, how much longer to wait to measure how late it was before giving up. */
const BEYOND_BOUND_MS = 30_000;
/** How long the cluster may take to settle after a step (every wait is polled, not slept). */
const SETTLE_TIMEOUT_MS = 45_000;
/** How long every agent may take to show the last acknowledged configuration. */
const CONFIG_CONVERGE_MS = 15_000;
/** How long a configuration change may keep being retried (no leader during an election...). */
const APPLY_RETRY_MS = 15_000;
/** At most this many harmless marker resources exist at once. */
const MAX_MARKERS = 4;
/** Agent log lines around a double-active interval worth reading. */
const AGENT_EVIDENCE =
  /lease_lost|lease_acquired|stopping resource|starting resource|node_released|resource_targets|became_leader|stepped_down|node_dead|local_stall|fenc|guard/i;
const EVIDENCE_BEFORE_MS = 2_000;
const EVIDENCE_AFTER_MS = 500;
/** Per agent log file; each line cut to EVIDENCE_LINE_CHARS. */
const EVIDENCE_LINES = 25;
const EVIDENCE_LINE_CHARS = 400;

export interface ChaosOptions {
  seed: number;
  /** Run at most this many steps. */
  maxSteps?: number;
  /** Start no new step once this long has passed since the first one began. */
  budgetMs?: number;
  /** Agent pauses of 2–4 s (scenario.ts, ScheduleOptions.longPauses). */
  longPauses?: boolean;
  /**
   * Run every agent with the lease guard (`watchdog.lease_guard`), whose self-fence action on a
   * lab host is test/chaos/lab-self-fence (never the default reboot: the lab shares the machine).
   */
  leaseGuard?: boolean;
  boundMs?: number;
  /** Run the compiled agent and CLI (dist/; `npm run build` first). */
  built?: boolean;
  /** Progress lines (one per step and per notable event). */
  log?: (line: string) => void;
  /** On any failure, the lab's directory (agent logs, watchers, events.log, probes) is copied here. */
  evidenceDir?: string;
}

export interface StepResult {
  step: Step;
  description: string;
  kind: FaultKind;
  /** The host the fault hit (resolved from "leader" / "active"). */
  target: string | null;
  /** Where the group ran before the step and after it settled. */
  groupBefore: string | null;
  groupAfter: string | null;
  startedAtMs: number;
  faultAtMs: number | null;
  healAtMs: number | null;
  /** The first answer to a request sent after the heal arrived then. */
  backAtMs: number | null;
  backAfterHealMs: number | null;
  /** The client's longest time without an answer, from the step's start to `backAtMs`. */
  unavailabilityMs: number | null;
  /** That longest gap (ms epoch), and who answered the client after the step began, in order. */
  outage: { fromMs: number; toMs: number; answeredBy: string[] } | null;
  /** Configuration changes acknowledged in this step (and their versions). */
  configChanges: string[];
  notes: string[];
  failures: string[];
  /** The step left the cluster unusable: the run stops after it. */
  aborted: boolean;
  endedAtMs: number;
}

export interface DoubleActive {
  what: "VIP" | "service";
  nodes: [string, string];
  fromMs: number;
  toMs: number;
  ms: number;
  /** The step during which it began (null: between steps / during setup). */
  step: number | null;
  evidence: string[];
}

export interface ChaosReport {
  seed: number;
  longPauses: boolean;
  leaseGuard: boolean;
  boundMs: number;
  mode: string;
  labId: string;
  startedAtMs: number;
  endedAtMs: number;
  steps: StepResult[];
  /** Main faults by kind, plus "background-loss" for the light loss added to another host. */
  faultsByKind: Record<string, number>;
  doubleActive: DoubleActive[];
  vipDoubleActiveMs: number;
  serviceDoubleActiveMs: number;
  longestUnavailability: { ms: number; step: number; kind: FaultKind } | null;
  slowestBack: { ms: number; step: number; kind: FaultKind } | null;
  /** Acknowledged configuration changes (the service document included). */
  configChanges: number;
  configLost: string[];
  /** Every checker failure, each naming its step. */
  failures: string[];
  /** Agents the lease guard fenced (host, step): a guard's job, not a failure. */
  guardFences: string[];
  /** Why the run stopped early, if it did. */
  aborted: string | null;
  evidenceDir: string | null;
}

/** The replicated configuration as /v1/config returns it. */
interface ConfigReply extends AppliedConfig {
  configurationVersion: number;
  stateVersion: number;
}

interface LedgerEntry {
  /** 0: the service document applied at setup. */
  serial: number;
  step: number;
  version: number;
  text: string;
  markers: ReadonlyMap<string, number>;
  description: string;
}

/**
 * Every configuration change the cluster acknowledged, in order. Each document holds everything
 * before it (markers only accumulate or change), so the newest acknowledged text must be what
 * every agent holds; an older one, or another, means a committed change was lost.
 */
class ConfigLedger {
  readonly acknowledged: LedgerEntry[] = [];
  /** Outcomes the CLI could not tell ("may or may not have been applied"): may still commit. */
  readonly uncertain: LedgerEntry[] = [];
  private nextMarker = 1;
  private serial = 0;

  last(): LedgerEntry {
    const last = this.acknowledged.at(-1);
    if (last === undefined) throw new Error("no configuration acknowledged yet");
    return last;
  }

  record(entry: LedgerEntry): void {
    this.acknowledged.push(entry);
    const i = this.uncertain.indexOf(entry);
    if (i >= 0) this.uncertain.splice(i, 1);
  }

  /** An uncertain change that did commit after all (found later on the agents). */
  promote(text: string, version: number): LedgerEntry | undefined {
    const entry = this.uncertain.find((e) => e.text === text);
    if (entry === undefined) return undefined;
    entry.version = version;
    this.uncertain.splice(0, this.uncertain.indexOf(entry) + 1);
    this.acknowledged.push(entry);
    return entry;
  }

  /** The next document: `change` resolved against the markers of the last acknowledged one. */
  next(
    change: ConfigChange,
    step: number,
    build: (markers: ReadonlyMap<string, number>) => Record<string, unknown>,
    seed: number,
  ): LedgerEntry {
    const markers = new Map(this.last().markers);
    let effective = change;
    if (markers.size === 0) effective = "add-marker";
    else if (effective === "add-marker" && markers.size >= MAX_MARKERS)
      effective = "set-marker-param";
    let description: string;
    switch (effective) {
      case "add-marker": {
        const id = `chaos-m${this.nextMarker++}`;
        markers.set(id, 1);
        description = `add ${id}`;
        break;
      }
      case "set-marker-param": {
        // The marker changed least often: every marker gets its turn.
        const [id, generation] = [...markers].sort((a, b) => a[1] - b[1])[0]!;
        markers.set(id, generation + 1);
        description = `${id} generation=${generation + 1}`;
        break;
      }
      case "remove-marker": {
        const [id] = [...markers.keys()];
        markers.delete(id!);
        description = `remove ${id}`;
        break;
      }
    }
    const serial = ++this.serial;
    const text = `# chaos seed ${seed}, configuration change ${serial} (step ${step}): ${description}\n${stringify(build(markers))}`;
    return { serial, step, version: -1, text, markers, description };
  }
}

/** The lease guard's reason for fencing, from the agent's stderr (it inherits it), or null. */
function guardFence(stderr: string): string | null {
  const line = stderr
    .split("\n")
    .find((l) => l.includes('"component":"lease-guard"') && l.includes("fencing this node"));
  if (line === undefined)
    return /"component":"lease-guard".*"msg":"fenced"/.test(stderr) ? "fenced" : null;
  try {
    return String((JSON.parse(line) as { msg?: unknown }).msg);
  } catch {
    return line.slice(0, 300);
  }
}

/** Why an error is worth another try, and whether the change may have been applied anyway. */
function classifyApplyError(message: string): { retry: boolean; uncertain: boolean } {
  const uncertain = /may or may not have been applied|may still be applied|did not answer within/i;
  const retry =
    /try again|no leader|cannot reach the agent|did not answer|not committed within|ECONNREFUSED|ENOENT/i;
  return { retry: retry.test(message), uncertain: uncertain.test(message) };
}

function sum(items: readonly { ms: number }[]): number {
  return items.reduce((total, item) => total + item.ms, 0);
}

/** Runs the schedule of `options.seed` on a fresh lab; resolves with the report (never throws for a checker). */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  return withLab({ hosts: 3, links: 2, clients: 1 }, async (lab) => {
    const chaos = new ChaosRun(lab, options);
    try {
      return await chaos.run();
    } finally {
      await chaos.close();
    }
  });
}

class ChaosRun {
  private readonly boundMs: number;
  private readonly log: (line: string) => void;
  private readonly ledger = new ConfigLedger();
  private readonly steps: StepResult[] = [];
  private readonly failures: string[] = [];
  private readonly faultsByKind: Record<string, number> = {};
  /** The agent process of each host, exited or not, to tell an unexpected exit. */
  private readonly agents = new Map<number, LabProcess>();
  private t: TakeoverLab | undefined;
  /** Agents whose end is already accounted for (a power-off by the run, or noted). */
  private readonly accounted = new WeakSet<LabProcess>();
  private readonly exitedAt = new WeakMap<LabProcess, number>();
  private readonly guardFences: string[] = [];
  private readonly markerDir: string;

  constructor(
    private readonly lab: Lab,
    private readonly options: ChaosOptions,
  ) {
    this.boundMs = options.boundMs ?? DEFAULT_BOUND_MS;
    this.log = options.log ?? (() => {});
    this.markerDir = join(lab.dir, "markers");
  }

  private get takeover(): TakeoverLab {
    if (this.t === undefined) throw new Error("the cluster is not set up");
    return this.t;
  }

  async close(): Promise<void> {
    await this.t?.close().catch(() => undefined);
  }

  async run(): Promise<ChaosReport> {
    const startedAtMs = nowMs();
    const { seed } = this.options;
    this.log(`chaos: seed ${seed}, lab ${this.lab.id} (${this.lab.dir}), bound ${this.boundMs} ms`);
    await mkdir(this.markerDir, { recursive: true });
    this.t = await TakeoverLab.create(this.lab, {
      ...(this.options.built === undefined ? {} : { built: this.options.built }),
    });
    this.rememberAgents();
    if (this.options.leaseGuard === true) await this.enableLeaseGuard();
    // t.document() (the service group), with a header: the ledger knows the exact text.
    const initial = this.documentText(new Map(), "the service group");
    const first = await this.applyConfig(
      {
        serial: 0,
        step: 0,
        version: -1,
        text: initial,
        markers: new Map(),
        description: "service group",
      },
      this.takeover.hosts,
      true,
    );
    if (!first.ok) throw new Error(`the initial configuration was not applied: ${first.error}`);
    await this.settle("after setup");
    await this.takeover.startProber();
    this.log(
      `chaos: cluster ready, group on ${this.takeover.name(await this.takeover.waitForGroup())}`,
    );

    let aborted: string | null = null;
    const firstStepAt = nowMs();
    for (const step of schedule(seed, { longPauses: this.options.longPauses ?? false })) {
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
    const doubleActive = await this.doubleActive();
    const configLost = await this.checkConfig("at the end");
    for (const d of doubleActive) {
      this.failures.push(
        `${d.what} on two hosts (${d.nodes.join(" and ")}) for ${d.ms.toFixed(1)} ms from ${new Date(d.fromMs).toISOString()}${d.step === null ? "" : ` (${this.steps.find((s) => s.step.index === d.step)?.description ?? `step ${d.step}`})`}`,
      );
    }
    for (const lost of configLost) this.failures.push(`at the end: ${lost}`);

    let evidenceDir: string | null = null;
    if (this.failures.length > 0 && this.options.evidenceDir !== undefined) {
      evidenceDir = join(this.options.evidenceDir, `chaos-seed${seed}-${this.lab.id}`);
      await this.keepEvidence(evidenceDir).catch((error: unknown) => {
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
      longPauses: this.options.longPauses ?? false,
      leaseGuard: this.options.leaseGuard ?? false,
      boundMs: this.boundMs,
      mode:
        this.options.leaseGuard === true
          ? "quorum + lease guard: no_quorum_policy stop, no fence device, watchdog.lease_guard on (action: test/chaos/lab-self-fence)"
          : "quorum: no_quorum_policy stop, no fence device, no lease guard",
      guardFences: this.guardFences,
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
      configChanges: this.ledger.acknowledged.length,
      configLost,
      failures: this.failures,
      aborted,
      evidenceDir,
    };
  }

  // -------------------------------------------------------------------------------------------
  // One step

  private async runStep(step: Step): Promise<StepResult> {
    const t = this.takeover;
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
      notes: [],
      failures: [],
      aborted: false,
      endedAtMs: 0,
    };
    this.log(`chaos: ${result.description}`);
    try {
      // An agent may have ended since the last step settled (a lease guard fences late): two
      // hosts must never be down at once, so bring it back before the next fault.
      this.noteUnexpectedExits(step, result, "before the step's fault");
      if (t.hosts.some((h) => t.cluster.agent(h) === undefined)) {
        await this.restartDeadAgents(result);
        await this.settle(`before step ${step.index}`);
      }
      if (step.configBefore !== null) {
        await this.change(step.configBefore, step, t.hosts, result);
        await this.settle(`after step ${step.index}'s configuration change`);
      }
      result.groupBefore = t.name(await this.groupOnLeader());
      await sleep(step.phaseMs);

      const target = await this.resolve(step.fault);
      result.target = t.name(target);
      const kind = kindOf(step.fault);
      this.faultsByKind[kind] = (this.faultsByKind[kind] ?? 0) + 1;
      const others = t.hosts.filter((h) => h !== target);

      const heal = await this.inject(step.fault, target, step.holdMs, result);
      if (this.cutsClientLink(step.fault, target, result.groupBefore)) {
        result.notes.push(
          "the client's link to the serving host is cut while the cluster links still work: unreachable until the heal (no connectivity rule moves it)",
        );
      }
      const holdEnd = result.faultAtMs! + step.holdMs;
      let healBackground = async () => {};
      if (step.background !== null) {
        const other = others[step.background.otherPick]!;
        const { link, percent } = step.background;
        await this.lab.randomLoss(other, link, percent, "both");
        this.faultsByKind["background-loss"] = (this.faultsByKind["background-loss"] ?? 0) + 1;
        result.notes.push(`background ${percent}% loss on link ${link} of ${t.name(other)}`);
        healBackground = () => this.lab.clearLoss(other, link);
      }
      const during =
        step.configDuring === null
          ? Promise.resolve()
          : sleep(Math.min(300, step.holdMs / 4)).then(() =>
              this.change(step.configDuring!, step, others, result),
            );
      // A change's failure is recorded in the result; the hold must end on time either way.
      const duringDone = during.catch((error: unknown) => {
        result.failures.push(`configuration change during the fault: ${(error as Error).message}`);
      });
      await sleep(Math.max(0, holdEnd - nowMs()));

      result.healAtMs = nowMs();
      await healBackground();
      await heal();
      this.noteUnexpectedExits(step, result, "during the step");
      await duringDone;
      await this.restartDeadAgents(result);
      try {
        await this.settle(`after step ${step.index}`);
      } catch (error) {
        result.failures.push(`the cluster did not settle: ${(error as Error).message}`);
        result.aborted = true;
        return this.finish(result);
      }
      const after = await this.groupOnLeader();
      result.groupAfter = t.name(after);
      // Back: the client is answered by the host the group settled on, asked after the heal.
      const back = await this.waitForService(result.healAtMs, result.groupAfter);
      if (back === undefined) {
        result.failures.push(
          `the client got no answer from ${result.groupAfter} within ${this.boundMs + BEYOND_BOUND_MS} ms of the heal`,
        );
      } else {
        result.backAtMs = back.doneMs;
        result.backAfterHealMs = Math.max(0, back.doneMs - result.healAtMs);
        if (result.backAfterHealMs > this.boundMs) {
          result.failures.push(
            `the service answered ${result.backAfterHealMs.toFixed(0)} ms after the heal, over the ${this.boundMs} ms bound`,
          );
        }
        const probes = await t.prober!.probes();
        const outage = clientOutage(probes, result.startedAtMs, back.doneMs);
        result.unavailabilityMs = outage.outageMs;
        result.outage = {
          fromMs: outage.fromMs,
          toMs: outage.toMs,
          answeredBy: [
            ...(outage.before === undefined ? [] : [outage.before]),
            ...outage.answeredBy,
          ].filter((name, i, all) => i === 0 || all[i - 1] !== name),
        };
      }
      for (const lost of await this.checkConfig(`after step ${step.index}`))
        result.failures.push(lost);
      const overlapping = (await this.doubleActive(false)).filter(
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
      await this.healEverything().catch((e: unknown) =>
        this.log(`chaos: could not heal after the failure: ${String(e)}`),
      );
    }
    return this.finish(result);
  }

  private finish(result: StepResult): StepResult {
    result.endedAtMs = nowMs();
    const outcome =
      result.failures.length > 0 ? `FAILED: ${result.failures.join("; ")}` : "recovered";
    const rel = (atMs: number) => `${(atMs - (result.faultAtMs ?? result.startedAtMs)).toFixed(0)}`;
    const gap =
      result.outage === null
        ? ""
        : ` (from ${rel(result.outage.fromMs)} to ${rel(result.outage.toMs)} ms after the fault; answered by ${result.outage.answeredBy.join(" → ") || "nobody"})`;
    this.log(
      `chaos: step ${result.step.index} on ${result.target ?? "?"}: back ${result.backAfterHealMs?.toFixed(0) ?? "?"} ms after the heal (held ${result.healAtMs === null || result.faultAtMs === null ? "?" : (result.healAtMs - result.faultAtMs).toFixed(0)} ms), longest unavailability ${result.unavailabilityMs?.toFixed(0) ?? "?"} ms${gap}; ${outcome}`,
    );
    return result;
  }

  private async resolve(fault: Fault): Promise<number> {
    const t = this.takeover;
    const target: HostTarget =
      fault.kind === "leader-kill" ? { role: "leader" } : (fault as { target: HostTarget }).target;
    switch (target.role) {
      case "host":
        return target.index;
      case "leader":
        return t.waitForLeader(10_000);
      case "active":
        return this.groupOnLeader();
    }
  }

  /** Where the group runs, settled, in the leader's state (a follower's may lag behind). */
  private async groupOnLeader(timeoutMs = 10_000, what = ""): Promise<number> {
    const t = this.takeover;
    const node = await waitFor(
      `the leader's state to show the group running on one node ${what}`,
      async () => groupNode(await stateOf(t.cluster, await t.waitForLeader(timeoutMs))),
      { timeoutMs },
    );
    return hostIndexOf(node);
  }

  /** Applies the fault now; records when; returns how to heal it. */
  private async inject(
    fault: Fault,
    host: number,
    holdMs: number,
    result: StepResult,
  ): Promise<() => Promise<void>> {
    const t = this.takeover;
    const lab = this.lab;
    const linksOf = (links: number | "all") => (links === "all" ? [0, 1] : [links]);
    switch (fault.kind) {
      case "power-off":
      case "leader-kill": {
        result.faultAtMs = await this.powerOff(host);
        return () => this.powerOn(host);
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
      case "pause": {
        // Only the agent's process group: its resources, its lease guard (own groups) and the
        // test's VIP watcher keep running, as when the agent alone hangs.
        const agent = t.cluster.agent(host);
        if (agent === undefined) throw new Error(`no agent runs on ${t.name(host)} to pause`);
        if (!fault.long && holdMs > SHORT_PAUSE_MAX_MS)
          throw new Error(`a short pause of ${holdMs} ms is not short`);
        result.faultAtMs = nowMs();
        agent.kill("SIGSTOP");
        return async () => agent.kill("SIGCONT");
      }
    }
  }

  /** After a step failed half-way: no fault may stay behind (the report still gets written). */
  private async healEverything(): Promise<void> {
    const t = this.takeover;
    for (const host of t.hosts) {
      t.cluster.agent(host)?.kill("SIGCONT");
      await this.lab.healAll(host);
      for (const link of [0, 1]) await this.lab.clearLoss(host, link);
    }
  }

  /** Whether the fault cuts link 0 (the client's) of the host serving, both ways, but not every link. */
  private cutsClientLink(fault: Fault, target: number, serving: string | null): boolean {
    if (serving !== this.takeover.name(target)) return false;
    if (fault.kind === "link-cut") return fault.link === 0;
    if (fault.kind === "one-way-cut") return fault.links === 0;
    return false;
  }

  /** Power back on as after a reboot: the marker files (volatile state) go too. */
  private async powerOn(host: number): Promise<void> {
    const t = this.takeover;
    const suffix = `.${t.name(host)}.running`;
    for (const file of await readdir(this.markerDir))
      if (file.endsWith(suffix)) await rm(join(this.markerDir, file), { force: true });
    await t.powerOn(host);
    this.rememberAgents();
  }

  private rememberAgents(): void {
    const t = this.takeover;
    for (const host of t.hosts) {
      const agent = t.cluster.agent(host);
      if (agent === undefined || this.agents.get(host) === agent) continue;
      this.agents.set(host, agent);
      void agent.exited.then((status) => {
        this.exitedAt.set(agent, nowMs());
        if (this.accounted.has(agent)) return;
        const fence = guardFence(agent.stderr);
        this.log(
          `chaos: the agent on ${t.name(host)} exited (code ${status.code}, signal ${status.signal})${fence === null ? "" : `: the lease guard fenced it (${fence})`}`,
        );
      });
    }
  }

  /** A power-off by the run itself: the agent's end is expected. */
  private async powerOff(host: number): Promise<number> {
    const agent = this.agents.get(host);
    if (agent !== undefined) this.accounted.add(agent);
    return this.takeover.powerOff(host);
  }

  /**
   * Restarts every agent, one at a time (quorum stays), with `watchdog.lease_guard` on in the
   * cluster's vigil.yaml and the lab's self-fence action. TakeoverLab.create starts the agents
   * with LabCluster's file and has no way to add a key before it does.
   */
  private async enableLeaseGuard(): Promise<void> {
    const t = this.takeover;
    const ip = (t.document().resources as Record<string, { params: { address: string } }>)[
      IP_RESOURCE
    ]!;
    const action = [
      LAB_SELF_FENCE,
      ip.params.address,
      this.lab.host(0).device(0),
      this.lab.dir,
      ...t.hosts.map((h) => `${this.lab.host(h).ns}=${t.name(h)}`),
    ].join(" ");
    const config = parse(await readFile(t.cluster.configPath, "utf8")) as Record<string, unknown>;
    config.watchdog = { lease_guard: true, action };
    await writeFile(t.cluster.configPath, stringify(config), { mode: 0o600 });
    for (const host of t.hosts) {
      await this.powerOff(host);
      await this.powerOn(host);
      await t.cluster.agent(host)!.waitForLine(/lease guard started/, 10_000);
    }
    await t.waitForLeader();
    this.log(`chaos: lease guard on, action: ${action}`);
  }

  /**
   * An agent that exited although the run did not power its host off: a failure, unless its
   * lease guard fenced it (with --lease-guard: the guard's job; noted with its reason and when).
   */
  private noteUnexpectedExits(step: Step, result: StepResult, when: string): void {
    const t = this.takeover;
    for (const host of t.hosts) {
      const agent = this.agents.get(host);
      if (agent === undefined || agent.running || this.accounted.has(agent)) continue;
      this.accounted.add(agent);
      const at = this.exitedAt.get(agent);
      const rel =
        at === undefined
          ? ""
          : result.faultAtMs === null
            ? ` ${(at - result.startedAtMs).toFixed(0)} ms after the step began`
            : ` ${(at - result.faultAtMs).toFixed(0)} ms after the fault`;
      const fence = guardFence(agent.stderr);
      if (this.options.leaseGuard === true && fence !== null) {
        result.notes.push(`the lease guard fenced ${t.name(host)} ${when}${rel}: ${fence}`);
        this.guardFences.push(`${t.name(host)} in step ${step.index} (${when}${rel}: ${fence})`);
        continue;
      }
      result.failures.push(
        `the agent on ${t.name(host)} exited on its own ${when}${rel} (${describeStep(step)}); last stderr: ${agent.stderr.slice(-1500)}`,
      );
    }
  }

  /** Hosts whose agent is gone without a power-off: power-cycle them (a reboot) and restart. */
  private async restartDeadAgents(result: StepResult): Promise<void> {
    const t = this.takeover;
    for (const host of t.hosts) {
      if (t.cluster.agent(host) !== undefined) continue;
      result.notes.push(`restarted ${t.name(host)} (its agent had exited)`);
      await this.powerOff(host);
      await this.powerOn(host);
    }
  }

  /** The first answer from `node` to a request sent after `sinceMs`. */
  private async waitForService(sinceMs: number, node: string): Promise<Probe | undefined> {
    const prober = this.takeover.prober!;
    try {
      return await waitFor(
        "the service to answer the client",
        async () => {
          const probes = await prober.probes();
          let found: Probe | undefined;
          // Lines are appended as answers complete: scan back only as far as the heal.
          for (let i = probes.length - 1; i >= 0; i--) {
            const p = probes[i]!;
            if (p.doneMs < sinceMs) break;
            if (!p.ok || p.answer !== node || p.sentMs < sinceMs) continue;
            if (found === undefined || p.doneMs < found.doneMs) found = p;
          }
          return found;
        },
        {
          timeoutMs: Math.max(1_000, sinceMs + this.boundMs + BEYOND_BOUND_MS - nowMs()),
          intervalMs: 50,
        },
      );
    } catch {
      return undefined;
    }
  }

  /**
   * Every agent runs and sees every other on every link, all agree on a leader, the group runs
   * on one node and every agent has probed the configuration in force.
   */
  private async settle(what: string): Promise<void> {
    const t = this.takeover;
    const deadline = nowMs() + SETTLE_TIMEOUT_MS;
    const left = () => Math.max(1_000, deadline - nowMs());
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
  }

  // -------------------------------------------------------------------------------------------
  // Configuration

  private documentText(markers: ReadonlyMap<string, number>, description: string): string {
    return `# chaos seed ${this.options.seed}: ${description}\n${stringify(this.document(markers))}`;
  }

  private document(markers: ReadonlyMap<string, number>): Record<string, unknown> {
    const base = this.takeover.document();
    const resources = { ...(base.resources as Record<string, unknown>) };
    for (const [id, generation] of markers) {
      resources[id] = {
        agent: `exec:${MARKER_AGENT}`,
        params: { statedir: this.markerDir, generation: String(generation) },
        operations: { monitor: { interval_ms: 2_000, timeout_ms: 5_000 } },
      };
    }
    return { ...base, resources };
  }

  private async change(
    change: ConfigChange,
    step: Step,
    via: readonly number[],
    result: StepResult,
  ): Promise<void> {
    const entry = this.ledger.next(change, step.index, (m) => this.document(m), this.options.seed);
    const outcome = await this.applyConfig(entry, via, false);
    if (outcome.ok) {
      result.configChanges.push(`#${entry.serial} ${entry.description} (v${entry.version})`);
      this.log(
        `chaos: configuration change #${entry.serial} ${entry.description}: version ${entry.version}`,
      );
    } else if (outcome.uncertain) {
      result.notes.push(`configuration change #${entry.serial} uncertain: ${outcome.error}`);
    } else {
      result.failures.push(
        `configuration change #${entry.serial} (${entry.description}) refused: ${outcome.error}`,
      );
    }
  }

  /**
   * `vigil config apply FILE --base-version V` through the first running agent of `via`, retried
   * while there is no leader. Records the change in the ledger once acknowledged (or once an
   * agent shows it after an answer that could not tell).
   */
  private async applyConfig(
    entry: LedgerEntry,
    via: readonly number[],
    initial: boolean,
  ): Promise<{ ok: true } | { ok: false; uncertain: boolean; error: string }> {
    const t = this.takeover;
    const file = join(this.lab.dir, `chaos-config-${entry.serial}.yaml`);
    await writeFile(file, entry.text);
    const built = this.options.built === undefined ? {} : { built: this.options.built };
    const deadline = nowMs() + APPLY_RETRY_MS;
    let lastError = "no agent to apply through";
    let uncertain = false;
    for (let attempt = 0; nowMs() < deadline; attempt++) {
      const running = via.filter((h) => t.cluster.agent(h) !== undefined);
      const host = running[attempt % Math.max(1, running.length)];
      if (host === undefined) break;
      let base: number;
      try {
        base = initial
          ? (await this.readConfig(host)).configurationVersion
          : this.ledger.last().version;
      } catch (error) {
        lastError = (error as Error).message;
        await sleep(300);
        continue;
      }
      try {
        const out = await runVigil(
          [
            "config",
            "apply",
            file,
            "--base-version",
            String(base),
            "--socket",
            t.cluster.socketPath(host),
          ],
          built,
        );
        const match = /cluster state version (\d+)/.exec(out);
        if (match === null) throw new Error(`unexpected output of vigil config apply: ${out}`);
        entry.version = Number(match[1]);
        this.ledger.record(entry);
        return { ok: true };
      } catch (error) {
        lastError = (error as Error).message;
        const kind = classifyApplyError(lastError);
        uncertain ||= kind.uncertain;
        // Whatever the answer said, the cluster may hold the change: ask it.
        const shown = await this.readConfig(host).catch(() => undefined);
        if (shown?.text === entry.text) {
          entry.version = shown.version;
          this.ledger.record(entry);
          return { ok: true };
        }
        if (!kind.retry) break;
        await sleep(300);
      }
    }
    if (uncertain) this.ledger.uncertain.push(entry);
    return { ok: false, uncertain, error: lastError };
  }

  private readConfig(host: number): Promise<ConfigReply> {
    return controlGet<ConfigReply>(this.takeover.cluster.socketPath(host), "/v1/config");
  }

  /**
   * Waits until every agent holds the last acknowledged configuration; returns what is wrong
   * where it never does (empty: nothing was lost).
   */
  private async checkConfig(when: string): Promise<string[]> {
    const t = this.takeover;
    let problems: string[] = [];
    const deadline = nowMs() + CONFIG_CONVERGE_MS;
    for (;;) {
      problems = [];
      const expected = this.ledger.last();
      for (const host of t.hosts) {
        if (t.cluster.agent(host) === undefined) continue;
        let shown: ConfigReply;
        try {
          shown = await this.readConfig(host);
        } catch (error) {
          problems.push(`${t.name(host)}: /v1/config failed: ${(error as Error).message}`);
          continue;
        }
        if (shown.text === expected.text && shown.version === expected.version) continue;
        const promoted = this.ledger.promote(shown.text, shown.version);
        if (promoted !== undefined) {
          this.log(
            `chaos: configuration change #${promoted.serial} (uncertain) did commit, version ${promoted.version}`,
          );
          problems.push("retry");
          break;
        }
        const known = this.ledger.acknowledged.find((e) => e.text === shown.text);
        problems.push(
          `${t.name(host)} holds configuration version ${shown.version} (configurationVersion ${shown.configurationVersion}, ` +
            `${known === undefined ? "a text no change of this run wrote" : `change #${known.serial} of step ${known.step}`}) ${when}, ` +
            `but change #${expected.serial} (${expected.description}, step ${expected.step}) was acknowledged at version ${expected.version}`,
        );
      }
      if (problems.length === 0) return [];
      if (nowMs() > deadline) return problems.filter((p) => p !== "retry");
      await sleep(200);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Safety

  /** Every interval during which the VIP or the service was on two hosts, with evidence. */
  private async doubleActive(withEvidence = true): Promise<DoubleActive[]> {
    const t = this.takeover;
    const atMs = nowMs();
    const vipIntervals = t.watch.intervals(atMs);
    const events = await readEchoEvents(this.lab.dir);
    const echo = echoIntervals(events, t.powerOffs, atMs);
    const found: DoubleActive[] = [];
    const add = async (what: "VIP" | "service", list: Overlap[], intervals: Interval[]) => {
      for (const o of list) {
        const step = this.steps.find((s) => o.fromMs >= s.startedAtMs && o.fromMs <= s.endedAtMs);
        found.push({
          what,
          nodes: o.nodes,
          fromMs: o.fromMs,
          toMs: o.toMs,
          ms: o.toMs - o.fromMs,
          step: step?.step.index ?? null,
          evidence: withEvidence ? await this.evidence(what, o, intervals) : [],
        });
      }
    };
    await add("VIP", overlaps(vipIntervals), vipIntervals);
    await add("service", overlaps(echo), echo);
    return found;
  }

  /** Raw lines around an overlap: watcher output or events.log, and the agents' logs. */
  private async evidence(what: "VIP" | "service", o: Overlap, intervals: Interval[]) {
    const from = o.fromMs - EVIDENCE_BEFORE_MS;
    const to = o.toMs + EVIDENCE_AFTER_MS;
    const lines: string[] = [];
    lines.push(
      `${what} intervals of ${o.nodes.join(", ")}: ${JSON.stringify(intervals.filter((i) => o.nodes.includes(i.node) && i.toMs >= from && i.fromMs <= to))}`,
    );
    const files = await readdir(this.lab.dir);
    if (what === "VIP") {
      for (const file of files.filter((f) => /-bash-\d+\.out\.log$/.test(f))) {
        const text = await readFile(join(this.lab.dir, file), "utf8").catch(() => "");
        for (const line of text.split("\n")) {
          const at = Number(line.slice(0, line.indexOf(" "))) * 1000;
          if (at >= from && at <= to) lines.push(`${file}: ${line}`);
        }
      }
    } else {
      const text = await readFile(join(this.lab.dir, "events.log"), "utf8").catch(() => "");
      for (const line of text.split("\n")) {
        const at = Number(line.split(" ")[0]);
        if (at >= from && at <= to) lines.push(`events.log: ${line}`);
      }
      lines.push(`power-offs: ${JSON.stringify([...this.takeover.powerOffs])}`);
    }
    for (const file of files.filter((f) => /^h\d+-node-\d+\.(out|err)\.log$/.test(f)).sort()) {
      const text = await readFile(join(this.lab.dir, file), "utf8").catch(() => "");
      let count = 0;
      for (const line of text.split("\n")) {
        const time = /"time":"([^"]+)"/.exec(line)?.[1];
        const at = time === undefined ? Number.NaN : Date.parse(time);
        if (!(at >= from && at <= to) || !AGENT_EVIDENCE.test(line)) continue;
        if (count++ >= EVIDENCE_LINES) break;
        lines.push(
          `${file}: ${line.length > EVIDENCE_LINE_CHARS ? `${line.slice(0, EVIDENCE_LINE_CHARS)}…` : line}`,
        );
      }
    }
    return lines;
  }

  /** A copy of the lab's directory (sockets left out) for the report. */
  private async keepEvidence(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await cp(this.lab.dir, dir, {
      recursive: true,
      filter: async (source) => !(await lstat(source)).isSocket(),
    });
    this.log(`chaos: lab directory copied to ${dir}`);
  }
}
