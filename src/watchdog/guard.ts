import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { getPriority } from "node:os";
import { createInterface } from "node:readline";
import { raiseSessionGroup } from "../scheduling/priority.js";
import { monotonicMs } from "../time/clock.js";
import { type GuardDecision, GuardState } from "./guard-protocol.js";
import { type ReleaseOptions, type ReleaseOutcome, releaseHeld } from "./release.js";
import { WatchdogDevice } from "./watchdog-device.js";

/**
 * The node guard (the edge around GuardState, guard-protocol.ts): it keeps what this node holds
 * from outliving its agent while another node takes over.
 *
 * Why a separate process: what the agent starts (a VIP in the kernel, a service in a process
 * group of its own) does not end with the agent. When the agent dies (SIGKILL, the OOM killer, a
 * crash) or hangs (SIGSTOP, a stuck event loop, a VM pause of the agent alone), the leader starts
 * its resources elsewhere once its lease has surely ended. The guard does not depend on the
 * agent's event loop: the agent feeds it lines over a pipe (`vigil guard`'s stdin) — what it
 * holds and how to stop each, its lease, signs of life — and when the pipe closes without `bye`,
 * or the agent falls silent for `hangMs` (or half of it, with the lease about to end while
 * something is held), the guard:
 *
 * 1. SIGKILLs the agent's process group (`kill(-agentPid)`), then the agent itself (it may not
 *    lead a group); a process already gone (ESRCH) is fine. SIGKILL ends a stopped process too,
 *    so a paused agent cannot wake up and act on what the cluster has moved on from.
 * 2. Stops every held resource with the agent's own stop request (release.ts), newest first,
 *    within what is left of the lease, and exits {@link GUARD_EXIT_RELEASED}: the service manager
 *    starts a new agent, whose probe finds everything stopped.
 * 3. Only if a stop fails or is still running at the lease's end and its grace (pastLeaseGraceMs):
 *    runs the self-fence action (`action`, an argv;
 *    e.g. `systemctl reboot --force --force`), waits for it (at most `actionTimeoutMs`, then
 *    SIGKILLs its process group), and returns {@link GUARD_EXIT_FENCED} (with a watchdog device
 *    it waits for the reset instead).
 *
 * How the agent must start it:
 *
 * * **In its own process group** (spawn with `detached: true`, i.e. setsid), so that killing the
 *   agent's group does not kill the guard. The guard checks /proc/self/stat at start and refuses
 *   to run inside the agent's group ({@link GUARD_EXIT_REFUSED}). Its own session also keeps a
 *   terminal's Ctrl-C away from it. It asks the kernel never to pick it for an OOM kill.
 * * With stdin a pipe whose only writer is the agent (Node's spawn pipes are close-on-exec, so
 *   the agent's children do not hold it open): the pipe's EOF is how the guard learns the agent
 *   died.
 * * With stderr somewhere that outlives the agent (inherit the agent's stderr, i.e. the journal),
 *   and the agent should treat the guard's exit as fatal: an unguarded agent must not hold a
 *   lease.
 *
 * With a watchdog device (`watchdogDevice`, watchdog-device.ts) the guard feeds it while it
 * watches and while it releases, stops feeding the moment it decides to fence, and then keeps it
 * open, unfed, until the machine resets: a fence ends in a reset even if the action failed or
 * hung. A clean end (`bye`, a release, or the agent gone while nothing ran) disarms it with the
 * magic close.
 *
 * Limits: the guard is itself a user-space process: if the whole machine stalls, or the guard is
 * stopped too, it acts late or never; a hardware watchdog (the device above) covers that, and
 * systemd's WatchdogSec (systemd-watchdog.ts) covers an agent hung while nothing runs. Times
 * count from when the guard reads a line, so a line's time in the pipe lengthens them by that
 * much; lines carry the time they were written, so a guard that was not
 * scheduled for a while does not take the agent for hung. The agent's PID is not pinned (Node has no pidfd): acting at once
 * on EOF keeps the window in which the PID could be reused by another process negligible.
 */

