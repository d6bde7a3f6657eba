import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { removeTestDir } from "../support/remove-dir.js";

const run = promisify(execFile);
const UNIT = resolve("examples/systemd/vigil.service");
const hasAnalyze = spawnSync("sh", ["-c", "command -v systemd-analyze"]).status === 0;

/** The [Service] settings of a unit file (last one wins, as in systemd). */
function serviceSettings(text: string): Map<string, string> {
  const settings = new Map<string, string>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) section = line;
    else if (section === "[Service]") {
      const at = line.indexOf("=");
      settings.set(line.slice(0, at), line.slice(at + 1));
    }
  }
  return settings;
}

describe("examples/systemd/vigil.service", () => {
  test("is a notify service with a watchdog, only the agent notifies, only the agent is signalled", async () => {
    const settings = serviceSettings(await readFile(UNIT, "utf8"));
    assert.equal(settings.get("Type"), "notify");
    assert.match(settings.get("WatchdogSec") ?? "", /^\d+s$/);
    assert.equal(settings.get("NotifyAccess"), "main");
    assert.equal(settings.get("KillMode"), "process");
    assert.equal(settings.get("Restart"), "on-failure");
    assert.match(settings.get("ExecStart") ?? "", /^\/usr\/bin\/vigil agent /);
    assert.equal(settings.get("ExecReload"), "/bin/kill -HUP $MAINPID");
  });

  test("systemd-analyze verify finds nothing to complain about", {
    skip: !hasAnalyze && "needs systemd-analyze",
  }, async () => {
    // ExecStart must name an executable that exists here; everything else is checked as shipped.
    const dir = await mkdtemp(join(tmpdir(), "vigil-unit-"));
    try {
      const text = (await readFile(UNIT, "utf8")).replace(
        "ExecStart=/usr/bin/vigil",
        `ExecStart=${process.execPath} ${resolve("bin/vigil.js")}`,
      );
      const copy = join(dir, "vigil.service");
      await writeFile(copy, text);
      const { stdout, stderr } = await run("systemd-analyze", ["verify", copy]);
      assert.equal(`${stdout}${stderr}`, "");
    } finally {
      await removeTestDir(dir);
    }
  });
});
