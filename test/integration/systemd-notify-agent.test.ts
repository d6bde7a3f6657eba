/**
 * A real agent run as systemd runs a Type=notify service with WatchdogSec=: $NOTIFY_SOCKET names
 * a unix datagram socket (here a receiver that also reads each sender's credentials, as systemd
 * does), $WATCHDOG_USEC the watchdog interval. No systemd is needed: systemd-notify only sends
 * to the socket. Asserts what arrives: READY=1 once the agent is up, WATCHDOG=1 at about half
 * the interval and none while the agent is stopped, STOPPING=1 on SIGTERM; and with
 * CAP_SYS_ADMIN every message carries the agent's own PID (what NotifyAccess=main checks).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { controlGet } from "../../src/control/client.js";
import type { AgentStatus } from "../../src/control/status-reply.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { hasEffectiveCapability } from "../../src/watchdog/systemd-watchdog.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";
import { killLeftoverGuard, WatchdogAgent } from "../watchdog/support/agent-process.js";

const RECEIVER = fileURLToPath(
  new URL("../watchdog/fixtures/notify-socket-credentials.py", import.meta.url),
);
const missing = ["systemd-notify", "python3"].filter(
  (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
);
/** systemd-notify sends on the agent's behalf only with CAP_SYS_ADMIN (the agent inherits ours). */
const sendsAsAgent = hasEffectiveCapability(readFileSync("/proc/self/status", "utf8"), 21);
/** WatchdogSec=400ms: a ping every 200 ms. */
const WATCHDOG_USEC = 400_000;
const PING_MS = WATCHDOG_USEC / 2000;

interface Received {
  pid: number | null;
  message: string;
}

describe("systemd notifications from a real agent", {
  skip: missing.length > 0 ? `needs ${missing.join(", ")}` : false,
}, () => {
  let dir: string;
  let cluster: LocalCluster;
  let receiver: ChildProcess | undefined;
  let agent: WatchdogAgent | undefined;
  let guardPid: number | undefined;
  const received: Received[] = [];
  const messages = (field: string) => received.filter((r) => r.message.split("\n").includes(field));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-sdnotify-agent-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    const socket = join(dir, "notify.sock");
    receiver = spawn("python3", [RECEIVER, socket], { stdio: ["ignore", "pipe", "inherit"] });
    let buffered = "";
    let ready = false;
    receiver.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const parsed = JSON.parse(line) as Received & { ready?: boolean };
        if (parsed.ready === true) ready = true;
        else received.push(parsed);
      }
    });
    await waitFor("the notify socket", () => ready || undefined);
    // Only alpha runs: being up (links bound, control socket listening) needs no peer.
    agent = await WatchdogAgent.start(cluster, dir, "alpha", {
      watchdog: { lease_guard: true, action: "true" },
      env: { ...process.env, NOTIFY_SOCKET: socket, WATCHDOG_USEC: String(WATCHDOG_USEC) },
    });
    guardPid = await agent.guardPid();
  });

  after(async () => {
    await agent?.stop();
    if (guardPid !== undefined && agent !== undefined) await killLeftoverGuard(guardPid, agent.pid);
    if (receiver?.exitCode === null && receiver.pid !== undefined) receiver.kill("SIGKILL");
    await removeTestDir(dir);
  });

  test("READY=1 once the agent is up, with a status line", async () => {
    const ready = await waitFor("READY=1", () => messages("READY=1")[0]);
    assert.match(ready.message, /^READY=1\nSTATUS=.*; peers up \d\/2; (no lease|lease held)/);
    // Up means up: the control socket answers.
    const status = await controlGet<AgentStatus>(cluster.socketPath("alpha"), "/v1/status");
    assert.equal(status.node.name, "alpha");
    if (sendsAsAgent) assert.equal(ready.pid, agent!.pid, "sent on the agent's behalf");
  });

  test("WATCHDOG=1 at about half of WatchdogSec, each on the agent's behalf", async () => {
    await waitFor("a first ping", () => messages("WATCHDOG=1")[0]);
    const before = messages("WATCHDOG=1").length;
    const windowMs = 3_000;
    await sleep(windowMs);
    const pings = messages("WATCHDOG=1").length - before;
    const expected = windowMs / PING_MS; // 15
    assert.ok(pings >= expected / 2 && pings <= expected * 1.5, `${pings} pings in ${windowMs} ms`);
    if (sendsAsAgent) {
      assert.deepEqual(
        [...new Set(received.map((r) => r.pid))],
        [agent!.pid],
        "every message carries the agent's PID, and no separate BARRIER=1",
      );
    }
  });

  test("no ping while the agent is stopped (SIGSTOP); pings resume after SIGCONT", async () => {
    agent!.child.kill("SIGSTOP");
    await sleep(300); // a ping sent just before may still be on its way
    const frozen = messages("WATCHDOG=1").length;
    await sleep(10 * PING_MS);
    assert.equal(messages("WATCHDOG=1").length, frozen, "a stopped agent sends nothing");
    agent!.child.kill("SIGCONT");
    await waitFor("pings to resume", () =>
      messages("WATCHDOG=1").length >= frozen + 3 ? true : undefined,
    );
  });

  test("systemd's variables are not passed on to what the agent starts (its lease guard)", async () => {
    const environ = (await readFile(`/proc/${guardPid}/environ`, "utf8")).split("\0");
    assert.ok(environ.length > 1, "the guard's environment is readable");
    for (const name of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) {
      assert.equal(
        environ.some((entry) => entry.startsWith(`${name}=`)),
        false,
        `${name} not inherited`,
      );
    }
  });

  test("SIGTERM: STOPPING=1, a clean exit, and no ping after it", async () => {
    agent!.child.kill("SIGTERM");
    assert.deepEqual(await agent!.exit, { code: 0, signal: null });
    const stopping = await waitFor("STOPPING=1", () => messages("STOPPING=1")[0]);
    assert.match(stopping.message, /^STOPPING=1\nSTATUS=stopping: received SIGTERM$/);
    if (sendsAsAgent) assert.equal(stopping.pid, agent!.pid);
    const total = received.length;
    await sleep(5 * PING_MS);
    assert.equal(received.length, total, "nothing after the exit");
    assert.equal(received.indexOf(stopping) >= received.indexOf(messages("READY=1")[0]!), true);
  });
});
