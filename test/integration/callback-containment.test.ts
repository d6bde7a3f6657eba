/**
 * An exception thrown in a timer callback of a running agent is contained: logged with its
 * stack, counted in the status, and the agent keeps heartbeating, so its peer never sees it go.
 * Two real agents in this process on loopback UDP; the fault comes through the agent's injected
 * clock, which fails once when the heartbeat send timer reads it.
 */
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { Agent } from "../../src/agent/agent.js";
import { loadConfigFile } from "../../src/config/load.js";
import { findLocalNode } from "../../src/config/resolve.js";
import type { VigilConfig } from "../../src/config/schema.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { createLogger } from "../../src/log/logger.js";
import { type Clock, systemClock } from "../../src/time/clock.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

const INJECTED = "injected: the clock failed in the heartbeat send timer";

/** The system clock, except that it throws once, when armed, inside the heartbeat send path. */
class FailOnceClock implements Clock {
  armed = false;
  thrown = 0;
  nowMs(): number {
    if (this.armed && new Error().stack?.includes("sendHeartbeats") === true) {
      this.armed = false;
      this.thrown += 1;
      throw new Error(INJECTED);
    }
    return systemClock.nowMs();
  }
}

let dir: string;
let cluster: LocalCluster;
let config: VigilConfig;
const agents: Agent[] = [];
const alphaLog: Array<Record<string, unknown>> = [];
const clock = new FailOnceClock();

async function startAgent(name: string, agentClock: Clock, logLines?: typeof alphaLog) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line !== "") logLines?.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const agent = await Agent.start({
    config,
    localNode: findLocalNode(config, name, "unused"),
    logger: createLogger({ level: "warn", node: name, pretty: false, destination }),
    socketPath: cluster.socketPath(name),
    stateDir: join(dir, `${name}-state`),
    clock: agentClock,
  });
  agents.push(agent);
  return agent;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-contain-"));
  cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
  config = await loadConfigFile(cluster.configPath);
});

after(async () => {
  for (const agent of agents) await agent.stop("test over", { sayGoodbye: false });
  await removeTestDir(dir);
});

test("an exception in the heartbeat send timer is logged and counted; the agent keeps heartbeating", async () => {
  const alpha = await startAgent("alpha", clock, alphaLog);
  const beta = await startAgent("beta", systemClock);
  const alphaOnBeta = () => beta.status().nodes.find((node) => node.name === "alpha");
  await waitFor("beta to see alpha up", () => (alphaOnBeta()?.state === "up" ? true : undefined));

  clock.armed = true;
  await waitFor("the injected failure", () => (clock.thrown === 1 ? true : undefined));
  const sentAtFailure = alpha.status().links[0]!.counters.framesSent;
  // Ten more heartbeats on ring0: the send timer was armed again despite the exception.
  await waitFor("alpha's heartbeats to go on", () =>
    alpha.status().links[0]!.counters.framesSent >= sentAtFailure + 10 ? true : undefined,
  );

  assert.deepEqual(alpha.status().callbackFailures, { "heartbeat send timer": 1 });
  const logged = alphaLog.filter((line) => line.where === "heartbeat send timer");
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.msg, "callback failed; contained, the agent goes on");
  const err = logged[0]!.err as { message: string; stack: string };
  assert.equal(err.message, INJECTED);
  assert.match(err.stack, /sendHeartbeats/, "the stack is logged");
  assert.equal(alphaOnBeta()?.state, "up");
  assert.equal(beta.status().eventCounts.node_dead ?? 0, 0, "beta never saw alpha die");
});
