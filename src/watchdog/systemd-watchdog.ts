import { readFileSync } from "node:fs";
import type { Logger } from "../log/logger.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { type SdNotifyResult, sdNotify, watchdogIntervalMs } from "./systemd-notify.js";

/** The variables systemd sets for a Type=notify service with WatchdogSec=. */
const SYSTEMD_VARIABLES = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;
const CAP_SYS_ADMIN = 21;
/** A failing notify socket is logged once, then at most once per this window. */
const FAILURE_LOG_WINDOW_MS = 60_000;
/** systemd keeps STATUS= short in `systemctl status`; so do we. */
const MAX_STATUS_CHARS = 200;

let takenFromProcess: NodeJS.ProcessEnv | null = null;

/**
 * Moves systemd's variables out of process.env (once per process; later calls get the same
 * copy), as sd_notify(3)'s unset_environment does: resources and the lease guard inherit this
 * environment, and a resource that found $NOTIFY_SOCKET could ping the agent's watchdog or claim
 * READY for it (with NotifyAccess=all), or fill the journal with rejected messages (main).
 */
export function takeSystemdEnvironment(): NodeJS.ProcessEnv {
  if (takenFromProcess === null) {
    const taken: NodeJS.ProcessEnv = {};
    for (const name of SYSTEMD_VARIABLES) {
      if (process.env[name] !== undefined) taken[name] = process.env[name];
      delete process.env[name];
    }
    takenFromProcess = taken;
  }
  return takenFromProcess;
}

/** Whether a /proc/PID/status text grants the capability in its effective set. Pure. */
export function hasEffectiveCapability(procStatus: string, capability: number): boolean {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(procStatus);
  if (match === null) return false;
  return ((BigInt(`0x${match[1]}`) >> BigInt(capability)) & 1n) === 1n;
}

function mayNotifyAsThisProcess(): boolean {
  try {
    return hasEffectiveCapability(readFileSync("/proc/self/status", "utf8"), CAP_SYS_ADMIN);
  } catch {
    return false;
  }
}

export interface SystemdWatchdogOptions {
  logger: Logger;
  /** systemd's variables, from takeSystemdEnvironment(). */
  systemdEnv: NodeJS.ProcessEnv;
  /** One short line for `systemctl status` (sent when it changes, with a ping). */
  status(): string;
  /** Default process.pid ($WATCHDOG_PID must name it). */
  pid?: number;
  /** Default sdNotify. */
  send?: typeof sdNotify;
  /** Default: whether this process has CAP_SYS_ADMIN (see SdNotifyOptions.noBlock). */
  noBlock?: boolean;
}

/**
 * The agent's side of systemd's Type=notify and WatchdogSec=: READY=1 once the agent is up,
 * WATCHDOG=1 from the agent's own event loop at half of WatchdogSec (so a hung agent sends none
 * and systemd kills and restarts it), STATUS= when it changes, STOPPING=1 on a clean stop.
 * Without $NOTIFY_SOCKET (not run by systemd) it does nothing. Sending is asynchronous (a
 * systemd-notify process per message), never throws, and one ping at a time: a ping due while
 * the previous one is still being sent is skipped.
 */
export class SystemdWatchdog {
  private readonly socket: string | undefined;
  private readonly intervalMs: number | null;
  private readonly noBlock: boolean;
  private readonly failureLog = new RateLimiter(FAILURE_LOG_WINDOW_MS);
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private lastStatus: string | null = null;
  private failing = false;
  private readied = false;

  constructor(private readonly options: SystemdWatchdogOptions) {
    const env = options.systemdEnv;
    this.socket = env.NOTIFY_SOCKET === "" ? undefined : env.NOTIFY_SOCKET;
    this.intervalMs = watchdogIntervalMs(env, options.pid ?? process.pid);
    this.noBlock = options.noBlock ?? mayNotifyAsThisProcess();
  }

  /** Whether systemd listens (Type=notify). */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** The agent is up: READY=1 with its status, then a WATCHDOG=1 every interval. */
  ready(): void {
    if (!this.enabled || this.readied) return;
    this.readied = true;
    const status = this.currentStatus();
    this.lastStatus = status;
    void this.send(["READY=1", `STATUS=${status}`]);
    if (this.intervalMs !== null) {
      this.timer = setInterval(() => this.ping(), this.intervalMs);
      this.timer.unref();
    }
    this.options.logger.info(
      {
        watchdogPingMs: this.intervalMs,
        sendAs: this.noBlock ? "agent (NotifyAccess=main)" : "systemd-notify (NotifyAccess=all)",
      },
      "notifying systemd: READY=1, then watchdog pings",
    );
  }

  /** A clean stop has begun (pings go on until close: the hand-over may take a while). */
  stopping(reason: string): void {
    if (!this.readied) return;
    void this.send(["STOPPING=1", `STATUS=${clip(`stopping: ${reason}`)}`]);
  }

  /** No more pings; waits for the message being sent, if any. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  private ping(): void {
    // The previous message is still on its way: this ping adds nothing but another process.
    if (this.inFlight !== null) return;
    const fields = ["WATCHDOG=1"];
    const status = this.currentStatus();
    if (status !== this.lastStatus) {
      this.lastStatus = status;
      fields.push(`STATUS=${status}`);
    }
    void this.send(fields);
  }

  private currentStatus(): string {
    try {
      return clip(this.options.status());
    } catch (error) {
      return clip(`status unavailable: ${String(error)}`);
    }
  }

  private send(fields: string[]): Promise<void> {
    const previous = this.inFlight ?? Promise.resolve();
    const sending = previous
      .then(() =>
        (this.options.send ?? sdNotify)(fields, {
          env: { ...process.env, ...this.options.systemdEnv },
          noBlock: this.noBlock,
          timeoutMs: Math.max(1_000, this.intervalMs ?? 10_000),
        }),
      )
      .then((result) => this.report(result, fields[0]!))
      .catch(() => undefined)
      .finally(() => {
        if (this.inFlight === sending) this.inFlight = null;
      });
    this.inFlight = sending;
    return sending;
  }

  private report(result: SdNotifyResult, first: string): void {
    const { logger } = this.options;
    if (result.sent) {
      if (this.failing) logger.info("systemd notifications are delivered again");
      this.failing = false;
      return;
    }
    if (result.reason !== "failed") return;
    this.failing = true;
    const suppressed = this.failureLog.allow("failed", performance.now());
    if (suppressed !== null) {
      logger.warn(
        { err: result.error, message: first, suppressed, socket: this.socket },
        "could not notify systemd",
      );
    }
  }
}

function clip(text: string): string {
  const line = text.replace(/[\n\0]/g, " ");
  return line.length > MAX_STATUS_CHARS ? `${line.slice(0, MAX_STATUS_CHARS - 1)}…` : line;
}
