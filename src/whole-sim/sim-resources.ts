import type { RunRole } from "../policy/types.js";
import {
  OCF_ERR_GENERIC,
  OCF_NOT_RUNNING,
  OCF_RUNNING_PROMOTED,
  OCF_SUCCESS,
  type OcfExitCode,
} from "../resources/agents/ocf-codes.js";
import type {
  OperationOutcome,
  OperationRequest,
  OperationResult,
  OperationRunner,
} from "../resources/executor/operation.js";
import type { SeededRandom } from "../sim/random.js";
import type { SimDatabase } from "./sim-database.js";
import type { ProcessTime, World } from "./world.js";

/** How often simulated agents misbehave, per operation (the simulation sets them to 0 at the heal). */
export interface AgentFaultRates {
  /** A start fails cleanly (nothing left running). */
  startFails: number;
  /** A start hangs past its timeout: it is killed, and what it began may be left running. */
  startHangs: number;
}

/** What scenario 2 adds to a host's simulated agents. */
export interface SimResourceExtras {
  /** The replicated database of the promotable clone: offsets, and monitors that report them. */
  database?: SimDatabase;
  /** The agent (not its guard) ran an operation that found `key` stopped here (stop, probe). */
  onAgentSawStopped?(host: string, key: string, operation: "stop" | "monitor"): void;
}

/**
 * The resources of one simulated host, as its resource agents would find them: what runs here
 * and in which role. It outlives agent runs (a killed agent leaves its resources running) and
 * is emptied only by a power-off. Every change is reported, for the checkers.
 */
/** A clone's copy key: "CLONE:N", or "CLONE:N/MEMBER" for a member of a cloned group. */
const CLONE_COPY = /^(.+):(\d+)(\/.+)?$/;

export class SimHostResources {
  /** Key → role, from the moment a start begins until a stop ends (what a client could reach). */
  private readonly active = new Map<string, RunRole>();
  /**
   * Keys whose start ended successfully and that no stop has begun on since: what the agent
   * was told runs here (a service may have died since, unknown to it until a monitor).
   */
  private readonly ready = new Set<string>();

  constructor(
    readonly host: string,
    private readonly world: World,
    private readonly random: SeededRandom,
    private readonly faults: AgentFaultRates,
    private readonly onChange: (host: string, key: string, role: RunRole | null) => void,
    private readonly trace: (line: string) => void = () => {},
    /** An operation begins here (the checkers look at what runs at that moment). */
    private readonly onBegin: (host: string, key: string, operation: string) => void = () => {},
    private readonly extras: SimResourceExtras = {},
  ) {}

  /** Whether `key` was started here successfully and no stop has begun since. */
  isReady(key: string): boolean {
    return this.ready.has(key);
  }

  /** What runs here now. */
  running(): ReadonlyMap<string, RunRole> {
    return this.active;
  }

  /** The host lost power: nothing runs any more. */
  powerOff(): void {
    for (const key of [...this.active.keys()]) this.set(key, null);
    this.ready.clear();
  }

  /** A resource dies on its own (a crashed service): its next monitor finds it stopped. */
  kill(key: string): void {
    if (this.active.has(key)) this.set(key, null);
  }

  /**
   * A runner for one process (an agent run, a guard): operations end on that process's time,
   * effects stay on the host. `agent`: the agent's own, whose results it reports.
   */
  runnerFor(time: ProcessTime, agent = false): OperationRunner {
    return { run: (key, request, cancel) => this.run(time, agent, key, request, cancel) };
  }

