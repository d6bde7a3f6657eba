// An ioredis client of the Sentinel-protocol tests, run inside a lab client namespace:
//   node sentinel-writer.mjs NAME LOGFILE HOST:PORT...
// Finds the master of NAME through the given sentinels (ioredis' `sentinels:`, with its failover
// detector: it subscribes to +switch-master and reconnects when it hears one) and writes with a
// 2 ms pause: SET io:<n> <n>. Each write is one line of LOGFILE: "<n> <sent ms> <done ms> ok" or
// "<n> <sent ms> <done ms> fail <error>", in wall-clock epoch ms. Reconnecting and resending a
// write left unanswered is ioredis' own. SIGTERM flushes and exits.
import { appendFileSync } from "node:fs";
import { Redis } from "ioredis";

const [name, logFile, ...sentinelArgs] = process.argv.slice(2);
if (!name || !logFile || sentinelArgs.length === 0) {
  process.stderr.write("usage: sentinel-writer.mjs NAME LOGFILE HOST:PORT...\n");
  process.exit(2);
}
const sentinels = sentinelArgs.map((arg) => {
  const colon = arg.lastIndexOf(":");
  return { host: arg.slice(0, colon), port: Number(arg.slice(colon + 1)) };
});
const FLUSH_MS = 20;
const PAUSE_MS = 2;

const now = () => performance.timeOrigin + performance.now();
let lines = [];
let stopping = false;
const redis = new Redis({
  name,
  sentinels,
  failoverDetector: true,
  sentinelRetryStrategy: () => 50,
  retryStrategy: () => 50,
  connectTimeout: 500,
});
redis.on("error", () => {});

async function main() {
  for (let n = 0; !stopping; n++) {
    const sent = now();
    try {
      await redis.set(`io:${n}`, String(n));
      lines.push(`${n} ${sent.toFixed(1)} ${now().toFixed(1)} ok\n`);
      // A few hundred writes a second: enough to time an outage, little CPU.
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    } catch (error) {
      lines.push(
        `${n} ${sent.toFixed(1)} ${now().toFixed(1)} fail ${String(error.message).replace(/\s+/g, "_")}\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function flush() {
  if (lines.length === 0) return;
  appendFileSync(logFile, lines.join(""));
  lines = [];
}

setInterval(flush, FLUSH_MS);
process.on("SIGTERM", () => {
  stopping = true;
  flush();
  process.exit(0);
});
process.stdout.write(`writing to ${name}\n`);
void main();
