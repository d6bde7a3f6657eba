import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { ConfigError, parseConfigText } from "../../src/config/load.js";
import { checkWatchdogDevice } from "../../src/watchdog/watchdog-device.js";
import { configErrorOf, issueAt, VALID_YAML } from "../config/helpers.js";
import { removeTestDir } from "../support/remove-dir.js";

const run = promisify(execFile);

describe("watchdog configuration", () => {
  test("no device by default, and the node guard on (an agent that dies must not leave its resources running)", () => {
    const config = parseConfigText(VALID_YAML, "test.yaml");
    assert.equal(config.watchdog.device, undefined);
    assert.equal(config.watchdog.lease_guard, true);
  });

  test("a device is accepted with the lease guard, and not checked for existence here", () => {
    const config = parseConfigText(
      `${VALID_YAML}watchdog: { lease_guard: true, device: /nonexistent/watchdog }\n`,
      "test.yaml",
    );
    assert.equal(config.watchdog.device, "/nonexistent/watchdog");
  });

  test("a device without the lease guard is refused: the guard is what feeds it", () => {
    const error = configErrorOf(
      `${VALID_YAML}watchdog: { lease_guard: false, device: /dev/watchdog }\n`,
    );
    const issue = issueAt(error, "watchdog.device");
    assert.match(issue.message, /fed by the lease guard: set watchdog\.lease_guard: true/);
    assert.equal(issue.line, VALID_YAML.split("\n").length, "the line of the watchdog key");
  });

  test("a relative device path is refused", () => {
    const error = configErrorOf(`${VALID_YAML}watchdog: { lease_guard: true, device: watchdog }\n`);
    assert.match(issueAt(error, "watchdog.device").message, /expected an absolute path/);
  });
});

describe("the device check at agent start", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-watchdog-check-"));
  });
  after(async () => {
    await removeTestDir(dir);
  });
  const config = (device: string | undefined) => ({
    lease_guard: true,
    action: "true",
    device,
  });

  test("no device: nothing to check", async () => {
    await checkWatchdogDevice(config(undefined));
  });

  test("a character device or a FIFO passes", async () => {
    await checkWatchdogDevice(config("/dev/null"));
    const fifo = join(dir, "fifo");
    await run("mkfifo", [fifo]);
    await checkWatchdogDevice(config(fifo));
  });

  test("a missing device names the key and says what to do", async () => {
    const missing = join(dir, "watchdog");
    await assert.rejects(checkWatchdogDevice(config(missing)), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message.startsWith(`watchdog.device: ${missing} does not exist on this host`),
        true,
        error.message,
      );
      assert.match(error.message, /modprobe softdog/);
      return true;
    });
  });

  test("a regular file or a directory is refused, naming what it is", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    const directory = join(dir, "directory");
    await mkdir(directory);
    for (const [path, kind] of [
      [file, "a regular file"],
      [directory, "a directory"],
    ] as const) {
      await assert.rejects(checkWatchdogDevice(config(path)), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.message.startsWith(`watchdog.device: ${path} is ${kind};`), true);
        return true;
      });
    }
  });
});
