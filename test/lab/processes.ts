/**
 * Processes the lab starts inside host namespaces. Each runs in its own process group (detached),
 * so a signal reaches everything it forked; every PID is tracked so teardown and faults signal
 * exactly what the lab started, never anything found by name.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { basename, resolve } from "node:path";
import { run } from "./command.js";
import type { HostPlan } from "./names.js";
import { CapturedStream, formatExit, tail, waitForLine } from "./output.js";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type OutputStream = "stdout" | "stderr";

export interface LabProcess {
  readonly pid: number;
  /** Index of the lab host it runs on. */
  readonly host: number;
  readonly command: string;
  /** Everything written to stdout so far (the oldest part dropped past 8 MiB). */
  readonly stdout: string;
  /** Everything written to stderr so far (the oldest part dropped past 8 MiB). */
  readonly stderr: string;
  /** Full logs in the lab dir, kept after the run with VIGIL_LAB_KEEP=1. */
  readonly stdoutPath: string;
  readonly stderrPath: string;
  /** Resolves (never rejects) when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  readonly running: boolean;
  /**
   * How it ended and the tail of its output, for a test's error message; null while it runs.
   * A test that finds an agent gone says why (a crash, its guard, a self-fence) in the CI log.
   */
  exitReport(): string | null;
  /**
   * Resolves with the first complete line, already written or still to come, matching `pattern`
   * on `stream` (default both). Rejects when the process exits or `timeoutMs` passes first; the
   * error carries the output's tail.
   */
  waitForLine(pattern: RegExp, timeoutMs: number, stream?: OutputStream | "both"): Promise<string>;
  /** Signals the whole process group; a no-op once the process has exited. */
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** Added to (and overriding) this process's environment. */
  env?: Record<string, string>;
  /** Working directory; default the lab dir. */
  cwd?: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Default 10 s: exec is for short commands; long-running ones belong in spawn. */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

const EXEC_TIMEOUT_MS = 10_000;
/** Output of a short command beyond this is a runaway; the command is killed and exec rejects. */
const EXEC_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** SIGKILLed processes exit within milliseconds; longer means an uninterruptible sleep. */
const KILL_WAIT_MS = 5_000;

interface Tracked {
  host: number;
  exited: Promise<ExitStatus>;
}

export class ProcessTable {
  private readonly live = new Map<number, Tracked>();
  private sequence = 0;

  constructor(private readonly dir: string) {}

  /** PIDs (= process group ids) of the lab's processes still running, optionally on one host. */
  pids(host?: number): number[] {
    const pids: number[] = [];
    for (const [pid, tracked] of this.live)
      if (host === undefined || tracked.host === host) pids.push(pid);
    return pids;
  }

  /** Exit promises of the processes still running on `host`. */
  exitsOf(host: number): Promise<ExitStatus>[] {
    return [...this.live.values()]
      .filter((tracked) => tracked.host === host)
      .map((tracked) => tracked.exited);
  }

  spawn(
    host: HostPlan,
    command: string,
    args: readonly string[],
    options: SpawnOptions = {},
  ): LabProcess {
    this.sequence += 1;
    const logBase = resolve(this.dir, `${hostLabel(host)}-${basename(command)}-${this.sequence}`);
    // `ip netns exec` execs the command after setns, so the child's PID is the command's own.
    const child = spawn("ip", ["netns", "exec", host.ns, command, ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      cwd: options.cwd ?? this.dir,
      env: { ...process.env, ...options.env },
    });
    const pid = requirePid(child, host, command);
    const exited = this.track(pid, host.index, child);
    const output = {
      stdout: new CapturedStream(child.stdout!, `${logBase}.out.log`),
      stderr: new CapturedStream(child.stderr!, `${logBase}.err.log`),
    };
    let exitStatus: ExitStatus | null = null;
    void exited.then((status) => {
      exitStatus = status;
    });
    const describe = `${command} (pid ${pid}) on lab host ${host.index}`;
    return {
      pid,
      host: host.index,
      command,
      get stdout() {
        return output.stdout.text;
      },
      get stderr() {
        return output.stderr.text;
      },
      stdoutPath: output.stdout.logPath,
      stderrPath: output.stderr.logPath,
      exited,
      get running() {
        return exitStatus === null;
      },
      exitReport: () =>
        exitStatus === null
          ? null
          : `${describe} exited (${formatExit(exitStatus)})\n${tail([output.stdout, output.stderr])}`,
      waitForLine: (pattern, timeoutMs, stream = "both") => {
        const streams = stream === "both" ? [output.stdout, output.stderr] : [output[stream]];
        return waitForLine(streams, pattern, timeoutMs, exited, describe);
      },
      kill: (signal: NodeJS.Signals = "SIGTERM") => {
        if (exitStatus === null) signalGroup(pid, signal);
      },
    };
  }

