/**
 * Runs one command as a child process in its own process group, so that a timeout ends the
 * command and everything it forked: SIGTERM to the group, then SIGKILL after a grace period.
 * Output is kept as bounded tails; the environment is built from scratch so that the daemon's
 * own environment (NODE_OPTIONS, credentials) never leaks into agents.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { lowerToChildNice } from "../../scheduling/child-priority.js";
import { timerDelayProblem } from "../../time/timer-delay.js";

export interface CommandSpec {
  file: string;
  args: readonly string[];
  /** Added to the base environment (PATH, LC_ALL=C). */
  env?: Readonly<Record<string, string>>;
  /** Ends the command (group SIGTERM, then SIGKILL) when it fires. */
  signal?: AbortSignal;
  /** Ends the command like `signal` once this many milliseconds passed. */
  timeoutMs?: number;
  /** Between the group SIGTERM and SIGKILL for this command; default the runner's killGraceMs. */
  killGraceMs?: number;
  cwd?: string;
  /**
   * Written to the command's stdin, which is then closed (fence agents read their parameters
   * there). Without it, stdin is /dev/null.
   */
  stdin?: string;
}

export interface ProcessOutcome {
  /** Exit status; null when the process died from a signal or never started. */
  exitCode: number | null;
  /** Signal that killed the process, if any. */
  exitSignal: string | null;
  /** The command was ended because its timeout passed or its signal fired. */
  timedOut: boolean;
  /** The command could not be started (ENOENT: no such file, EACCES: not executable, ...). */
  spawnError?: { code: string; message: string };
  stdout: string;
  stderrTail: string;
  pid?: number;
}

export interface ProcessRunner {
  run(command: CommandSpec): Promise<ProcessOutcome>;
}

export interface ChildProcessRunnerOptions {
  /** Between the group SIGTERM and the group SIGKILL: lets agents clean up, but not forever. */
  killGraceMs?: number;
  /** stdout is kept up to this size (meta-data XML is a few tens of KiB). */
  stdoutLimitBytes?: number;
  /** Only the end of stderr is kept: the last lines carry the error. */
  stderrTailBytes?: number;
  /**
   * After the command exits, how long to wait for its output pipes to close. A daemon started by
   * the command may inherit them and hold them open forever; its output is then abandoned.
   */
  outputDrainMs?: number;
}

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The PATH commands run with unless their environment gives one: the daemon's own. */
export function agentBasePath(): string {
  return process.env.PATH ?? DEFAULT_PATH;
}

export class ChildProcessRunner implements ProcessRunner {
  private readonly killGraceMs: number;
  private readonly stdoutLimitBytes: number;
  private readonly stderrTailBytes: number;
  private readonly outputDrainMs: number;

  constructor(options: ChildProcessRunnerOptions = {}) {
    this.killGraceMs = options.killGraceMs ?? 2_000;
    this.stdoutLimitBytes = options.stdoutLimitBytes ?? 1024 * 1024;
    this.stderrTailBytes = options.stderrTailBytes ?? 4 * 1024;
    this.outputDrainMs = options.outputDrainMs ?? 200;
  }

  run(command: CommandSpec): Promise<ProcessOutcome> {
    return new Promise((resolve) => {
      const stdout = new ByteTail(this.stdoutLimitBytes, "head");
      const stderr = new ByteTail(this.stderrTailBytes, "tail");
      if (command.signal?.aborted) {
        resolve({ exitCode: null, exitSignal: null, timedOut: true, stdout: "", stderrTail: "" });
        return;
      }
      // The timeout is a timer: one it cannot hold would end the command after 1 ms.
      const tooLong = command.timeoutMs === undefined ? null : timerDelayProblem(command.timeoutMs);
      if (tooLong !== null) {
        resolve({
          exitCode: null,
          exitSignal: null,
          timedOut: false,
          spawnError: { code: "ERANGE", message: `not started: its timeout is ${tooLong}` },
          stdout: "",
          stderrTail: "",
        });
        return;
      }
      // stdout and stderr are always pipes; stdin is one only when there is input to write.
      const child = spawn(command.file, [...command.args], {
        detached: true,
        stdio: [command.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        env: { PATH: agentBasePath(), LC_ALL: "C", ...command.env },
        cwd: command.cwd ?? "/",
      }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
      lowerToChildNice(child.pid);
      if (command.stdin !== undefined && child.stdin !== null) {
        // A command may exit without reading its input: the EPIPE that follows is no error.
        child.stdin.on("error", () => {});
        child.stdin.end(command.stdin);
      }
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));

      let timedOut = false;
      let groupKilled = false;
      let onGroupKilled: (() => void) | undefined;
      const pid = child.pid;
      const endGroup = () => {
        if (timedOut || pid === undefined) return;
        timedOut = true;
        signalGroup(pid, "SIGTERM");
        // Killed even if the leader already exited: its forks may have ignored SIGTERM.
        setTimeout(() => {
          signalGroup(pid, "SIGKILL");
          groupKilled = true;
          onGroupKilled?.();
        }, command.killGraceMs ?? this.killGraceMs);
      };
      const timeoutTimer =
        command.timeoutMs === undefined ? undefined : setTimeout(endGroup, command.timeoutMs);
      command.signal?.addEventListener("abort", endGroup, { once: true });

      let settled = false;
      const finish = (outcome: Omit<ProcessOutcome, "stdout" | "stderrTail">) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeoutTimer);
        command.signal?.removeEventListener("abort", endGroup);
        resolve({ ...outcome, stdout: stdout.text(), stderrTail: stderr.text() });
      };

      child.once("error", (error: NodeJS.ErrnoException) => {
        // No exit event follows a failed spawn.
        finish({
          exitCode: null,
          exitSignal: null,
          timedOut: false,
          spawnError: { code: error.code ?? "UNKNOWN", message: error.message },
        });
      });
      child.once("exit", (exitCode, exitSignal) => {
        const report = () =>
          finish({ exitCode, exitSignal, timedOut, ...(pid === undefined ? {} : { pid }) });
        // After a timeout, report only once nothing of the group can still run.
        const done = () => {
          if (!timedOut || groupKilled || pid === undefined || !groupExists(pid)) report();
          else onGroupKilled = report;
        };
        if (child.stdout.readableEnded && child.stderr.readableEnded) {
          done();
          return;
        }
        const drainTimer = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          done();
        }, this.outputDrainMs);
        child.once("close", () => {
          clearTimeout(drainTimer);
          done();
        });
      });
    });
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    // ESRCH: the whole group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the first ("head") or last ("tail") `limitBytes` of a byte stream. */
class ByteTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly keep: "head" | "tail",
  ) {}

  push(chunk: Buffer): void {
    if (this.keep === "head") {
      if (this.size >= this.limitBytes) return;
      const part = chunk.subarray(0, this.limitBytes - this.size);
      this.chunks.push(part);
      this.size += part.length;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * this.limitBytes) this.compact();
  }

  text(): string {
    this.compact();
    return Buffer.concat(this.chunks).toString("utf8");
  }

  private compact(): void {
    if (this.keep === "head" || this.size <= this.limitBytes) return;
    const all = Buffer.concat(this.chunks);
    const kept = all.subarray(all.length - this.limitBytes);
    this.chunks = [kept];
    this.size = kept.length;
  }
}