/** `bye`, or the agent gone while nothing ran: nothing was done. */
export const GUARD_EXIT_CLEAN = 0;
/** Bad options, or started inside the agent's process group: the guard never ran. */
export const GUARD_EXIT_REFUSED = 2;
/** The guard fenced this node (killed the agent, ran the action). */
export const GUARD_EXIT_FENCED = 3;
/** The agent died or hung; the guard killed it and stopped everything it held, in time. */
export const GUARD_EXIT_RELEASED = 4;

/** How long the self-fence action may run (then its process group is SIGKILLed). */
export const DEFAULT_ACTION_TIMEOUT_MS = 30_000;

export interface GuardOptions {
  /** The agent's PID (> 1); its process group is killed too, if it leads one. */
  agentPid: number;
  /** argv of the self-fence command; [] = only kill the agent. */
  action: string[];
  /** Where the agent's lines arrive (the guard's stdin). */
  input: NodeJS.ReadableStream;
  /** Receives one JSON object per line (no newline). */
  log: (line: string) => void;
  /** Silence from a guarding agent after which it counts as hung; null/undefined: never. */
  hangMs?: number | null;
  /** This node's name, passed to the agents that stop what the agent held. */
  nodeName?: string;
  /** CLOCK_MONOTONIC ms, the clock the agent stamps its lines with; default monotonicMs(). */
  clock?: () => number;
  /** Default {@link DEFAULT_ACTION_TIMEOUT_MS}. */
  actionTimeoutMs?: number;
  /** A watchdog device to feed (e.g. /dev/watchdog); with one, a fence never returns. */
  watchdogDevice?: string;
  /** Stops what the agent held (default: releaseHeld with the real agents). */
  release?: (options: ReleaseOptions) => Promise<ReleaseOutcome>;
}

type Level = "info" | "warn" | "error";
type FinalDecision = Exclude<GuardDecision, { kind: "watch" }>;
type Log = (level: Level, msg: string, fields?: Record<string, unknown>) => void;

/** At most this many malformed lines are logged one by one. */
const BAD_LINES_LOGGED = 20;
/** At most this much of the action's output is logged. */
const ACTION_OUTPUT_CHARS = 4096;
/** How long after the action's exit its output may still arrive. */
const OUTPUT_GRACE_MS = 200;

/**
 * Runs the guard until `bye`, the agent's exit while idle, a release or a fence; resolves with
 * the exit code, except after a fence with a watchdog device: it then waits for the reset (never
 * resolves).
 */
