// An ioredis client of the Sentinel-protocol tests, run inside a lab client namespace:
//   node sentinel-writer.mjs NAME LOGFILE HOST:PORT...
// Finds the master of NAME through the given sentinels (ioredis' `sentinels:`, with its failover
// detector: it subscribes to +switch-master and reconnects when it hears one) and writes with a
// 2 ms pause: SET io:<n> <n>. Each write is one line of LOGFILE: "<n> <sent ms> <done ms> ok" or
// "<n> <sent ms> <done ms> fail <error>", in wall-clock epoch ms. Reconnecting and resending a
// write left unanswered is ioredis' own. SIGTERM flushes and exits.
import { Redis } from "ioredis";
import { nowMs, openWriteLog } from "./write-log.mjs";

const [name, logFile, ...sentinelArgs] = process.argv.slice(2);
if (!name || !logFile || sentinelArgs.length === 0) {
  process.stderr.write("usage: sentinel-writer.mjs NAME LOGFILE HOST:PORT...\n");
  process.exit(2);
}
const sentinels = sentinelArgs.map((arg) => {
  const colon = arg.lastIndexOf(":");
  return { host: arg.slice(0, colon), port: Number(arg.slice(colon + 1)) };
});
const PAUSE_MS = 2;

const log = openWriteLog(logFile);
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
  for (let n = 0; !log.stopping(); n++) {
    const sent = nowMs();
    try {
      await redis.set(`io:${n}`, String(n));
      log.ok(n, sent);
      // A few hundred writes a second: enough to time an outage, little CPU.
      await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    } catch (error) {
      log.fail(n, sent, error);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

process.stdout.write(`writing to ${name}\n`);
void main();
