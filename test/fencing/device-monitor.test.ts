// Fence devices checked before they are needed: each device's agent runs `monitor` (Debian's
// fence_dummy, fence_kdump, fence_ipmilan for real); a device that fails it, or passes again,
// is an event.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fencingSchema } from "../../src/config/safety-schema.js";
import { DeviceHealth, type FenceDeviceEvent } from "../../src/fencing/device-health.js";
import { DeviceMonitor } from "../../src/fencing/device-monitor.js";
import { FenceAgentCatalog } from "../../src/fencing/fence-agents.js";
import { FenceRunner } from "../../src/fencing/fence-runner.js";
import { systemClock } from "../../src/time/clock.js";

test("device health: a failure is news at once, a recovery too, a first pass is not", () => {
  const health = new DeviceHealth({ ipmi: "fence_ipmilan", pdu: "fence_apc" });
  assert.deepEqual(
    health.statusAll().map((status) => status.state),
    ["unchecked", "unchecked"],
  );
  assert.equal(health.record("pdu", { ok: true, durationMs: 5, detail: "" }, 1_000), null);
  const failed = { ok: false, durationMs: 3000, detail: "no answer within 3000 ms" };
  assert.deepEqual(health.record("ipmi", failed, 2_000), {
    type: "fence_device_failed",
    atMs: 2_000,
    device: "ipmi",
    agent: "fence_ipmilan",
    detail: "no answer within 3000 ms",
  });
  assert.equal(health.record("ipmi", failed, 3_000), null, "still failing: no new event");
  assert.equal(health.statusAll()[0]?.sinceMs, 2_000);
  assert.equal(health.statusAll()[0]?.checkedAtMs, 3_000);
  assert.deepEqual(health.record("ipmi", { ok: true, durationMs: 40, detail: "" }, 4_000), {
    type: "fence_device_recovered",
    atMs: 4_000,
    device: "ipmi",
    agent: "fence_ipmilan",
  });
  assert.equal(health.record("ghost", failed, 5_000), null, "not a device of this node");
});

function monitorFor(fencing: unknown, options: { searchPath?: string[]; devices?: string[] } = {}) {
  const config = fencingSchema.parse(fencing);
  const runner = new FenceRunner({
    fencing: config,
    agents: new FenceAgentCatalog(
      options.searchPath === undefined ? {} : { searchPath: options.searchPath },
    ),
    clock: systemClock,
  });
  const events: FenceDeviceEvent[] = [];
  const monitor = new DeviceMonitor({
    runner,
    devices: options.devices ?? Object.keys(config.devices),
    intervalMs: 0,
    clock: systemClock,
    onEvent: (event) => events.push(event),
    fenceRunning: () => false,
  });
  return { monitor, events };
}

test("fence_kdump without a crash kernel and fence_ipmilan without an answer fail their monitor", async (t) => {
  const bmc = createSocket("udp4");
  await new Promise<void>((resolve) => bmc.bind(0, "127.0.0.1", resolve));
  t.after(() => bmc.close());
  const { monitor, events } = monitorFor({
    devices: {
      // This machine's kernel has no crashkernel= reservation: fence_kdump's monitor says no.
      kdump: { agent: "fence_kdump", targets: { db1: "" }, action: "off" },
      ipmi: {
        agent: "fence_ipmilan",
        params: {
          ip: "127.0.0.1",
          ipport: String(bmc.address().port),
          username: "a",
          password: "b",
        },
        targets: { db1: "" },
        timeout_ms: 1_000,
      },
      dummy: { agent: "fence_dummy", targets: { db1: "" } },
    },
  });
  const statuses = await monitor.checkNow();
  assert.deepEqual(
    statuses.map(({ device, state, detail }) => ({ device, state, detail })),
    [
      { device: "dummy", state: "ok", detail: "" },
      {
        device: "ipmi",
        state: "failed",
        detail: "no answer within 1000 ms, its process group killed",
      },
      { device: "kdump", state: "failed", detail: "exit code 1" },
    ],
  );
  assert.deepEqual(events.map((event) => [event.type, event.device]).sort(), [
    ["fence_device_failed", "ipmi"],
    ["fence_device_failed", "kdump"],
  ]);
});

test("a device whose agent goes missing fails its monitor, and recovers when it is back", async (t) => {
  const sbin = mkdtempSync(join(tmpdir(), "vigil-monitor-"));
  t.after(() => rmSync(sbin, { recursive: true, force: true }));
  const agent = join(sbin, "fence_dummy");
  copyFileSync("/usr/sbin/fence_dummy", agent);
  const { monitor, events } = monitorFor(
    { devices: { dummy: { agent: "fence_dummy", targets: { db1: "" } } } },
    { searchPath: [sbin] },
  );
  assert.equal((await monitor.checkNow())[0]?.state, "ok");
  rmSync(agent);
  const [missing] = await monitor.checkNow();
  assert.equal(missing?.state, "failed");
  assert.equal(
    missing?.detail,
    `fence agent fence_dummy not found (or not executable) in ${sbin} (no fence agent at all there: apt-get install fence-agents)`,
  );
  copyFileSync("/usr/sbin/fence_dummy", agent);
  assert.equal((await monitor.checkNow())[0]?.state, "ok");
  assert.deepEqual(
    events.map((event) => event.type),
    ["fence_device_failed", "fence_device_recovered"],
  );
});

test("checks of one device never overlap: a check asked while one runs joins it", async () => {
  const { monitor } = monitorFor({
    devices: { dummy: { agent: "fence_dummy", params: { delay: "1" }, targets: { db1: "" } } },
  });
  const [first, second] = await Promise.all([monitor.checkNow(), monitor.checkNow()]);
  assert.equal(first[0]?.checkedAtMs, second[0]?.checkedAtMs, "one check answered both");
});
