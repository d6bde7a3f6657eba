import { execFile } from "node:child_process";

/**
 * sd_notify(3) without a native addon: the complement of the lease guard for a whole-agent hang
 * that systemd can see (WatchdogSec=, Type=notify).
 *
 * The protocol is one datagram on the unix socket named by $NOTIFY_SOCKET (a path, or "@name" in
 * the abstract namespace). Node cannot send one: `dgram` has no unix sockets and `net` only
 * streams. So this runs systemd's own `systemd-notify VAR=VALUE...` (no dependency beyond
 * systemd itself, which is the only reader). What that costs:
 *
 * * A process per message: fine for READY/STOPPING and a WATCHDOG ping every few seconds.
 * * Attribution: systemd-notify (systemd ≥ 246 or so) sends the message on behalf of its parent,
 *   this process, which works with the default NotifyAccess=main when running as root (faking
 *   the sender's credentials needs CAP_SYS_ADMIN). Otherwise it sends as itself, and the unit
 *   needs NotifyAccess=all; it then waits until systemd has processed the message, so systemd can
 *   still attribute it after it exits. (Checked with systemd 252 and a receiver reading
 *   SCM_CREDENTIALS: as root the message carries the parent's PID and a separate BARRIER=1 follows
 *   from systemd-notify's own PID, which `noBlock` leaves out.) A one-shot sender such as socat
 *   would always send as itself and exit at once: NotifyAccess=all, and a race with attribution.
 * * It needs no systemd as PID 1: it only sends to $NOTIFY_SOCKET (only --booted looks at PID 1).
 * * A ping sent this way proves that the event loop ran, which is what WatchdogSec= is for: a
 *   stuck loop sends none.
 */

export type SdNotifyResult =
  | { sent: true }
  /** No $NOTIFY_SOCKET: not started by systemd with Type=notify (not an error). */
  | { sent: false; reason: "no_socket" }
  | { sent: false; reason: "failed"; error: string };

export interface SdNotifyOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default "systemd-notify" (found on PATH). */
  command?: string;
  /** Default 10 000 (systemd-notify itself waits at most 5 s for systemd). */
  timeoutMs?: number;
  /**
   * Pass --no-block: no BARRIER=1 and no wait for systemd. Right only when systemd-notify can
   * send on behalf of this process (CAP_SYS_ADMIN, see above): the barrier exists so that
   * systemd can still attribute a message to a sender that has exited.
   */
  noBlock?: boolean;
}

/**
 * Sends `fields` (e.g. "READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...") in one message, if
 * $NOTIFY_SOCKET is set. Never throws.
 */
export function sdNotify(fields: string[], options: SdNotifyOptions = {}): Promise<SdNotifyResult> {
  const env = options.env ?? process.env;
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === "")
    return Promise.resolve({ sent: false, reason: "no_socket" });
  // A NUL would make execFile throw; a newline would start another field.
  const bad = fields.find((field) => !/^[A-Z_][A-Z0-9_]*=[^\n\0]*$/.test(field));
  if (bad !== undefined) {
    return Promise.resolve({
      sent: false,
      reason: "failed",
      error: `not a VAR=VALUE field: ${JSON.stringify(bad)}`,
    });
  }
  if (fields.length === 0) {
    return Promise.resolve({ sent: false, reason: "failed", error: "nothing to send" });
  }
  const args = options.noBlock === true ? ["--no-block", ...fields] : fields;
  return new Promise((resolve) => {
    try {
      execFile(
        options.command ?? "systemd-notify",
        args,
        { env, timeout: options.timeoutMs ?? 10_000, killSignal: "SIGKILL" },
        (error, _stdout, stderr) => {
          if (error === null) resolve({ sent: true });
          else resolve({ sent: false, reason: "failed", error: stderr.trim() || error.message });
        },
      );
    } catch (error) {
      // Spawning can fail synchronously (e.g. EAGAIN under a process limit).
      resolve({ sent: false, reason: "failed", error: String(error) });
    }
  });
}

/**
 * Pings at least hourly: a WatchdogSec of two months would otherwise give a ping interval past
 * what Node's timers hold (2^31 − 1 ms), which fires every millisecond; pinging sooner than
 * needed costs nothing.
 */
const MAX_WATCHDOG_PING_MS = 3_600_000;

/**
 * How often to send WATCHDOG=1: half of systemd's WatchdogSec (from $WATCHDOG_USEC), as
 * sd_watchdog_enabled(3) recommends, at most an hour; null when systemd expects no pings from
 * this process (unset or invalid $WATCHDOG_USEC, or $WATCHDOG_PID naming another process). Pure.
 */
export function watchdogIntervalMs(
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.pid,
): number | null {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return null;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== "") {
    if (!/^\d+$/.test(pidText) || Number(pidText) !== pid) return null;
  }
  return Math.min(MAX_WATCHDOG_PING_MS, Math.max(1, Math.floor(usec / 2000)));
}
