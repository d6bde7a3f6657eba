import { selfFenceArgv } from "../../config/command-line.js";
import { runGuard } from "../../watchdog/guard.js";
import { tuneV8ForDaemon } from "../daemon-v8.js";
import { UsageError } from "../errors.js";

export interface GuardCommandOptions {
  agentPid: string;
  action?: string;
  hangMs?: string;
  node?: string;
  watchdogDevice?: string;
}

/**
 * The agent gives half its follower lease (at most 600 000 ms), so at most 300 000: longer is no
 * hang time, and it would arm the guard's timers with it.
 */
const MAX_HANG_MS = 600_000;

/** `--hang-ms`'s value, or a UsageError naming the option. */
export function parseHangMs(text: string): number {
  const hangMs = /^[1-9]\d{0,8}$/.test(text) ? Number(text) : Number.NaN;
  if (!(hangMs <= MAX_HANG_MS))
    throw new UsageError(
      `--hang-ms needs a whole number of ms from 1 to ${MAX_HANG_MS}, got "${text}"`,
    );
  return hangMs;
}

/**
 * `vigil guard --agent-pid PID [--hang-ms MS] [--node NAME] [--action "CMD ARG..."]
 * [--watchdog-device PATH]` (hidden: the agent starts it): the node guard on stdin, JSON log lines
 * on stderr; exits 0 after `bye`, 4 after a release (the agent died or hung and everything it held
 * was stopped), 3 after fencing (with a watchdog device it does not exit then: it waits for the reset), 2 when
 * refused (see src/watchdog/guard.ts). It ignores SIGTERM, SIGINT and SIGHUP: a stop of the service
 * signals every process of it at once, and the agent's graceful stop, during which resources
 * still run here, must stay guarded until its `bye`.
 */
export async function runGuardCommand(options: GuardCommandOptions): Promise<void> {
  tuneV8ForDaemon();
  if (!/^\d+$/.test(options.agentPid) || Number(options.agentPid) <= 1) {
    throw new UsageError(`--agent-pid needs a process id above 1, got "${options.agentPid}"`);
  }
  const agentPid = Number(options.agentPid);
  const hangMs = options.hangMs === undefined ? null : parseHangMs(options.hangMs);
  let action: string[] = [];
  if (options.action !== undefined) {
    const split = selfFenceArgv(options.action);
    if (!split.ok) throw new UsageError(`--action: ${split.error}`);
    action = split.argv;
  }
  // The agent's end of stderr may be gone (it died): a failed log write must not end the guard.
  process.stderr.on("error", () => {});
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () =>
      log(
        JSON.stringify({
          time: new Date().toISOString(),
          level: "warn",
          component: "lease-guard",
          pid: process.pid,
          agentPid,
          msg: `ignored ${signal}: the guard ends with the agent's bye (or SIGKILL)`,
        }),
      ),
    );
  }
  const code = await runGuard({
    agentPid,
    action,
    input: process.stdin,
    log,
    hangMs,
    ...(options.node === undefined ? {} : { nodeName: options.node }),
    watchdogDevice: options.watchdogDevice,
  }).catch((error: unknown) => {
    log(JSON.stringify({ level: "error", msg: `lease guard failed: ${String(error)}` }));
    return 70;
  });
  process.exit(code);
}
