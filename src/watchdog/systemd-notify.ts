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
 *   still attribute it after it exits.
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
  const bad = fields.find((field) => !/^[A-Z_][A-Z0-9_]*=[^\n]*$/.test(field));
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
  return new Promise((resolve) => {
    execFile(
      options.command ?? "systemd-notify",
      fields,
      { env, timeout: options.timeoutMs ?? 10_000, killSignal: "SIGKILL" },
      (error, _stdout, stderr) => {
        if (error === null) resolve({ sent: true });
        else resolve({ sent: false, reason: "failed", error: stderr.trim() || error.message });
      },
    );
  });
}

/**
 * How often to send WATCHDOG=1: half of systemd's WatchdogSec (from $WATCHDOG_USEC), as
 * sd_watchdog_enabled(3) recommends; null when systemd expects no pings from this process
 * (unset or invalid $WATCHDOG_USEC, or $WATCHDOG_PID naming another process). Pure.
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
  return Math.max(1, Math.floor(usec / 2000));
}
