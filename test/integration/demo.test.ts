import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { waitFor } from "../support/wait.js";

/** `vigil demo` driven line by line on stdin, as a script (or a curious user) would. */
test("vigil demo: a kill is detected, a restart comes back, quit stops everything", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-demo-test-"));
  const { entry, execArgv } = cliEntry();
  const demo = spawn(process.execPath, [...execArgv, entry, "demo", "--dir", dir], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  demo.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  demo.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => demo.once("exit", resolve));
  /** Asks for a status screen and returns its "alpha" row and its events. */
  const screen = async (): Promise<string> => {
    const mark = output.length;
    demo.stdin.write("status\n");
    return waitFor("a status screen", () => {
      const text = output.slice(mark);
      const end = text.indexOf("--- end");
      return end >= 0 ? text.slice(0, end) : undefined;
    });
  };
  const row = (text: string, name: string) =>
    text.split("\n").find((line) => line.startsWith(name.padEnd(10))) ?? "";
  try {
    await waitFor("alpha to see beta and gamma up", async () => {
      const alpha = row(await screen(), "alpha");
      return (alpha.match(/\bup \+/g) ?? []).length === 2 ? true : undefined;
    });
    demo.stdin.write("kill 3\n");
    await waitFor("ok kill", () => (output.includes("ok kill gamma") ? true : undefined));
    const afterKill = await waitFor("gamma declared dead", async () => {
      const text = await screen();
      // Each node decides on its own: wait for alpha's verdict, not just anyone's.
      return /gamma DEAD \(timeout/.test(text) && /dead -/.test(row(text, "alpha"))
        ? text
        : undefined;
    });
    assert.match(row(afterKill, "gamma"), /\(killed\)/);
    assert.match(row(afterKill, "alpha"), /dead -/);

    demo.stdin.write("start 3\n");
    await waitFor("gamma back up", async () => {
      const alpha = row(await screen(), "alpha");
      return (alpha.match(/\bup \+/g) ?? []).length === 2 ? true : undefined;
    });
    demo.stdin.write("quit\n");
    assert.equal(await exited, 0, `demo exited cleanly; output:\n${output}`);
    assert.match(output, /demo stopped/);
    assert.ok(existsSync(join(dir, "vigil.yaml")), "the demo leaves its config for inspection");
  } finally {
    if (demo.exitCode === null) demo.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
