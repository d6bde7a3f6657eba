/**
 * Fences a node by running fence agents, with Pacemaker's semantics.
 *
 * Protocol (fence-agents, e.g. Debian's fence_ipmilan): the agent is started without arguments
 * and reads its parameters on stdin, one `key=value` per line (agent-input.ts: its params, then
 * `action=`, `nodename=` and the plug); exit code 0 means the action succeeded. Parameters
 * (passwords included) travel on stdin, never on the command line where `ps` shows them. Agents
 * are `fence_xxx`, looked up in the search path (/usr/sbin, /sbin, /usr/bin), or `exec:/path` for
 * one's own (fence-agents.ts).
 *
 * Levels (fencing topology): the node's levels are tried in order (levels.ts). Within a level the
 * devices run one after another and all must succeed; the first failure ends the level and the
 * next one is tried. The first level that fully succeeds fences the node; if none does, fencing
 * failed. A reboot on a level of several devices is split into `off` on each, then `on`
 * (levelSteps); the node counts as fenced once every `off` succeeded, and a failed `on` is
 * reported, but does not undo that.
 *
 * Each run is bounded by the device's timeout_ms (else fencing.timeout_ms), to the millisecond:
 * the agent's whole process group gets SIGTERM shortly before and SIGKILL at the deadline
 * (killGraceFor). The environment is the runner's minimal one (PATH, LC_ALL=C). Agent failures
 * are reported as failed attempts, never thrown, each with one clean line saying why.
 */

import type { FencingConfig } from "../config/safety-schema.js";
import type { ProcessOutcome } from "../resources/executor/process-runner.js";
import type { Clock } from "../time/clock.js";
import { type FenceAgentAction, fenceAgentInput, hostArgumentOf } from "./agent-input.js";
import { cleanAgentOutput } from "./agent-output.js";
import { FenceAgentCatalog } from "./fence-agents.js";
import { type FenceAction, type FenceStep, fenceLevelsFor, levelSteps } from "./levels.js";

/** One agent run: how it went, in one clean line. */
export interface AgentRun {
  ok: boolean;
  /** null when the agent could not be started, timed out or died from a signal. */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /**
   * One line: why it failed ("no answer within 20000 ms", "exit code 1: Failed: ...") or, on
   * success, what the agent said ("Success: Rebooted"); the agent's words cleaned of warnings.
   */
  detail: string;
}

/** One agent run of a fence: which level and device, what it was asked, how it went. */
export interface FenceAttempt extends AgentRun {
  /** 1 for the first level. */
  level: number;
  device: string;
  /** What the agent was asked: the fence action, the device's own, or off/on of a split reboot. */
  action: FenceStep["action"];
}

export interface FenceOutcome {
  ok: boolean;
  node: string;
  action: FenceAction;
  /** Every agent run, in order; empty when no device can fence the node. */
  attempts: FenceAttempt[];
  /** The devices of the level that succeeded. */
  fencedBy?: string[];
}

export interface FenceRunnerOptions {
  fencing: FencingConfig;
  /** Where agents are found and their meta-data read; default a FenceAgentCatalog. */
  agents?: FenceAgentCatalog;
  /** Times the attempts. */
  clock: Clock;
}

export class FenceRunner {
  readonly fencing: FencingConfig;
  private readonly clock: Clock;
  readonly agents: FenceAgentCatalog;

  constructor(options: FenceRunnerOptions) {
    this.fencing = options.fencing;
    this.agents = options.agents ?? new FenceAgentCatalog();
    this.clock = options.clock;
  }

  /** Runs the node's levels until one succeeds; `action` defaults to fencing.action. */
  async fence(node: string, action: FenceAction = this.fencing.action): Promise<FenceOutcome> {
    const attempts: FenceAttempt[] = [];
    const levels = fenceLevelsFor(this.fencing, node);
    for (const [index, devices] of levels.entries()) {
      const level = index + 1;
      const run = async ({ device, action: stepAction }: FenceStep) => {
        const attempt = await this.run(device, stepAction, node);
        attempts.push({ level, device, action: stepAction, ...attempt });
        return attempt.ok;
      };
      const steps = levelSteps(this.fencing, devices, action);
      let fenced = true;
      for (const step of steps.fence) {
        if (!(await run(step))) {
          fenced = false;
          break;
        }
      }
      if (!fenced) continue;
      for (const step of steps.powerOn) await run(step);
      return { ok: true, node, action, attempts, fencedBy: [...devices] };
    }
    return { ok: false, node, action, attempts };
  }

