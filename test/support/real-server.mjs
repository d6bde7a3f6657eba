// A real server of the director tests, run inside a lab namespace:
//   node real-server.mjs NAME PORT DOWN_FILE
// Answers every HTTP request with NAME and who connected ("NAME from ADDRESS"). Its health
// endpoint, /health, fails (503) while DOWN_FILE exists: the server itself keeps answering, so a
// test sees whether the director still sends it connections, not merely that it is gone.
import { existsSync } from "node:fs";
import { createServer } from "node:http";

const [name, portText, downFile] = process.argv.slice(2);
const port = Number(portText);
if (!name || !downFile || !Number.isInteger(port)) {
  process.stderr.write("usage: real-server.mjs NAME PORT DOWN_FILE\n");
  process.exit(2);
}
const server = createServer((request, response) => {
  if (request.url === "/health" && existsSync(downFile)) response.statusCode = 503;
  response.end(`${name} from ${request.socket.remoteAddress}`);
});
// A client that keeps its connection (lvs-held-connection.mjs) keeps it across a test's steps.
server.keepAliveTimeout = 60_000;
server.listen(port, "0.0.0.0");
process.on("SIGTERM", () => process.exit(0));
