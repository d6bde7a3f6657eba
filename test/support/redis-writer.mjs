// A Redis client of the Redis tests, run inside a lab client namespace:
//   node redis-writer.mjs HOST PORT LOGFILE
// Writes without pause, one key at a time: SET w:<n> <n>, then WAIT 1 <ms> (how many replicas
// have it). Each write is one line of LOGFILE: "<n> <sent ms> <done ms> ok <replicas>" or
// "<n> <sent ms> <done ms> fail <error>", in wall-clock epoch ms (every namespace shares the
// host clock). A failed write is never retried (its outcome is unknown): the next one has the next
// number. A broken connection is opened again at once. SIGTERM flushes and exits.
import { connect } from "node:net";
import { nowMs, openWriteLog } from "./write-log.mjs";

const [host, portText, logFile] = process.argv.slice(2);
const port = Number(portText);
if (!host || !logFile || !Number.isInteger(port)) {
  process.stderr.write("usage: redis-writer.mjs HOST PORT LOGFILE\n");
  process.exit(2);
}
/** A write not answered in this time counts as failed, and its connection is dropped. */
const WRITE_TIMEOUT_MS = 500;
/** WAIT's own timeout: a write no replica has by then is logged with 0 replicas. */
const WAIT_TIMEOUT_MS = 100;
/** After a failure, the pause before the next attempt (a refused connection fails at once). */
const RETRY_PAUSE_MS = 5;

/** One connection: resolves each request with its reply line; rejects all on any error. */
function open() {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  let buffer = "";
  const waiting = [];
  let broken = null;
  const fail = (error) => {
    broken ??= error;
    for (const pending of waiting.splice(0)) pending.reject(error);
    socket.destroy();
  };
  socket.on("data", (chunk) => {
    buffer += chunk.toString();
    for (let end = buffer.indexOf("\r\n"); end >= 0; end = buffer.indexOf("\r\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      waiting.shift()?.resolve(line);
    }
  });
  socket.on("error", (error) => fail(new Error(error.code ?? error.message)));
  socket.on("close", () => fail(new Error("closed")));
  return {
    ask(words) {
      const encoded = `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`;
      return new Promise((resolve, reject) => {
        if (broken !== null) return reject(broken);
        waiting.push({ resolve, reject });
        socket.write(encoded);
      });
    },
    close: () => socket.destroy(),
  };
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function write(connection, n) {
  const set = connection.ask(["SET", `w:${n}`, String(n)]);
  const wait = connection.ask(["WAIT", "1", String(WAIT_TIMEOUT_MS)]);
  const [setReply, waitReply] = await withTimeout(Promise.all([set, wait]), WRITE_TIMEOUT_MS);
  if (setReply !== "+OK") throw new Error(`SET: ${setReply}`);
  if (!waitReply.startsWith(":")) throw new Error(`WAIT: ${waitReply}`);
  return Number(waitReply.slice(1));
}

const log = openWriteLog(logFile);

async function main() {
  let connection = null;
  for (let n = 0; !log.stopping(); n++) {
    const sent = nowMs();
    try {
      connection ??= open();
      log.ok(n, sent, await write(connection, n));
    } catch (error) {
      log.fail(n, sent, error);
      connection?.close();
      connection = null;
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    }
  }
}

process.stdout.write(`writing to ${host}:${port}\n`);
void main();
