/**
 * What a chaos run is asked to do and what it reports: the options, one result per step, and the
 * whole run's report (printed by report.ts, asserted by test/integration/chaos.test.ts).
 */
import type { FaultKind, Step } from "./scenario.js";

/** Resources must answer the client again within this long after a heal. */
export const DEFAULT_BOUND_MS = 10_000;

export interface ChaosOptions {
  seed: number;
  /** Run at most this many steps. */
  maxSteps?: number;
  /** Start no new step once this long has passed since the first one began. */
  budgetMs?: number;
  /** Agent pauses of 2–4 s (scenario.ts, ScheduleOptions.longPauses); on unless false. */
  longPauses?: boolean;
  /**
   * Fencing mode: the cluster has a fence device, test/fixtures/fence/fence_lab, which powers a
   * lab host off for real (links down, every process in it killed), so a lost node is fenced
   * before its resources move. The run brings fenced hosts back (power-on, agent restart).
   */
  fencing?: boolean;
  /**
   * Two-node mode: two hosts, no witness, the fencing mode's device, and a fence delay for h1
   * (fencing.ts, TWO_NODE_FENCE_DELAY_MS) so that h1 wins a fence race; no_quorum_policy stays
   * at its two-node default, freeze. Implies `fencing`.
   */
  twoNode?: boolean;
  boundMs?: number;
  /** Run the compiled agent and CLI (dist/; `npm run build` first). */
  built?: boolean;
  /** Progress lines (one per step and per notable event). */
  log?: (line: string) => void;
  /** On any failure, the lab's directory (agent logs, watchers, events.log, probes) is copied here. */
  evidenceDir?: string;
}

/** One fence the cluster carried out on a lab host (fencing mode), from fence_lab's own log. */
export interface FenceRecord {
  node: string;
  /** When fence_lab was called (the leader's decision), or null if it did not say. */
  calledAtMs: number | null;
  /** When it was done: the host's links down and every process in it gone. */
  atMs: number;
  /** The step during which it happened (null: during setup or after the last step). */
  step: number | null;
  /** That step's fault and the host it hit. */
  fault: FaultKind | null;
  target: string | null;
  /** From the step's fault to the fence being done (null: no fault yet). */
  afterFaultMs: number | null;
  /** Relative to the step's fault and heal. */
  phase: "before the fault" | "during the fault" | "after the heal" | "outside any step";
  /** Who fenced it, as the cluster recorded it (fenceHistory `by`), or null if not recorded. */
  by: string | null;
}

/** Whether the step's fault should get a host fenced, which one, and why (fencing mode only). */
export interface FenceExpectation {
  expected: boolean;
  reason: string;
  /** The only host the fault may get fenced (and must, when expected): its target, or in two-node mode the one its peer stops hearing. */
  node: string;
  /** Whether the fault makes `node` lost to the others (a configuration change then goes elsewhere). */
  lost: boolean;
  /** An expected fence must be done within this long of the fault (the node's fence delay included). */
  withinMs: number;
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
  /** Fencing mode: the resources (placement keys) the target held when the fault began. */
  targetHeld: string[] | null;
  /** Fencing mode: whether this fault should get its target fenced. */
  fenceExpectation: FenceExpectation | null;
  /** Fences done during this step. */
  fences: FenceRecord[];
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
  fencing: boolean;
  twoNode: boolean;
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
  /** Hosts their node guard fenced (host, step): the guard's escalation, not a failure. */
  guardFences: string[];
  /**
   * Hosts their node guard released (killed the agent, stopped what it held). On a host the
   * step's fault did not touch, it means that host's lease lapsed: load, or a defect to look at.
   */
  guardReleases: string[];
  /** Fencing mode: every fence the cluster carried out, in order. */
  fences: FenceRecord[];
  /** Fencing mode: fence_lab calls that failed (the cluster retries them), one line each. */
  failedFenceCalls: string[];
  /** Why the run stopped early, if it did. */
  aborted: string | null;
  evidenceDir: string | null;
  /** What the lab's processes logged at warn or above, newest last (bounded). */
  agentWarnings: string[];
}