  /**
   * One agent run of device `deviceName`: `action` for `target`, or for the device itself
   * (target null: `monitor`). Every failure becomes a failed run, never an exception.
   */
  async run(
    deviceName: string,
    action: FenceAgentAction,
    target: string | null,
  ): Promise<AgentRun> {
    const startedMs = this.clock.nowMs();
    const result = (fields: Omit<AgentRun, "durationMs">): AgentRun => ({
      ...fields,
      durationMs: Math.max(0, Math.round(this.clock.nowMs() - startedMs)),
    });
    const failed = (detail: string) =>
      result({ ok: false, exitCode: null, timedOut: false, detail });

    const device = Object.hasOwn(this.fencing.devices, deviceName)
      ? this.fencing.devices[deviceName]
      : undefined;
    if (device === undefined) {
      const known = Object.keys(this.fencing.devices).join(", ") || "none";
      return failed(`no fence device named ${deviceName} (devices: ${known})`);
    }
    const timeoutMs = device.timeout_ms ?? this.fencing.timeout_ms;
    // The whole run, meta-data included (read once per agent), fits in the device's timeout.
    const agent = await this.agents.lookUp(device.agent, timeoutMs);
    if (!agent.found) return failed(agent.problem);
    const remainingMs = Math.floor(timeoutMs - (this.clock.nowMs() - startedMs));
    if (remainingMs <= 0) {
      return result({ ok: false, exitCode: null, timedOut: true, detail: noAnswer(timeoutMs) });
    }
    let input: string;
    try {
      input = fenceAgentInput(device, action, target, {
        deviceName,
        hostArgument: hostArgumentOf(agent.metadata),
      });
    } catch (error) {
      return failed((error as Error).message);
    }
    const killGraceMs = killGraceFor(remainingMs);
    let outcome: ProcessOutcome;
    try {
      outcome = await this.agents.runner.run({
        file: agent.file,
        args: [],
        stdin: input,
        timeoutMs: remainingMs - killGraceMs,
        killGraceMs,
      });
    } catch (error) {
      return failed(`could not run ${agent.file}: ${(error as Error).message}`);
    }
    const ok = outcome.exitCode === 0 && !outcome.timedOut && outcome.spawnError === undefined;
    return result({
      ok,
      exitCode: outcome.exitCode,
      timedOut: outcome.timedOut,
      detail: describeRun(agent.file, timeoutMs, outcome),
    });
  }
}

/**
 * How long an agent has between SIGTERM and SIGKILL of its process group, within its timeout: a
 * tenth of it, at most 2 s. The SIGTERM comes that much before the deadline and the SIGKILL at
 * it, so a fence never takes longer than its timeout_ms (plus the milliseconds it takes to reap
 * the process), while an agent still gets a moment to log out of its device.
 */
export function killGraceFor(timeoutMs: number): number {
  return Math.min(2_000, Math.floor(timeoutMs / 10));
}

/**
 * One line on how an agent run went, for the log, `vigil status` and the fence history: its own
 * words cleaned (agent-output.ts), after what Vigil knows for sure. A run that timed out is "no
 * answer within N ms", whatever the agent printed meanwhile (a DeprecationWarning is no reason).
 */
function describeRun(file: string, timeoutMs: number, outcome: ProcessOutcome): string {
  if (outcome.spawnError !== undefined) return `cannot run ${file}: ${outcome.spawnError.message}`;
  const said = cleanAgentOutput(outcome.stderrTail) || cleanAgentOutput(outcome.stdout);
  const saying = said === "" ? "" : `: ${said}`;
  if (outcome.timedOut)
    return `${noAnswer(timeoutMs)}${said === "" ? "" : ` (it had said: ${said})`}`;
  if (outcome.exitSignal !== null) return `killed by ${outcome.exitSignal}${saying}`;
  if (outcome.exitCode !== 0) return `exit code ${outcome.exitCode}${saying}`;
  return said;
}

function noAnswer(timeoutMs: number): string {
  return `no answer within ${timeoutMs} ms, its process group killed`;
}
