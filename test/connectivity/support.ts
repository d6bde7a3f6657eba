import { Writable } from "node:stream";
import type { ConnectivityConfig } from "../../src/config/safety-schema.js";
import { createLogger, type Logger } from "../../src/log/logger.js";
import type { Clock } from "../../src/time/clock.js";

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A JSON logger whose lines are kept in `lines` (level 30 = info, 40 = warn). */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString("utf8").split("\n"))
        if (text.trim() !== "") lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  return { logger: createLogger({ level: "debug", pretty: false, destination }), lines };
}

/** A clock the test moves by hand. */
export function manualClock(startMs = 1_000_000): Clock & { advance(ms: number): void } {
  let nowMs = startMs;
  return {
    nowMs: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

export function connectivityConfig(
  overrides: Partial<ConnectivityConfig> = {},
): ConnectivityConfig {
  return {
    targets: [{ icmp: "198.18.0.101" }, { tcp: "198.18.0.102:80" }, { http: "http://gw/health" }],
    interval_ms: 2_000,
    timeout_ms: 1_000,
    attribute: "connectivity",
    ...overrides,
  };
}

/** A promise with its resolve function at hand. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
