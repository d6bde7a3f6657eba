import { type ChildProcess, spawn } from "node:child_process";
import type { WatchdogConfig } from "../config/safety-schema.js";
import type { Logger } from "../log/logger.js";
import { formatGuardLine, type GuardMessage } from "../watchdog/guard-protocol.js";

/** How often the guard hears the lease while resources run (a lost line only shortens it). */
const FEED_INTERVAL_MS = 100;

export interface LeaseGuardLinkOptions {
  config: WatchdogConfig;
  logger: Logger;
  /** Whether resources may run here (or are being started or stopped). */
  running(): boolean;
  /** How long this node's lease still runs (ms); null without one. */
  leaseRemainingMs(): number | null;
  /** The guard ended without being told to: this agent must not go on unguarded. */
  onGuardLost(reason: string): void;
}

/**
 * The agent's end of the lease guard (src/watchdog/guard.ts): starts `vigil guard` in a process
 * group of its own and tells it, every FEED_INTERVAL_MS, how long the lease still runs while
 * resources may run here, or that nothing runs. A hung agent stops telling it; the guard then
 * fences this node when the lease ends, before the leader can start the resources elsewhere.
 * With watchdog.device the guard also feeds that device (the agent never opens it: the guard is
 * the part that must outlive an agent hang, and the device is what outlives a guard hang).
 */
export class LeaseGuardLink {
  private child: ChildProcess | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last: GuardMessage["kind"] | null = null;
  private closing = false;

  constructor(private readonly options: LeaseGuardLinkOptions) {}

  start(): void {
    const script = process.argv[1];
    if (script === undefined)
      throw new Error("lease guard: cannot tell how this agent was started");
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        script,
        "guard",
        "--agent-pid",
        String(process.pid),
        "--action",
        this.options.config.action,
        ...(this.options.config.device === undefined
          ? []
          : ["--watchdog-device", this.options.config.device]),
      ],
      { detached: true, stdio: ["pipe", "ignore", "inherit"] },
    );
    this.child = child;
    child.stdin?.on("error", () => {});
    child.once("exit", (code, signal) => {
      this.child = null;
      if (this.closing) return;
      const reason = `the lease guard exited (code ${code ?? "none"}, signal ${signal ?? "none"})`;
      this.options.logger.fatal(reason);
      this.options.onGuardLost(reason);
    });
    this.feed();
    this.timer = setInterval(() => this.feed(), FEED_INTERVAL_MS);
    this.options.logger.info(
      { pid: child.pid, action: this.options.config.action, device: this.options.config.device },
      "lease guard started",
    );
  }

  /** A clean stop: the guard exits without fencing. */
  close(): void {
    this.closing = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.write({ kind: "bye" });
    this.child?.stdin?.end();
  }

  /**
   * Nothing runs: idle. Resources run under a lease: its end. Resources run without a lease
   * (being stopped after it was lost): nothing, so the last deadline stands and the guard fences
   * if they are not stopped by the time the lease ends.
   */
  private feed(): void {
    if (!this.options.running()) {
      if (this.last !== "idle") this.write({ kind: "idle" });
      return;
    }
    const remaining = this.options.leaseRemainingMs();
    if (remaining !== null && remaining > 0) this.write({ kind: "lease", remainingMs: remaining });
  }

  private write(message: GuardMessage): void {
    this.last = message.kind;
    this.child?.stdin?.write(formatGuardLine(message));
  }
}
