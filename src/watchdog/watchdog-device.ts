import { constants, type Stats } from "node:fs";
import { type FileHandle, open, stat } from "node:fs/promises";
import { ConfigError } from "../config/errors.js";
import type { WatchdogConfig } from "../config/safety-schema.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { feedIntervalMs, watchdogTimeout } from "./device-timeout.js";

/**
 * A watchdog device (/dev/watchdog) as the lease guard uses it, the way sbd does in Pacemaker:
 * opening it arms the timer, every write resets it, and the guard writes only while it is
 * healthy and the agent's lease allows; when it decides to fence it stops writing before it
 * does anything else, so that a self-fence action that fails or hangs, or a guard that hangs
 * itself, still ends in a reset when the driver's timeout runs out. Only a clean end writes the
 * magic close character 'V' before closing, which tells the driver to disarm (unless it was
 * loaded with nowayout, which then reboots on every stop of the guard).
 *
 * A FIFO is accepted too: tests read the feeds from one, and a user-space relay could.
 */

/** One NUL per feed, as watchdog(8) writes: any byte but 'V' only resets the timer. */
const FEED = Buffer.from([0]);
const MAGIC_CLOSE = Buffer.from("V");
const WRITE_ERROR_LOG_WINDOW_MS = 60_000;
/** After a fence the guard keeps saying, this often, that the machine has not reset yet. */
const STILL_UP_LOG_MS = 10_000;

export type DeviceLog = (
  level: "info" | "warn" | "error",
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export class WatchdogDevice {
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private lastFeedMs: number | null = null;
  private readonly errorLog = new RateLimiter(WRITE_ERROR_LOG_WINDOW_MS);
  /** How often it is fed: well inside the driver's timeout (device-timeout.ts). */
  readonly feedIntervalMs: number;

  private constructor(
    readonly path: string,
    private readonly file: FileHandle,
    private readonly log: DeviceLog,
    /** The driver's timeout when sysfs tells it; null when unknown (a FIFO, no sysfs). */
    readonly timeoutSeconds: number | null,
  ) {
    this.feedIntervalMs = feedIntervalMs(timeoutSeconds);
  }

  /**
   * Opens (and so arms) the device. Never creates a file (no O_CREAT: a missing device must not
   * become a regular file that "works"); refuses anything but a character device or a FIFO. A
   * FIFO's open waits until a reader opens it.
   */
  static async open(path: string, log: DeviceLog): Promise<WatchdogDevice> {
    const file = await open(path, constants.O_WRONLY);
    try {
      const kind = describeKind(await file.stat());
      if (kind !== null) throw new Error(`${path} is ${kind}, not a watchdog device or a FIFO`);
    } catch (error) {
      await file.close();
      throw error;
    }
    const timeout = await watchdogTimeout(path);
    return new WatchdogDevice(path, file, log, timeout?.timeoutSeconds ?? null);
  }

  /** Writes every feedIntervalMs while `healthy()` says so; once it says no, stops for good. */
  feedWhile(healthy: () => boolean): void {
    this.stopFeeding();
    const tick = (): void => {
      if (!healthy()) {
        this.stopFeeding();
        return;
      }
      this.write(FEED, "feed");
    };
    tick();
    this.timer = setInterval(tick, this.feedIntervalMs);
  }

  stopFeeding(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** A clean end: 'V', then close, so that the driver disarms instead of resetting. */
  async disarm(): Promise<void> {
    this.stopFeeding();
    // The kernel forgets an earlier 'V' on every write: a feed still in flight must land first.
    await this.writing;
    try {
      await this.file.write(MAGIC_CLOSE);
      await this.file.close();
      this.log("info", "disarmed the watchdog device (magic close)", { device: this.path });
    } catch (error) {
      this.log("error", "could not disarm the watchdog device: it may reset this machine", {
        device: this.path,
        error: String(error),
      });
      await this.file.close().catch(() => undefined);
    }
  }

  /**
   * After a fence: never feed again and never close (some drivers without magic close support
   * disarm on any close, and an open device cannot be opened by a restarted guard that would
   * feed it), until the driver resets the machine or someone kills this process. Never resolves.
   */
  holdUntilReset(): Promise<never> {
    this.stopFeeding();
    const since = this.lastFeedMs;
    const report = (): void => {
      const unfedMs = since === null ? null : Math.round(performance.now() - since);
      this.log("error", "waiting for the watchdog device to reset this machine", {
        device: this.path,
        unfedMs,
      });
    };
    report();
    setInterval(report, STILL_UP_LOG_MS);
    return new Promise<never>(() => {});
  }

  /** At most one write in flight: a device that blocks must not pile up writes. */
  private write(bytes: Buffer, what: string): void {
    if (this.writing !== null) return;
    this.writing = this.file.write(bytes).then(
      () => {
        this.writing = null;
        this.lastFeedMs = performance.now();
      },
      (error: unknown) => {
        this.writing = null;
        const suppressed = this.errorLog.allow(what, performance.now());
        if (suppressed !== null) {
          this.log("error", `could not ${what} the watchdog device`, {
            device: this.path,
            error: String(error),
            suppressed,
          });
        }
      },
    );
  }
}

/**
 * At agent start: the configured device exists here and is a character device (or a FIFO).
 * Checked here, not by `vigil config validate`, which may run on another machine; the file is
 * the same on every node, so a node without the device refuses to start rather than run
 * without the reset the file asks for. Opening it is left to the guard: opening arms it.
 */
export async function checkWatchdogDevice(config: WatchdogConfig): Promise<void> {
  const path = config.device;
  if (path === undefined) return;
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new ConfigError(
        `watchdog.device: ${path} does not exist on this host: load its driver (e.g. modprobe softdog, or iTCO_wdt), or remove watchdog.device from the configuration (the same file goes on every node, so every node needs the device)`,
      );
    }
    throw new ConfigError(`watchdog.device: cannot check ${path}: ${String(error)}`);
  }
  const kind = describeKind(info);
  if (kind !== null) {
    throw new ConfigError(
      `watchdog.device: ${path} is ${kind}; expected a watchdog (a character device such as /dev/watchdog) or a FIFO`,
    );
  }
}

/** null for what a watchdog may be (a character device, or a FIFO), else what it is. */
function describeKind(
  info: Pick<Stats, "isCharacterDevice" | "isFIFO" | "isFile" | "isDirectory">,
) {
  if (info.isCharacterDevice() || info.isFIFO()) return null;
  if (info.isFile()) return "a regular file";
  if (info.isDirectory()) return "a directory";
  return "neither a character device nor a FIFO";
}
