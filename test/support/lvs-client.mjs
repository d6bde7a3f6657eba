// The client of the director tests, run inside a lab client namespace:
//   node lvs-client.mjs HOST PORT COUNT
// Makes COUNT HTTP requests to HOST:PORT one after the other, each on a new connection (a new
// flow for the director to place), and prints one JSON line: how many answers each server gave
// (the first word of the answer), the addresses the servers saw, and the failures by message.
import { request } from "node:http";

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
if (!host || !Number.isInteger(port) || !Number.isInteger(count)) {
  process.stderr.write("usage: lvs-client.mjs HOST PORT COUNT\n");
  process.exit(2);
}
/** Below TCP's first SYN retransmission: a request to nowhere fails, not waits. */
const TIMEOUT_MS = 800;

function ask() {
  return new Promise((resolve) => {
    const req = request({ host, port, path: "/", agent: false, timeout: TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ ok: true, body }));
      res.on("error", (error) => resolve({ ok: false, error: error.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ ok: false, error: error.code ?? error.message }));
    req.end();
  });
}

const answers = {};
const seenFrom = {};
const failures = {};
for (let i = 0; i < count; i++) {
  const result = await ask();
  if (result.ok) {
    const [name, , from] = result.body.split(" ");
    answers[name] = (answers[name] ?? 0) + 1;
    seenFrom[from] = (seenFrom[from] ?? 0) + 1;
  } else failures[result.error] = (failures[result.error] ?? 0) + 1;
}
process.stdout.write(`${JSON.stringify({ answers, seenFrom, failures })}\n`);