  exec(
    host: HostPlan,
    command: string,
    args: readonly string[],
    options: ExecOptions = {},
  ): Promise<ExecResult> {
    const child = spawn("ip", ["netns", "exec", host.ns, command, ...args], {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
    });
    const pid = requirePid(child, host, command);
    this.track(pid, host.index, child);
    const describe = `${command} ${args.join(" ")} on lab host ${host.index} (${host.ns})`;
    return new Promise<ExecResult>((resolvePromise, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let bytes = 0;
      let failure: Error | null = null;
      const abort = (error: Error) => {
        if (failure === null) failure = error;
        signalGroup(pid, "SIGKILL");
      };
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > EXEC_MAX_OUTPUT_BYTES)
          abort(new Error(`lab exec output over ${EXEC_MAX_OUTPUT_BYTES} bytes: ${describe}`));
        else into.push(chunk);
      };
      child.stdout?.on("data", collect(out));
      child.stderr?.on("data", collect(err));
      // A command that exits without reading stdin makes the write fail with EPIPE: not an error here.
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(options.input ?? "");
      const timeoutMs = options.timeoutMs ?? EXEC_TIMEOUT_MS;
      const timer = setTimeout(
        () => abort(new Error(`lab exec timed out after ${timeoutMs} ms: ${describe}`)),
        timeoutMs,
      );
      // 'close' waits for the pipes to drain, so the output is complete.
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (failure !== null) return reject(failure);
        resolvePromise({
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          code,
          signal,
        });
      });
    });
  }

  /** Signals every tracked group on `host`, then every other process in its namespace. */
  async signalHost(host: HostPlan, signal: NodeJS.Signals): Promise<void> {
    for (const pid of this.pids(host.index)) signalGroup(pid, signal);
    // Whatever still runs in the namespace was started, directly or not, by this lab.
    for (const pid of await netnsPids(host.ns)) signalPid(pid, signal);
  }

  /** SIGKILLs every tracked group and waits (bounded) until each has exited. */
  async killAll(): Promise<void> {
    const waits: Promise<ExitStatus>[] = [];
    for (const [pid, tracked] of this.live) {
      signalGroup(pid, "SIGKILL");
      waits.push(tracked.exited);
    }
    await withTimeout(
      Promise.all(waits),
      KILL_WAIT_MS,
      `lab processes did not exit within ${KILL_WAIT_MS} ms of SIGKILL`,
    );
  }

  /** For the synchronous exit-time cleanup. */
  killAllSync(): void {
    for (const pid of this.live.keys()) signalGroup(pid, "SIGKILL");
  }

  private track(pid: number, host: number, child: ChildProcess): Promise<ExitStatus> {
    const exited = new Promise<ExitStatus>((resolvePromise) => {
      child.once("exit", (code, signal) => {
        this.live.delete(pid);
        resolvePromise({ code, signal });
      });
    });
    // Not unref'd: a test awaiting `exited` needs the child to keep the event loop alive, and
    // teardown kills every child anyway.
    this.live.set(pid, { host, exited });
    return exited;
  }
}

function requirePid(child: ChildProcess, host: HostPlan, command: string): number {
  if (child.pid === undefined) {
    child.on("error", () => undefined);
    throw new Error(
      `could not start "ip netns exec ${host.ns} ${command}": is iproute2 installed and are we root?`,
    );
  }
  return child.pid;
}

function hostLabel(host: HostPlan): string {
  return `${host.kind === "node" ? "h" : "c"}${host.ordinal}`;
}

/** Signals a process group; a group that is already gone is not an error. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  signalPid(-pgid, signal);
}

/** Signals one process; one that is already gone is not an error. */
export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** PIDs of every process whose network namespace is `ns`. */
export async function netnsPids(ns: string): Promise<number[]> {
  return parsePids(await run("ip", ["netns", "pids", ns]));
}

export function parsePids(output: string): number[] {
  return output
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  message: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
