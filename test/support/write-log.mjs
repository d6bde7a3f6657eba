// The log of a test's writer process (redis-writer.mjs, sentinel-writer.mjs): one line per write,
// "<n> <sent ms> <done ms> ok [detail]" or "<n> <sent ms> <done ms> fail <error>", in wall-clock
// epoch ms (every namespace shares the host clock). Lines are batched into appends, so a reader
// sees whole lines only; SIGTERM flushes what is left and exits.
import { appendFileSync } from "node:fs";

const FLUSH_MS = 20;

/** Now in wall-clock epoch ms, with the sub-millisecond part. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** Starts the log: `stopping()` turns true at SIGTERM, after the last lines are written. */
export function openWriteLog(logFile) {
  let lines = [];
  let stopping = false;
  const flush = () => {
    if (lines.length === 0) return;
    appendFileSync(logFile, lines.join(""));
    lines = [];
  };
  setInterval(flush, FLUSH_MS);
  process.on("SIGTERM", () => {
    stopping = true;
    flush();
    process.exit(0);
  });
  return {
    ok(n, sentMs, detail) {
      lines.push(
        `${n} ${sentMs.toFixed(1)} ${nowMs().toFixed(1)} ok${detail === undefined ? "" : ` ${detail}`}\n`,
      );
    },
    fail(n, sentMs, error) {
      lines.push(
        `${n} ${sentMs.toFixed(1)} ${nowMs().toFixed(1)} fail ${String(error.message).replace(/\s+/g, "_")}\n`,
      );
    },
    stopping: () => stopping,
  };
}
