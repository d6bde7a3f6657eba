import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { sdNotify, watchdogIntervalMs } from "../../src/watchdog/systemd-notify.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

describe("systemd watchdog interval", () => {
  test("half of WATCHDOG_USEC, for this process only", () => {
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "10000000" }, 42), 5000);
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "10000000", WATCHDOG_PID: "42" }, 42), 5000);
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "10000000", WATCHDOG_PID: "43" }, 42), null);
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "1" }, 42), 1);
    // WatchdogSec=60d: half is past what a timer holds (it would ping every millisecond).
    assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: String(60 * 86_400 * 1e6) }, 42), 3_600_000);
    for (const usec of [undefined, "", "0", "-5", "abc", "1e6", "99999999999999999999"]) {
      assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: usec }, 42), null, String(usec));
    }
  });
});

const RECEIVER = fileURLToPath(new URL("fixtures/notify-receiver.py", import.meta.url));
const hasTools = ["systemd-notify", "python3"].every(
  (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0,
);

describe("sd_notify through systemd-notify", () => {
  let dir: string;
  const receivers: ChildProcess[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-sdnotify-"));
  });
  after(async () => {
    for (const receiver of receivers) {
      if (
        receiver.exitCode === null &&
        receiver.signalCode === null &&
        receiver.pid !== undefined
      ) {
        process.kill(receiver.pid, "SIGKILL");
      }
    }
    await removeTestDir(dir);
  });

  /** A unix datagram socket that prints what it receives, like systemd's notify socket. */
  async function receiver(address: string): Promise<() => string[]> {
    let received = "";
    let errors = "";
    const python = spawn("python3", [RECEIVER, address], { stdio: ["ignore", "pipe", "pipe"] });
    receivers.push(python);
    python.stdout?.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
    });
    python.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString("utf8");
    });
    await waitFor(`the receiver on ${address}`, () => {
      if (python.exitCode !== null) throw new Error(`receiver exited: ${errors}`);
      return received.startsWith("ready\0") || undefined;
    });
    return () => received.split("\0").slice(1, -1);
  }

  test("without NOTIFY_SOCKET nothing is sent and nothing fails", async () => {
    assert.deepEqual(await sdNotify(["READY=1"], { env: {} }), {
      sent: false,
      reason: "no_socket",
    });
  });

  test("malformed fields are refused before anything runs", async () => {
    const result = await sdNotify(["READY=1\nMAINPID=1"], { env: { NOTIFY_SOCKET: "/nowhere" } });
    assert.equal(result.sent, false);
    assert.equal(!result.sent && result.reason, "failed");
  });

  test("a socket path and an abstract socket receive the datagram", {
    skip: !hasTools,
  }, async () => {
    const path = join(dir, "notify.sock");
    const onPath = await receiver(path);
    const sent = await sdNotify(["READY=1", "STATUS=guarding"], {
      env: { ...process.env, NOTIFY_SOCKET: path },
    });
    assert.deepEqual(sent, { sent: true });
    await waitFor(
      "READY=1 on the socket",
      () => onPath().includes("READY=1\nSTATUS=guarding") || undefined,
    );
    // The barrier that follows it: systemd-notify waited until the receiver closed its fd (the
    // receiver's report of it reaches this process through a pipe, maybe a moment later: CI).
    await waitFor("BARRIER=1 after it", () => onPath().includes("BARRIER=1") || undefined);

    const name = `vigil-test-${process.pid}`;
    const abstract = await receiver(`@${name}`);
    const ping = await sdNotify(["WATCHDOG=1"], {
      env: { ...process.env, NOTIFY_SOCKET: `@${name}` },
    });
    assert.deepEqual(ping, { sent: true });
    await waitFor(
      "WATCHDOG=1 on the abstract socket",
      () => abstract().includes("WATCHDOG=1") || undefined,
    );
  });

  test("a socket nobody listens on is a failure, not an exception", {
    skip: !hasTools,
  }, async () => {
    const result = await sdNotify(["STOPPING=1"], {
      env: { ...process.env, NOTIFY_SOCKET: join(dir, "nobody.sock") },
    });
    assert.equal(result.sent, false);
    assert.equal(!result.sent && result.reason, "failed");
  });
});
