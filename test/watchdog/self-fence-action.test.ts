import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { WatchdogConfig } from "../../src/config/safety-schema.js";
import { checkSelfFenceAction } from "../../src/watchdog/self-fence-action.js";
import { configErrorOf, VALID_YAML } from "../config/helpers.js";

describe("watchdog.action in the configuration", () => {
  for (const [action, message] of [
    [`"sh -c 'reboot"`, /unterminated ' in/],
    [`"   "`, /no command in it, only blanks/],
    [`'systemctl reboot \\'`, /trailing \\/],
  ] as const) {
    test(`${action} is refused where it is written`, () => {
      const error = configErrorOf(`${VALID_YAML}watchdog:\n  action: ${action}\n`);
      const issue = error.issues.find((i) => i.keyPath === "watchdog.action");
      assert.ok(issue, error.message);
      assert.match(issue.message, message);
      // The line after "watchdog:", which follows the valid file's last line.
      assert.equal(issue.line, VALID_YAML.split("\n").length + 1);
      assert.equal(issue.column, 11);
    });
  }
});

describe("the self-fence action's program, checked when the agent starts", () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
  const guarded = (action: string): WatchdogConfig => ({ lease_guard: true, action });

  async function programDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "vigil-action-"));
    dirs.push(dir);
    await writeFile(join(dir, "fence-me"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    await writeFile(join(dir, "not-executable"), "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    return dir;
  }

  test("found by absolute path or on PATH: the agent starts", async () => {
    const dir = await programDir();
    await checkSelfFenceAction(guarded(`${dir}/fence-me --now`), "/nonexistent");
    await checkSelfFenceAction(guarded("fence-me 'with words'"), `/nonexistent:${dir}`);
  });

  test("missing, or not executable: refused with the program and where it was looked for", async () => {
    const dir = await programDir();
    await assert.rejects(
      checkSelfFenceAction(guarded("/nonexistent/reboot-now"), dir),
      /watchdog\.action: \/nonexistent\/reboot-now is not an executable program on this host: the node guard could not fence this node/,
    );
    await assert.rejects(
      checkSelfFenceAction(guarded("fence-me"), "/nonexistent"),
      /fence-me is not an executable program on this host \(searched PATH: \/nonexistent\)/,
    );
    await assert.rejects(
      checkSelfFenceAction(guarded(`${dir}/not-executable`), ""),
      /not-executable is not an executable program/,
    );
    await chmod(join(dir, "not-executable"), 0o755);
    await checkSelfFenceAction(guarded(`${dir}/not-executable`), "");
  });

  test("without the guard nothing runs the action: not checked", async () => {
    await checkSelfFenceAction({ lease_guard: false, action: "/nonexistent/x" }, "");
  });
});
