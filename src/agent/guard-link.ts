import { type ChildProcess, spawn } from "node:child_process";
import { type EventLoopUtilization, PerformanceObserver, performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import type { WatchdogConfig } from "../config/safety-schema.js";
import type { Logger } from "../log/logger.js";
import { monotonicMs } from "../time/clock.js";
import { GuardFeed } from "../watchdog/guard-feed.js";
import {
  formatGuardLine,
  type GuardMessage,
  type HeldResource,
  leaseQuietMs,
} from "../watchdog/guard-protocol.js";

/** The guard's entry point (src/cli/guard-main.ts): compiled (.js) or run from source (.ts, tsx). */
const GUARD_ENTRY = fileURLToPath(
  new URL(`../cli/guard-main${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url),
);

/** The longest pause between lines while the node holds something (a lost line only shortens it). */
const MAX_FEED_INTERVAL_MS = 100;

export interface NodeGuardLinkOptions {
  config: WatchdogConfig;
  logger: Logger;
  /** This node's name, for the agents the guard runs. */
  nodeName: string;
  /** Silence after which the guard takes this agent for hung (guard-protocol.ts). */
  hangMs: number;
  /** Whether resources may run here (or are being started or stopped). */
  running(): boolean;
  /** What may run here and how to stop each (LocalResources.heldResources). */
  held(): HeldResource[];
  /** Whether an operation on this key is running now: it stays held until it ends. */
  busy(key: string): boolean;
  /** How long this node's lease still runs (ms); null without one. */
  leaseRemainingMs(): number | null;
  /** The guard ended without being told to: this agent must not go on unguarded. */
  onGuardLost(reason: string): void;
}

/**
 * The agent's end of the node guard (src/watchdog/guard.ts): starts `vigil guard` in a process
 * group of its own and keeps it told what may run here and how to stop it, how long the lease
 * runs, and that the agent is alive — a line at least every quarter of the guard's hang time
 * while anything may run here. When the agent dies or hangs, the guard stops what it was told;
 * when that fails, it fences this node. With watchdog.device the guard also feeds that device
 * (the agent never opens it: the guard is the part that must outlive an agent hang, and the
 * device is what outlives a guard hang).
 */
export class NodeGuardLink {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly feeder = new GuardFeed();
  private closing = false;
  private lastFeedAtMs: number | null = null;
  /** The event loop's and the process's CPU use at the last feed, to tell a stall's kind. */
  private lastFeedLoad: {
    loop: EventLoopUtilization;
    usage: NodeJS.ResourceUsage;
    gcMs: number;
  } | null = null;
  /** Time spent in garbage collection since start (its pauses are a stall's usual suspect). */
  private gcMs = 0;
  private readonly gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) this.gcMs += entry.duration;
  });

  constructor(private readonly options: NodeGuardLinkOptions) {}

  start(): void {
    const { config } = this.options;
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        GUARD_ENTRY,
        "--agent-pid",
        String(process.pid),
        "--hang-ms",
        String(this.options.hangMs),
        "--node",
        this.options.nodeName,
        "--action",
        config.action,
        ...(config.device === undefined ? [] : ["--watchdog-device", config.device]),
      ],
      { detached: true, stdio: ["pipe", "ignore", "inherit"] },
    );
    this.child = child;
    child.stdin?.on("error", () => {});
    child.once("exit", (code, signal) => {
      this.child = null;
      if (this.closing) return;
      const reason = `the node guard exited (code ${code ?? "none"}, signal ${signal ?? "none"})`;
      this.options.logger.fatal(reason);
      this.options.onGuardLost(reason);
    });
    this.gcObserver.observe({ entryTypes: ["gc"] });
    this.feed();
    const interval = Math.max(
      1,
      Math.min(MAX_FEED_INTERVAL_MS, Math.floor(this.options.hangMs / 4)),
    );
    this.timer = setInterval(() => this.feed(), interval);
    this.options.logger.info(
      { pid: child.pid, action: config.action, device: config.device, hangMs: this.options.hangMs },
      "node guard started",
    );
  }

  /** The guard's process, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** A resource is about to be started or promoted here: the guard hears of it first. */
  hold(resource: HeldResource): void {
    this.write(this.feeder.hold(resource, this.options.leaseRemainingMs(), monotonicMs()));
  }

  /** The agent stops: `bye` when nothing is left here (GuardFeed.close), then the pipe closes. */
  close(): void {
    this.closing = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.gcObserver.disconnect();
    this.write(this.feeder.close(this.options.held(), this.options.running()));
    this.child?.stdin?.end();
  }

  /** What is held and the lease, as they are now (GuardFeed.feed). */
  private feed(): void {
    this.noticeStall();
    const { options } = this;
    this.write(
      this.feeder.feed(
        {
          held: options.held(),
          busy: (key) => options.busy(key),
          running: options.running(),
          leaseRemainingMs: options.leaseRemainingMs(),
        },
        monotonicMs(),
      ),
    );
  }

  /**
   * An agent that was not running for a while is what the guard takes for hung; the log tells
   * an operator (or a test) that this agent was close to it, or why its guard acted.
   */
  private noticeStall(): void {
    const now = monotonicMs();
    const last = this.lastFeedAtMs;
    const loop = performance.eventLoopUtilization();
    const usage = process.resourceUsage();
    const gcMs = this.gcMs;
    const before = this.lastFeedLoad;
    this.lastFeedAtMs = now;
    this.lastFeedLoad = { loop, usage, gcMs };
    // Half the hang time: well before the guard takes a silent agent for hung (guard-protocol.ts).
    if (last === null || before === null || now - last < this.options.hangMs / 2) return;
    // Which of the two it was: the process's CPU time over the gap near the gap itself means the
    // agent was busy (a long task, garbage collection); far below it, that it was not given the
    // CPU (a starved host) or waited in a blocking call.
    const cpuMicros = (u: NodeJS.ResourceUsage) => u.userCPUTime + u.systemCPUTime;
    const silentMs = Math.round(now - last);
    this.options.logger.warn(
      {
        silentMs,
        hangMs: this.options.hangMs,
        cpuMs: Math.round((cpuMicros(usage) - cpuMicros(before.usage)) / 1000),
        loopBusyMs: Math.round(performance.eventLoopUtilization(loop, before.loop).active),
        gcMs: Math.round(gcMs - before.gcMs),
        // Reads from disk to page memory back in (a page evicted while the agent did not use
        // it), sleeps in blocking calls, and preemptions by other processes.
        majorFaults: usage.majorPageFault - before.usage.majorPageFault,
        blockedSwitches: usage.voluntaryContextSwitches - before.usage.voluntaryContextSwitches,
        preemptions: usage.involuntaryContextSwitches - before.usage.involuntaryContextSwitches,
      },
      `the agent did not run for ${silentMs} ms (a blocked event loop or a starved CPU); its node guard takes it for hung after ${this.options.hangMs} ms, or after ${leaseQuietMs(this.options.hangMs)} ms when its lease ends`,
    );
  }

  private write(messages: readonly GuardMessage[]): void {
    const atMs = monotonicMs();
    for (const message of messages) this.child?.stdin?.write(formatGuardLine(atMs, message));
  }
}
