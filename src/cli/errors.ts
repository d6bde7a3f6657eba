/**
 * Errors a user can cause (bad config, unreadable key file, busy port, agent not running) carry
 * messages written for that user: print just the message. Anything else is a bug: print the stack.
 */
const USER_ERRORS = new Set([
  "ConfigError",
  "KeyFileError",
  "ApiError",
  "KeyringError",
  "LinkError",
  "ControlSocketError",
  "ControlClientError",
  "StateDirError",
  "StoreCorruptError",
  "UsageError",
  "CommandError",
  "CommanderError",
  "ImportError",
]);

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** A command that could not do what was asked, for a reason its message explains (exit 1). */
export class CommandError extends Error {
  override readonly name = "CommandError";
}

export function isUserError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    (USER_ERRORS.has(error.name) || USER_ERRORS.has(error.constructor.name))
  );
}

/** Runs a command action, turning failures into a message on stderr and an exit code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await run(...args);
    } catch (error) {
      if (isUserError(error)) {
        process.stderr.write(`vigil: ${error.message}\n`);
        process.exitCode = ["ConfigError", "UsageError", "ImportError"].includes(error.name)
          ? 2
          : 1;
      } else {
        process.stderr.write(
          `vigil: unexpected error (a bug; please report it):\n${(error as Error)?.stack ?? error}\n`,
        );
        process.exitCode = 70;
      }
    }
  };
}
