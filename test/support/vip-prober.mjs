// A client of the takeover tests and benchmark, run inside a lab client namespace:
//   node vip-prober.mjs HOST PORT LOGFILE [INTERVAL_MS]
// Every INTERVAL_MS (default 5) it opens a TCP connection to HOST:PORT and reads the answer (the
// echo service answers with its node's name). Attempts overlap while the service is away, so a
// connection stuck on a dead owner never delays the next try. Each attempt is one line of
// LOGFILE: "<sent ms> <done ms> ok <answer>" or "<sent ms> <done ms> fail <error>", in wall-clock
// epoch ms (every namespace shares the host clock). SIGTERM flushes and exits.
import { appendFileSync } from "node:fs";
import { connect } from "node:net";

const [host, portText, logFile, intervalText = "5"] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText);
if (!host || !logFile || !Number.isInteger(port) || !(intervalMs > 0)) {
  process.stderr.write("usage: vip-prober.mjs HOST PORT LOGFILE [INTERVAL_MS]\n");
  process.exit(2);
}
/** Below TCP's first SYN retransmission (1 s): a lost SYN is a failed attempt, not a late answer. */
const ATTEMPT_TIMEOUT_MS = 500;
/** ATTEMPT_TIMEOUT_MS / intervalMs attempts are in flight during an outage; this bounds a runaway. */
const MAX_IN_FLIGHT = 400;
const FLUSH_MS = 20;

const now = () => performance.timeOrigin + performance.now();
let inFlight = 0;
let lines = [];

function attempt() {
  const sent = now();
  inFlight++;
  let answer = "";
  let error = "";
  const socket = connect({ host, port });
  socket.setTimeout(ATTEMPT_TIMEOUT_MS, () => {
    error = "timeout";
    socket.destroy();
  });
  socket.on("data", (chunk) => {
    answer += chunk.toString();
  });
  socket.on("error", (e) => {
    error = e.code ?? e.message;
  });
  socket.on("close", () => {
    inFlight--;
    const name = answer.trim().split(/\s+/)[0] ?? "";
    const outcome = name !== "" ? `ok ${name}` : `fail ${error || "empty"}`;
    lines.push(`${sent.toFixed(1)} ${now().toFixed(1)} ${outcome}\n`);
  });
}

function flush() {
  if (lines.length === 0) return;
  appendFileSync(logFile, lines.join(""));
  lines = [];
}

setInterval(() => {
  if (inFlight < MAX_IN_FLIGHT) attempt();
}, intervalMs);
setInterval(flush, FLUSH_MS);
process.on("SIGTERM", () => {
  flush();
  process.exit(0);
});
process.stdout.write(`probing ${host}:${port} every ${intervalMs} ms\n`);
