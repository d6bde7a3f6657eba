// A client of the director tests that keeps one connection, run inside a lab client namespace:
//   node lvs-held-connection.mjs HOST PORT GO_FILE
// Asks HOST:PORT once on a kept-alive connection and prints "first NAME" (who answered), waits
// until GO_FILE exists, asks again on the same connection and prints "second NAME reused=BOOL",
// or "second failed ERROR". A director that moved an established flow would break it.
import { existsSync } from "node:fs";
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

const [host, portText, goFile] = process.argv.slice(2);
const port = Number(portText);
if (!host || !goFile || !Number.isInteger(port)) {
  process.stderr.write("usage: lvs-held-connection.mjs HOST PORT GO_FILE\n");
  process.exit(2);
}
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function ask() {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", agent, timeout: 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ name: body.split(" ")[0], reused: req.reusedSocket }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const first = await ask();
process.stdout.write(`first ${first.name}\n`);
while (!existsSync(goFile)) await sleep(20);
try {
  const second = await ask();
  process.stdout.write(`second ${second.name} reused=${second.reused}\n`);
} catch (error) {
  process.stdout.write(`second failed ${error.message}\n`);
}
agent.destroy();