export async function runGuard(options: GuardOptions): Promise<number> {
  const clock = options.clock ?? monotonicMs;
  const { agentPid, action } = options;
  const log: Log = (level, msg, fields = {}) => {
    try {
      options.log(
        JSON.stringify({
          time: new Date().toISOString(),
          level,
          component: "lease-guard",
          pid: process.pid,
          agentPid,
          msg,
          ...fields,
        }),
      );
    } catch {
      // A log that cannot be written must not stop the guard.
    }
  };

  if (!Number.isSafeInteger(agentPid) || agentPid <= 1 || agentPid === process.pid) {
    // kill(-1) would signal every process we may signal; kill(-0) our own group.
    log("error", `refusing to guard PID ${agentPid}: not another process's PID`);
    return GUARD_EXIT_REFUSED;
  }
  if (ownProcessGroup() === agentPid) {
    log(
      "error",
      "refusing to run in the agent's process group: fencing would kill the guard first (start it detached)",
    );
    return GUARD_EXIT_REFUSED;
  }
  shieldFromOomKiller(log);
  keepTheAgentsPriority(log);

  const device = await openDevice(options.watchdogDevice, log);
  if (device === "failed") return GUARD_EXIT_REFUSED;

  log("info", "guarding the agent", { action, hangMs: options.hangMs ?? null });
  const state = new GuardState({ hangMs: options.hangMs ?? null });
  // The device is fed while the guard watches (it runs, so it will act on time), and while it
  // releases within the lease; not once it decided to fence, nor while releasing past the lease.
  let feedUntil: () => number | null = () => null;
  let feeding = true;
  device?.feedWhile(() => {
    const until = feedUntil();
    return feeding && (until === null || clock() < until);
  });
  const decision = await watch(options.input, clock, log, state);
  if (decision.kind === "release") {
    const releaseBy = decision.releaseByMs;
    feedUntil = () => releaseBy ?? Number.NEGATIVE_INFINITY;
  }

  if (decision.kind === "exit") {
    log("info", `exiting: ${decision.reason}`, { cause: decision.cause });
    await device?.disarm();
    return GUARD_EXIT_CLEAN;
  }
  log("error", `releasing this node: ${decision.reason}`, {
    cause: decision.cause,
    held: decision.held.map((resource) => resource.key),
  });
  killAgent(agentPid, log);
  const release = options.release ?? releaseHeld;
  const outcome = await release({
    held: decision.held,
    releaseByMs: decision.releaseByMs,
    ...(options.nodeName === undefined ? {} : { nodeName: options.nodeName }),
    clock,
    log,
  }).catch((error: unknown) => ({ ok: false, problems: [`release failed: ${String(error)}`] }));
  if (outcome.ok) {
    log("warn", "released: the agent is gone and nothing it held runs here any more", {
      cause: decision.cause,
      stopped: decision.held.map((resource) => resource.key),
    });
    feeding = false;
    await device?.disarm();
    return GUARD_EXIT_RELEASED;
  }
  // First of all: from here on, only the action (or the reset) keeps the node from running
  // what the leader may start elsewhere.
  feeding = false;
  device?.stopFeeding();
  log("error", `fencing this node: ${outcome.problems.join("; ")}`, { cause: decision.cause });
  if (action.length > 0) {
    await runAction(action, options.actionTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS, log);
  }
  log("error", "fenced", { cause: decision.cause });
  if (device !== null) return device.holdUntilReset();
  return GUARD_EXIT_FENCED;
}

/** Opens (arms) the watchdog device, if any; "failed" after logging why. */
async function openDevice(
  path: string | undefined,
  log: Log,
): Promise<WatchdogDevice | null | "failed"> {
  if (path === undefined) return null;
  try {
    const device = await WatchdogDevice.open(path, log);
    log("info", "opened the watchdog device: it resets this machine unless fed", {
      device: path,
      timeoutSeconds: device.timeoutSeconds ?? "unknown (the driver's; not in sysfs)",
      feedIntervalMs: device.feedIntervalMs,
    });
    return device;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === "EBUSY"
        ? " (another process holds it: watchdog(8), or systemd's RuntimeWatchdogSec=)"
        : "";
    log("error", `cannot use the watchdog device ${path}: ${String(error)}${hint}`);
    return "failed";
  }
}

/**
 * The guard inherits the agent's raised niceness (src/scheduling/priority.ts) but starts a session
 * of its own, whose group the kernel weighs at niceness 0 against the others: it takes the
 * agent's for that group too, so that a busy host delays it no more than the agent it guards.
 */
function keepTheAgentsPriority(log: Log): void {
  const nice = getPriority();
  if (nice >= 0) return;
  const notRaised = raiseSessionGroup(nice);
  if (notRaised !== null) log("warn", notRaised);
}

/**
 * The OOM killer must take the agent, never its guard: the guard is what acts when the agent is
 * taken. -1000 exempts it (root only; elsewhere the attempt is logged and the guard goes on).
 */
function shieldFromOomKiller(log: Log): void {
  try {
    writeFileSync("/proc/self/oom_score_adj", "-1000");
  } catch (error) {
    log("warn", `cannot exempt the guard from the OOM killer: ${String(error)}`);
  }
}

/**
 * Reads lines and keeps one timer at the next moment the state must look again, until it decides
 * to release or exit.
 */
