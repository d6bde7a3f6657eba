import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  deviceNumber,
  feedIntervalMs,
  watchdogTimeout,
} from "../../src/watchdog/device-timeout.js";

describe("watchdog timeout and feed interval", () => {
  test("device numbers decode as glibc encodes them", () => {
    assert.equal(deviceNumber(0x0a82n), "10:130"); // the legacy /dev/watchdog
    assert.equal(deviceNumber(0x0103n), "1:3"); // /dev/null
    // major 248, minor 0 (a watchdogN device): (248 << 8) | 0
    assert.equal(deviceNumber(248n << 8n), "248:0");
    // Minor numbers above 255 and major numbers above 4095 use the high bits.
    assert.equal(deviceNumber((0x123n << 20n) | (0x5n << 8n) | 0x34n), "5:74548");
    assert.equal(deviceNumber((0x1n << 44n) | (0x2n << 8n)), "4098:0");
  });

  test("a quarter of the timeout, between 100 ms and a second; a second when unknown", () => {
    assert.equal(feedIntervalMs(null), 1000);
    assert.equal(feedIntervalMs(60), 1000);
    assert.equal(feedIntervalMs(2), 500);
    assert.equal(feedIntervalMs(1), 250);
  });
});

describe("watchdog timeout from sysfs", () => {
  let sysfs: string;
  before(async () => {
    sysfs = await mkdtemp(join(tmpdir(), "vigil-sysfs-"));
    // /dev/null (1:3) plays a watchdogN device: a character device this test can stat.
    for (const [name, dev, timeout] of [
      ["watchdog0", "10:130", "60"],
      ["watchdog1", "248:1", "30"],
      ["watchdog2", "1:3", "7"],
    ]) {
      await mkdir(join(sysfs, name!));
      await writeFile(join(sysfs, name!, "dev"), `${dev}\n`);
      await writeFile(join(sysfs, name!, "timeout"), `${timeout}\n`);
    }
  });
  after(async () => {
    await rm(sysfs, { recursive: true, force: true });
  });

  test("found by the device's major:minor", async () => {
    assert.deepEqual(await watchdogTimeout("/dev/null", sysfs), {
      name: "watchdog2",
      timeoutSeconds: 7,
    });
  });

  test("unknown for what is not a character device, or is not in sysfs", async () => {
    assert.equal(await watchdogTimeout(sysfs, sysfs), null);
    assert.equal(await watchdogTimeout("/dev/zero", sysfs), null);
    assert.equal(await watchdogTimeout("/nonexistent", sysfs), null);
  });
});
