import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Logger } from "../../../log/logger.js";
import { parseRemovedAddress, type RemovedAddress } from "./address-events.js";

/**
 * After `ip monitor` ended by itself (it should not), before it is started again: doubled after
 * each run that ended soon after its start, up to the maximum; `ip` missing or failing at once
 * then costs a try a minute, and one warning.
 */
const RESTART_DELAY_MS = 1_000;
const RESTART_DELAY_MAX_MS = 60_000;
/** A run that lasted this long was working: the next restart waits the shortest delay again. */
const HEALTHY_RUN_MS = 10_000;

export interface AddressWatchOptions {
  logger: Logger;
  /** Sets a timer (the agent's Timers; this layer sits below them). */
  timers: { after(delayMs: number, callback: () => void): () => void };
  onRemoved(removed: RemovedAddress): void;
  /** The command to run (tests); default `ip -o monitor address`. */
  command?: readonly [string, ...string[]];
}

/**
 * Tells, as the kernel does, when an address is removed from an interface of this node, so that a
 * VIP deleted by hand (or by a DHCP client, NetworkManager, an `ip addr flush`) is found at once
 * rather than at its next monitor, whatever its interval. One `ip -o monitor address` child,
 * started again if it ends; it sleeps in the kernel until something changes, so it costs nothing
 * while nothing does.
 */
export class AddressWatch {
  private child: ChildProcess | null = null;
  private cancelRestart: (() => void) | null = null;
  private stopped = false;
  /** Runs in a row that ended soon after starting (or could not start). */
  private quickEnds = 0;

  constructor(private readonly options: AddressWatchOptions) {}

  start(): void {
    if (this.stopped || this.child !== null) return;
    const [program, ...args] = this.options.command ?? ["ip", "-o", "monitor", "address"];
    const child = spawn(program, args, { stdio: ["ignore", "pipe", "pipe"] });
    const startedAtMs = performance.now();
    this.child = child;
    const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
    lines.on("line", (line) => {
      const removed = parseRemovedAddress(line);
      if (removed !== null) this.options.onRemoved(removed);
    });
    child.stderr?.resume();
    child.on("error", (error) => {
      if (this.quickEnds > 0) return;
      this.options.logger.warn(
        { err: error },
        "cannot watch address changes (ip monitor); VIPs are checked by their monitors only",
      );
    });
    child.on("close", (code, signal) => {
      if (this.child === child) this.child = null;
      if (this.stopped) return;
      this.quickEnds = performance.now() - startedAtMs >= HEALTHY_RUN_MS ? 1 : this.quickEnds + 1;
      const delayMs = Math.min(RESTART_DELAY_MS * 2 ** (this.quickEnds - 1), RESTART_DELAY_MAX_MS);
      const log = this.quickEnds === 1 ? this.options.logger.warn : this.options.logger.debug;
      log.call(
        this.options.logger,
        { code, signal, delayMs },
        "ip monitor ended; watching address changes again shortly",
      );
      this.cancelRestart = this.options.timers.after(delayMs, () => {
        this.cancelRestart = null;
        this.start();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancelRestart?.();
    this.cancelRestart = null;
    this.child?.kill("SIGTERM");
    this.child = null;
  }

  /** The watching child's PID, while one runs (tests). */
  pid(): number | undefined {
    return this.child?.pid;
  }
}
