// Debian's fence agents (package fence-agents, with ipmitool), run for real by the FenceRunner:
// fence_dummy succeeds or fails on demand, fence_ipmilan talks to a loopback port where nothing
// answers (a UDP socket of the test's own that reads and never replies), fence_kdump waits for a
// kdump message that never comes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fencingSchema } from "../../src/config/safety-schema.js";
import { FenceRunner, killGraceFor } from "../../src/fencing/fence-runner.js";
import { systemClock } from "../../src/time/clock.js";

function runnerFor(fencing: unknown) {
  return new FenceRunner({ fencing: fencingSchema.parse(fencing), clock: systemClock });
}

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-fence-debian-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A loopback UDP port that reads what arrives and never answers: a BMC that is not there. */
async function silentBmc(t: { after(fn: () => void): void }) {
  const socket = createSocket("udp4");
  let datagrams = 0;
  socket.on("message", () => {
    datagrams += 1;
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  t.after(() => socket.close());
  return { port: socket.address().port, datagrams: () => datagrams };
}

const IPMI_LOGIN = { username: "admin", password: "secret", lanplus: "1" };

test("fence_ipmilan that gets no answer: ended at timeout_ms, reported as no answer", async (t) => {
  const bmc = await silentBmc(t);
  const timeoutMs = 1_500;
  const outcome = await runnerFor({
    devices: {
      ipmi: {
        agent: "fence_ipmilan",
        params: { ip: "127.0.0.1", ipport: String(bmc.port), ...IPMI_LOGIN },
        targets: { db1: "" },
        timeout_ms: timeoutMs,
      },
    },
  }).fence("db1", "off");
  assert.equal(outcome.ok, false);
  const [attempt] = outcome.attempts;
  assert.equal(attempt?.timedOut, true);
  // Its stderr held the DeprecationWarning about 'pipes': that is no reason, and not shown.
  assert.equal(attempt?.detail, `no answer within ${timeoutMs} ms, its process group killed`);
  // fence_ipmilan gives up after 20 s on its own; it was ended at the deadline (SIGTERM a tenth
  // before it), not 2 s after it.
  assert.ok(
    attempt.durationMs >= timeoutMs - killGraceFor(timeoutMs) - 50,
    `ended after ${attempt.durationMs} ms`,
  );
  assert.ok(attempt.durationMs <= timeoutMs + 250, `ended after ${attempt.durationMs} ms`);
  assert.ok(bmc.datagrams() > 0, "fence_ipmilan (ipmitool) did talk to the address");
});

test("fence_ipmilan given the BMC's address as its plug, without ip, fails with its own reason", async () => {
  const outcome = await runnerFor({
    devices: {
      ipmi: { agent: "fence_ipmilan", params: IPMI_LOGIN, targets: { db2: "127.0.0.1" } },
    },
  }).fence("db2", "reboot");
  assert.equal(outcome.ok, false);
  assert.equal(outcome.attempts[0]?.timedOut, false);
  assert.equal(outcome.attempts[0]?.detail, "exit code 1: Failed: You have to enter fence address");
});

test("fence_dummy fences on demand, and fails on demand with its reason", async (t) => {
  const dir = scratch(t);
  // fence_dummy keeps the machine's power state in its status file (none: off): one for each
  // device, both machines on.
  for (const name of ["broken", "dummy"]) writeFileSync(join(dir, `${name}.status`), "on");
  const outcome = await runnerFor({
    devices: {
      broken: {
        agent: "fence_dummy",
        params: { type: "fail", power_timeout: "1", status_file: join(dir, "broken.status") },
        targets: { db1: "" },
      },
      dummy: {
        agent: "fence_dummy",
        params: { status_file: join(dir, "dummy.status") },
        targets: { db1: "" },
      },
    },
  }).fence("db1", "off");
  assert.equal(outcome.ok, true);
  assert.deepEqual(outcome.fencedBy, ["dummy"]);
  assert.deepEqual(
    outcome.attempts.map(({ device, ok, detail }) => ({ device, ok, detail })),
    [
      {
        device: "broken",
        ok: false,
        detail: "exit code 1: Failed: Timed out waiting to power OFF",
      },
      { device: "dummy", ok: true, detail: "Success: Powered OFF" },
    ],
  );
  assert.equal(readFileSync(join(dir, "dummy.status"), "utf8").trim(), "off");
});

/** A loopback UDP port nobody uses now (fence_kdump listens there for the kdump message). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

const KDUMP_SEND = "/usr/libexec/fence-agents/fence_kdump_send";

test("fence_kdump gets the node's name, and with action off fences once its kdump message arrives", async () => {
  // fence_kdump waits for the message from the address of `nodename`: a node named localhost
  // sends it from 127.0.0.1, as fence_kdump_send does in a crashing node's kdump kernel.
  const port = await freeUdpPort();
  const runner = runnerFor({
    action: "reboot",
    devices: {
      kdump: {
        agent: "fence_kdump",
        params: { ipport: String(port), timeout: "10" },
        targets: { localhost: "" },
        action: "off",
      },
    },
  });
  const fencing = runner.fence("localhost");
  const sender = spawn(
    KDUMP_SEND,
    ["--count", "20", "--interval", "1", "--ipport", `${port}`, "127.0.0.1"],
    {
      stdio: "ignore",
    },
  );
  const outcome = await fencing.finally(() => sender.kill());
  assert.equal(outcome.ok, true, JSON.stringify(outcome.attempts));
  assert.equal(outcome.action, "reboot", "the cluster's action");
  assert.deepEqual(
    outcome.attempts.map(({ device, action, ok }) => ({ device, action, ok })),
    [{ device: "kdump", action: "off", ok: true }],
    "the device's own action",
  );
});

test("fence_kdump without a device action: the cluster's reboot, which it refuses at once", async () => {
  const outcome = await runnerFor({
    devices: { kdump: { agent: "fence_kdump", targets: { db2: "" } } },
  }).fence("db2");
  assert.equal(outcome.ok, false);
  assert.deepEqual(
    outcome.attempts.map(({ action, detail }) => ({ action, detail })),
    [{ action: "reboot", detail: "exit code 1: unsupported action 'reboot'" }],
  );
});

test("fence_kdump asked to power off a node was told which node: it looks the name up", async () => {
  // .invalid never resolves (RFC 2606), whatever the machine's /etc/hosts.
  const outcome = await runnerFor({
    devices: { kdump: { agent: "fence_kdump", targets: { "db2.invalid": "" }, action: "off" } },
  }).fence("db2.invalid");
  assert.equal(outcome.ok, false);
  // Without nodename= it would say "action 'off' requires nodename".
  assert.equal(outcome.attempts[0]?.detail, "exit code 1: failed to get node 'db2.invalid'");
});
