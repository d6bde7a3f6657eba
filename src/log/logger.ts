import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger } from "pino";
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/**
 * JSON lines for machines (journald, log shippers), a readable colour layout when a person
 * watches a terminal. Pretty printing runs in-process and synchronously: a worker-thread
 * transport would cost ~20 MB of RSS for every agent.
 */
export function createLogger(options: {
  level: LogLevel;
  node?: string;
  pretty?: boolean;
  destination?: NodeJS.WritableStream;
}): Logger {
  const base = options.node ? { node: options.node } : {};
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  if (usePretty) {
    return pino(
      { level: options.level, base },
      pretty({
        colorize: true,
        sync: true,
        translateTime: "SYS:HH:MM:ss.l",
        ignore: "pid,hostname",
      }),
    );
  }
  return pino(
    { level: options.level, base, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination ?? pino.destination({ sync: true }),
  );
}
