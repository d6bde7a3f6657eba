/**
 * Runs the lab's own setup commands (ip, nft) with argument arrays, never through a shell. A
 * failure becomes a CommandError that names the command line and carries its stderr, because a
 * bare "exit code 2" from a teardown in CI is undebuggable.
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Setup commands finish in milliseconds; 15 s means the kernel or a lock is stuck. */
const DEFAULT_TIMEOUT_MS = 15_000;
/** ip/nft listings of a lab are a few KiB; more is a runaway. */
const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    readonly commandLine: string,
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`lab command failed (exit ${exitCode ?? "?"}): ${commandLine}\n${stderr.trim()}`);
  }
}

export interface RunOptions {
  /** Written to the command's stdin (e.g. an nft ruleset for `nft -f -`). */
  input?: string;
  timeoutMs?: number;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((part) => (/^[\w@%+=:,./-]+$/.test(part) ? part : JSON.stringify(part)))
    .join(" ");
}

/** Runs a command to completion; resolves with stdout, rejects with a CommandError. */
export async function run(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const pending = execFileAsync(file, [...args], {
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    killSignal: "SIGKILL",
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: "utf8",
  });
  if (options.input !== undefined) pending.child.stdin?.end(options.input);
  else pending.child.stdin?.end();
  try {
    const { stdout } = await pending;
    return stdout;
  } catch (error) {
    throw toCommandError(file, args, error);
  }
}

/** Synchronous variant for the exit-time safety net, where no event loop turn is left. */
export function runSync(
  file: string,
  args: readonly string[],
  timeoutMs = DEFAULT_TIMEOUT_MS,
): string {
  try {
    return execFileSync(file, [...args], {
      timeout: timeoutMs,
      killSignal: "SIGKILL",
      maxBuffer: MAX_OUTPUT_BYTES,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    throw toCommandError(file, args, error);
  }
}

function toCommandError(file: string, args: readonly string[], error: unknown): CommandError {
  const failure = error as {
    code?: number | string;
    status?: number | null;
    signal?: string | null;
    killed?: boolean;
    stderr?: string | Buffer;
    message?: string;
  };
  const stderr = String(failure.stderr ?? "") || String(failure.message ?? error);
  const exitCode = failure.status ?? failure.code ?? failure.signal ?? null;
  return new CommandError(formatCommand(file, args), exitCode, stderr);
}

/** True when a CommandError's stderr says the object is already there (ip, nft wording). */
export function isAlreadyExists(error: unknown): boolean {
  return error instanceof CommandError && /File exists/i.test(error.stderr);
}
