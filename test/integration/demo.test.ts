import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cliEntry } from "../../src/demo/local-cluster.js";
import { removeTestDir } from "../support/remove-dir.js";
import { waitFor } from "../support/wait.js";

/** `vigil demo` driven line by line on stdin, as a script (or a curious user) would. */
test("vigil demo: a kill is detected and its service taken over, a restart comes back, quit stops everything", async () => {
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
  /** The one node the demo service runs on, settled. */
  const serviceNode = (text: string) => /^Resource demo-service runs on: (\w+)$/m.exec(text)?.[1];
  const names = ["alpha", "beta", "gamma"];
  try {
    await waitFor("alpha to see beta and gamma up", async () => {
      const alpha = row(await screen(), "alpha");
      return (alpha.match(/\bup \+/g) ?? []).length === 2 ? true : undefined;
    });
    const first = await waitFor("the demo service to run", async () => serviceNode(await screen()));
    const victim = names.indexOf(first) + 1;
    const observer = names.find((name) => name !== first)!;
    demo.stdin.write(`kill ${victim}\n`);
    await waitFor("ok kill", () => (output.includes(`ok kill ${first}`) ? true : undefined));
    const afterKill = await waitFor(`${first} declared dead`, async () => {
      const text = await screen();
      // Each node decides on its own: wait for the observer's verdict, not just anyone's.
      return new RegExp(`${first} DEAD \\(timeout`).test(text) && /dead -/.test(row(text, observer))
        ? text
        : undefined;
    });
    assert.match(row(afterKill, first), /\(killed\)/);
    const next = await waitFor("the service to be taken over", async () => {
      const where = serviceNode(await screen());
      return where !== undefined && where !== first ? where : undefined;
    });

    demo.stdin.write(`start ${victim}\n`);
    await waitFor(`${first} back up`, async () => {
      const view = row(await screen(), observer);
      return (view.match(/\bup \+/g) ?? []).length === 2 ? true : undefined;
    });
    // The killed agent's node guard stopped its copy; the restarted node probes: one copy is left.
    await waitFor("one copy of the service", async () => {
      const where = serviceNode(await screen());
      const copies = names.filter((name) => existsSync(join(dir, `demo-service.${name}.running`)));
      return where !== undefined && copies.length === 1 && copies[0] === where ? true : undefined;
    });
    assert.notEqual(next, first);
    demo.stdin.write("quit\n");
    assert.equal(await exited, 0, `demo exited cleanly; output:\n${output}`);
    assert.match(output, /demo stopped/);
    assert.ok(existsSync(join(dir, "vigil.yaml")), "the demo leaves its config for inspection");
  } finally {
    // SIGTERM first: the demo stops its agents; a SIGKILLed demo would leave them running.
    if (demo.exitCode === null) {
      demo.kill("SIGTERM");
      const stopped = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000)),
      ]);
      if (!stopped) demo.kill("SIGKILL");
    }
    await removeTestDir(dir);
  }
});