  private run(
    time: ProcessTime,
    agent: boolean,
    key: string,
    request: OperationRequest,
    cancel?: AbortSignal,
  ): Promise<OperationResult> {
    const startedAtMs = this.world.nowMs();
    // As the agent's clock reads it (clocks drift in scenario 2).
    const startedAtAgentMs = time.nowMs();
    const { operation, timeoutMs } = request;
    this.onBegin(this.host, key, operation);
    if (operation === "stop") this.ready.delete(key);
    let durationMs: number;
    let outcome: OperationOutcome;
    let after: () => void = () => {};
    switch (operation) {
      case "start": {
        this.set(key, "started");
        durationMs = this.random.int(5, 200);
        if (this.random.chance(this.faults.startHangs)) {
          durationMs = timeoutMs;
          outcome = "timeout";
          // Half the hung starts had got the service up before they were killed.
          if (this.random.chance(0.5)) after = () => this.set(key, null);
        } else if (this.random.chance(this.faults.startFails)) {
          outcome = "failed";
          after = () => this.set(key, null);
        } else {
          outcome = "success";
          after = () => this.ready.add(key);
        }
        break;
      }
      case "stop":
        durationMs = this.random.int(5, 100);
        outcome = "success";
        after = () => this.set(key, null);
        break;
      case "promote":
        durationMs = this.random.int(5, 100);
        outcome = this.active.has(key) ? "success" : "failed";
        after = () => {
          if (this.active.has(key)) this.set(key, "promoted");
        };
        break;
      case "demote":
        durationMs = this.random.int(5, 100);
        outcome = this.active.has(key) ? "success" : "failed";
        after = () => {
          if (this.active.has(key)) this.set(key, "started");
        };
        break;
      case "monitor":
        durationMs = this.random.int(1, 20);
        outcome = "running";
        break;
      case "notify":
        // No randomness drawn: a seed without notifications runs as it did before they existed.
        durationMs = 5;
        outcome = this.active.has(key) ? "success" : "failed";
        break;
      case "meta-data":
        durationMs = 1;
        outcome = "success";
        break;
    }
    if (durationMs > timeoutMs) {
      // Killed at its timeout: what it was doing did not finish.
      durationMs = timeoutMs;
      if (outcome !== "timeout") after = () => {};
      outcome = "timeout";
    }
    return new Promise((resolve) => {
      let ended = false;
      const finish = (
        result: Omit<OperationResult, "resourceId" | "operation" | "startedAtMs">,
      ) => {
        if (ended) return;
        ended = true;
        time.run(() =>
          resolve({ resourceId: key, operation, startedAtMs: startedAtAgentMs, ...result }),
        );
      };
      // Cancelled: its processes are killed now; whatever it had started stays as it was.
      cancel?.addEventListener(
        "abort",
        () => {
          this.trace(`${this.host} ${key} ${operation} cancelled`);
          finish({
            outcome: "timeout",
            exitCode: OCF_ERR_GENERIC,
            severity: "soft",
            durationMs: this.world.nowMs() - startedAtMs,
            stderrTail: "",
          });
        },
        { once: true },
      );
      // The agent's child process finishes whether or not the agent still waits for it.
      this.world.at(startedAtMs + durationMs, () => {
        if (ended) return;
        after();
        if (operation !== "monitor")
          this.trace(`${this.host} ${key} ${operation} ended: ${outcome} after ${durationMs} ms`);
        let promotionScore: number | undefined;
        let offsetRead: Pick<OperationResult, "replicationOffset" | "replicationOffsetProblem"> =
          {};
        if (operation === "monitor" && outcome !== "timeout") {
          const found = this.serviceKeyOf(key);
          const role = found === undefined ? undefined : this.active.get(found);
          outcome =
            role === undefined
              ? "not_running"
              : role === "promoted"
                ? "running_promoted"
                : "running";
          if (found !== undefined) {
            const database = this.extras.database;
            if (request.replicationOffset === undefined) {
              promotionScore = database?.scoreOf(this.host, found);
            } else {
              // Scenario 4: the agent's score says nothing of data; the offset is read apart.
              promotionScore = database?.agentScoreOf(this.host, found);
              const offset = database?.readOffset(this.host, found);
              if (promotionScore !== undefined)
                offsetRead =
                  offset === undefined
                    ? { replicationOffsetProblem: "the command printed no offset" }
                    : { replicationOffset: offset };
            }
            if (agent && !time.isEnded) database?.monitored(this.host, found);
          }
        }
        const sawStopped =
          (operation === "stop" && outcome === "success") || outcome === "not_running";
        // Only a run still alive reports what it saw.
        if (agent && sawStopped && !time.isEnded)
          this.extras.onAgentSawStopped?.(
            this.host,
            key,
            operation === "stop" ? "stop" : "monitor",
          );
        finish({
          ...(promotionScore !== undefined ? { promotionScore } : {}),
          ...offsetRead,
          outcome,
          exitCode: exitCodeOf(outcome),
          ...(outcome === "failed" || outcome === "timeout" ? { severity: "soft" as const } : {}),
          durationMs,
          stderrTail: "",
        });
      });
    });
  }

  /**
   * What a monitor of `key` finds: the key itself, or for a clone's copy any copy of that clone
   * running here. A host runs one instance of a cloned service whatever its copy number, and its
   * agent finds it so (a probe looks with the first copy's key): a new agent run's probe while
   * the previous run's guard still stops copy 1 finds the service running.
   */
  private serviceKeyOf(key: string): string | undefined {
    if (this.active.has(key)) return key;
    const copy = CLONE_COPY.exec(key);
    if (copy === null) return undefined;
    for (const other of this.active.keys()) {
      const match = CLONE_COPY.exec(other);
      if (match !== null && match[1] === copy[1] && match[3] === copy[3]) return other;
    }
    return undefined;
  }

  private set(key: string, role: RunRole | null): void {
    const was = this.active.get(key) ?? null;
    if (was === role) return;
    if (role === null) this.active.delete(key);
    else this.active.set(key, role);
    this.extras.database?.roleChanged(this.host, key, was, role);
    this.onChange(this.host, key, role);
  }
}

function exitCodeOf(outcome: OperationOutcome): OcfExitCode {
  switch (outcome) {
    case "success":
    case "running":
      return OCF_SUCCESS;
    case "running_promoted":
      return OCF_RUNNING_PROMOTED;
    case "not_running":
      return OCF_NOT_RUNNING;
    case "failed":
    case "timeout":
      return OCF_ERR_GENERIC;
  }
}