function watch(
  input: NodeJS.ReadableStream,
  clock: () => number,
  log: Log,
  state: GuardState,
): Promise<FinalDecision> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    let badLines = 0;
    let guarding = false;
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });

    const follow = (decision: GuardDecision): void => {
      if (settled) return;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (decision.kind !== "watch") {
        settled = true;
        lines.close();
        resolve(decision);
        return;
      }
      const wakeAt = decision.wakeAtMs;
      if (wakeAt !== null) {
        // Timers may fire a fraction of a ms early against performance.now(): check() then
        // answers "watch" again and the timer is armed for the rest. The look is taken after the
        // event loop's poll phase (setImmediate), so lines that waited in the pipe while the
        // guard itself was not scheduled are read first: its own stall is not the agent's.
        timer = setTimeout(
          () => {
            timer = null;
            setImmediate(() => follow(state.check(clock())));
          },
          Math.max(0, Math.ceil(wakeAt - clock())),
        );
      }
      if (state.guarding !== guarding) {
        guarding = state.guarding;
        log(
          "info",
          guarding ? "the agent holds resources or a lease" : "the agent is idle (nothing runs)",
        );
      }
    };

    lines.on("line", (line) => {
      if (settled) return;
      const result = state.input(line, clock());
      if (result.error !== undefined) {
        badLines++;
        if (badLines <= BAD_LINES_LOGGED) {
          log("warn", `ignored a malformed line: ${result.error}`, {
            note:
              badLines === BAD_LINES_LOGGED ? "further malformed lines are not logged" : undefined,
          });
        }
      }
      follow(result);
    });
    lines.on("close", () => follow(state.eof(clock())));
    input.on("error", (error: Error) => {
      if (settled) return;
      log("warn", `reading from the agent failed: ${error.message}`);
      follow(state.eof(clock()));
    });
  });
}

function killAgent(agentPid: number, log: Log): void {
  const outcome: Record<string, string> = {};
  for (const [what, target] of [
    ["group", -agentPid],
    ["process", agentPid],
  ] as const) {
    try {
      process.kill(target, "SIGKILL");
      outcome[what] = "killed";
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      outcome[what] = code === "ESRCH" ? "gone" : `failed: ${code}`;
    }
  }
  const failed = Object.values(outcome).some((value) => value.startsWith("failed"));
  log(failed ? "error" : "info", "sent SIGKILL to the agent", outcome);
}

function runAction(argv: string[], timeoutMs: number, log: Log): Promise<void> {
  return new Promise((resolve) => {
    const [command, ...args] = argv as [string, ...string[]];
    let output = "";
    let timedOut = false;
    const started = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        stdio: ["ignore", "pipe", "pipe"],
        // Its own group, so that a timeout kills whatever it started too.
        detached: true,
      });
    } catch (error) {
      // Invalid arguments (a NUL byte) throw at once; a missing command arrives as "error".
      log("error", "self-fence action finished", { action: argv, error: String(error) });
      resolve();
      return;
    }
    const collect = (chunk: Buffer): void => {
      if (output.length < ACTION_OUTPUT_CHARS) output += chunk.toString("utf8");
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    }, timeoutMs);
    let done = false;
    const finish = (fields: Record<string, unknown>, ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Do not wait for pipes that something the action started may still hold open.
      child.stdout?.destroy();
      child.stderr?.destroy();
      log(ok ? "info" : "error", "self-fence action finished", {
        action: argv,
        ms: Math.round(performance.now() - started),
        output: output.slice(0, ACTION_OUTPUT_CHARS).trimEnd() || undefined,
        ...fields,
      });
      resolve();
    };
    child.on("error", (error) => finish({ error: error.message }, false));
    child.on("exit", (code, signal) => {
      const fields = { exitCode: code, signal: signal ?? undefined, timedOut };
      const ok = code === 0 && !timedOut;
      // Its output usually ends with it ("close"); a daemon it started may hold the pipes open.
      child.on("close", () => finish(fields, ok));
      setTimeout(() => finish(fields, ok), OUTPUT_GRACE_MS);
    });
  });
}

/** This process's group (Linux /proc), or null if unknown. */
function ownProcessGroup(): number | null {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    // "pid (comm) state ppid pgrp ...": comm may contain blanks and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const group = Number(fields[2]);
    return Number.isSafeInteger(group) ? group : null;
  } catch {
    return null;
  }
}
