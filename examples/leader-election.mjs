#!/usr/bin/env node
// Leader election on Vigil's sessions and locks: every copy of this program opens a session
// through the agent of its node and tries to take one lock; whoever holds it leads. A copy that
// loses its session (its node died, it was paused past its TTL, a check it is bound to failed)
// stops leading at once, opens a new session and competes again; the lock is free for another
// copy only after the lock-delay. Each event is printed as one JSON line.
//
//   node examples/leader-election.mjs --socket /run/vigil/vigil.sock --key billing/leader
//   node examples/leader-election.mjs --host 127.0.0.1 --port 9420 --token "$TOKEN" --key billing/leader
import { parseArgs } from "node:util";
import { connect } from "vigil/client";

const { values } = parseArgs({
  options: {
    socket: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    key: { type: "string", default: "leader" },
    name: { type: "string", default: `leader-election-${process.pid}` },
    "ttl-ms": { type: "string", default: "10000" },
    "lock-delay-ms": { type: "string", default: "15000" },
    "retry-ms": { type: "string", default: "500" },
  },
});
const say = (event, fields = {}) =>
  process.stdout.write(`${JSON.stringify({ event, atMs: Date.now(), ...fields })}\n`);

const client = connect({
  ...(values.socket === undefined ? {} : { socket: values.socket }),
  ...(values.host === undefined ? {} : { host: values.host, port: Number(values.port) }),
  ...(values.token === undefined ? {} : { token: values.token }),
});
let leading = false;
let lastRefusal = "";
client.on("connected", () => say("connected"));
client.on("reconnecting", ({ attempt, delayMs, reason }) =>
  say("reconnecting", { attempt, delayMs, reason }),
);
client.on("lockLost", ({ key }) => {
  leading = false;
  say("lockLost", { key });
});
client.on("sessionLost", ({ session, reason }) => {
  leading = false;
  say("sessionLost", { session, reason });
});

async function compete() {
  for (;;) {
    try {
      if (client.session === null) {
        const session = await client.openSession({
          name: values.name,
          ttlMs: Number(values["ttl-ms"]),
          lockDelayMs: Number(values["lock-delay-ms"]),
        });
        say("session", { session });
      }
      if (!leading) {
        const result = await client.acquire(values.key);
        if (result.acquired) {
          leading = true;
          lastRefusal = "";
          say("leader", { key: values.key, session: client.session, acquiredAtMs: result.atMs });
        } else if (result.code !== lastRefusal) {
          lastRefusal = result.code;
          say("follower", { key: values.key, code: result.code, error: result.error });
        }
      }
    } catch (error) {
      say("error", { error: error.message });
    }
    await new Promise((resolve) => setTimeout(resolve, Number(values["retry-ms"])));
  }
}

process.on("SIGTERM", () => {
  client.close();
  process.exit(0);
});
void compete();
