/**
 * Fences a node by running fence agents, with Pacemaker's semantics.
 *
 * Protocol (fence-agents, e.g. Debian's fence_ipmilan): the agent is started without arguments
 * and reads its parameters on stdin, one `key=value` per line (ip=, username=, password=,
 * lanplus=, ...), then `action=reboot|off|on|status|monitor` and `plug=<plug>` for a device that
 * fences several nodes; exit code 0 means the action succeeded. Parameters (passwords included)
 * travel on stdin, never on the command line where `ps` shows them. Agents are `fence_xxx`,
 * looked up in the search path (/usr/sbin, /sbin, /usr/bin), or `exec:/path` for one's own.
 *
 * Levels (fencing topology): the node's levels are tried in order (levels.ts). Within a level the
 * devices run one after another and all must succeed; the first failure ends the level and the
 * next one is tried. The first level that fully succeeds fences the node; if none does, fencing
 * failed. Like Pacemaker, a reboot on a level of several devices (say, the two power supplies of
 * one machine) is remapped to `off` on every device, then `on` on every device: rebooting them one
 * at a time would keep the machine powered throughout. The node counts as fenced once every `off`
 * succeeded; a failed `on` is reported, but does not undo that.
 *
 * Each run is bounded by the device's timeout_ms (else fencing.timeout_ms), to the millisecond:
 * the agent's whole process group gets SIGTERM shortly before and SIGKILL at the deadline
 * (killGraceFor). The environment is the runner's minimal one (PATH, LC_ALL=C). Agent failures
 * are reported as failed attempts, never thrown, each with one clean line saying why.
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../agent/clock.js";
import type { FencingConfig } from "../config/safety-schema.js";
import {
  ChildProcessRunner,
  type ProcessOutcome,
  type ProcessRunner,
} from "../resources/executor/process-runner.js";
import { cleanAgentOutput } from "./agent-output.js";
import { fenceAgentInput, fenceLevelsFor } from "./levels.js";

export type FenceAction = "reboot" | "off";

export const DEFAULT_FENCE_SEARCH_PATH: readonly string[] = ["/usr/sbin", "/sbin", "/usr/bin"];

export interface FenceAttempt {
  /** 1 for the first level. */
  level: number;
  device: string;
  /** What the agent was asked: the fence action, or off/on of a remapped reboot. */
  action: "reboot" | "off" | "on";
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
  /** Default: a ChildProcessRunner. */
  runner?: ProcessRunner;
  /** Times the attempts. */
  clock: Clock;
  /** Where `fence_xxx` agents are looked up; default DEFAULT_FENCE_SEARCH_PATH. */
  searchPath?: readonly string[];
}

export class FenceRunner {
  private readonly fencing: FencingConfig;
  private readonly runner: ProcessRunner;
  private readonly clock: Clock;
  private readonly searchPath: readonly string[];

  constructor(options: FenceRunnerOptions) {
    this.fencing = options.fencing;
    this.runner = options.runner ?? new ChildProcessRunner();
    this.clock = options.clock;
    this.searchPath = options.searchPath ?? DEFAULT_FENCE_SEARCH_PATH;
  }

  /** Runs the node's levels until one succeeds; `action` defaults to fencing.action. */
  async fence(node: string, action: FenceAction = this.fencing.action): Promise<FenceOutcome> {
    const attempts: FenceAttempt[] = [];
    const levels = fenceLevelsFor(this.fencing, node);
    for (const [index, devices] of levels.entries()) {
      const level = index + 1;
      const run = (device: string, deviceAction: FenceAttempt["action"]) =>
        this.attempt(level, device, node, deviceAction).then((attempt) => {
          attempts.push(attempt);
          return attempt.ok;
        });
      const remapped = action === "reboot" && devices.length > 1;
      let fenced = true;
      for (const device of devices) {
        if (!(await run(device, remapped ? "off" : action))) {
          fenced = false;
          break;
        }
      }
      if (!fenced) continue;
      if (remapped) {
        for (const device of devices) await run(device, "on");
      }
      return { ok: true, node, action, attempts, fencedBy: [...devices] };
    }
    return { ok: false, node, action, attempts };
  }

  /** One agent run; every failure becomes a failed attempt. */
  private async attempt(
    level: number,
    deviceName: string,
    node: string,
    action: FenceAttempt["action"],
  ): Promise<FenceAttempt> {
    const startedMs = this.clock.nowMs();
    const result = (
      fields: Pick<FenceAttempt, "ok" | "exitCode" | "timedOut" | "detail">,
    ): FenceAttempt => ({
      level,
      device: deviceName,
      action,
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
    let input: string;
    try {
      input = fenceAgentInput(device, node, action, deviceName);
    } catch (error) {
      return failed((error as Error).message);
    }
    const file = await this.resolve(device.agent);
    if (file === undefined) {
      return failed(
        `fence agent ${device.agent} not found (or not executable) in ${this.searchPath.join(", ")}`,
      );
    }
    const timeoutMs = device.timeout_ms ?? this.fencing.timeout_ms;
    const killGraceMs = killGraceFor(timeoutMs);
    let outcome: ProcessOutcome;
    try {
      outcome = await this.runner.run({
        file,
        args: [],
        stdin: input,
        timeoutMs: timeoutMs - killGraceMs,
        killGraceMs,
      });
    } catch (error) {
      return failed(`could not run ${file}: ${(error as Error).message}`);
    }
    const ok = outcome.exitCode === 0 && !outcome.timedOut && outcome.spawnError === undefined;
    return result({
      ok,
      exitCode: outcome.exitCode,
      timedOut: outcome.timedOut,
      detail: describeRun(file, timeoutMs, outcome),
    });
  }

  /** `exec:/path` is that file; `fence_xxx` is the first executable file in the search path. */
  private async resolve(agent: string): Promise<string | undefined> {
    if (agent.startsWith("exec:")) return agent.slice("exec:".length);
    for (const dir of this.searchPath) {
      const path = join(dir, agent);
      try {
        await access(path, constants.X_OK);
        if ((await stat(path)).isFile()) return path;
      } catch {
        // Not here: look in the next directory.
      }
    }
    return undefined;
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
  if (outcome.timedOut) {
    return `no answer within ${timeoutMs} ms, its process group killed${said === "" ? "" : ` (it had said: ${said})`}`;
  }
  if (outcome.exitSignal !== null) return `killed by ${outcome.exitSignal}${saying}`;
  if (outcome.exitCode !== 0) return `exit code ${outcome.exitCode}${saying}`;
  return said;
}
