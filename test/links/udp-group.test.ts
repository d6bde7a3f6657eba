/**
 * mcast and bcast between two network namespaces joined by a veth pair (198.18.200.0/24). Each
 * namespace runs test/links/fixtures/netns-exchange.ts. Needs root and `ip netns`; skipped
 * otherwise. Nothing is created in the root namespace: the veth is made inside the first
 * namespace with its peer end placed straight into the second.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { waitFor } from "../support/wait.js";

const execFileAsync = promisify(execFile);
const FIXTURE = fileURLToPath(new URL("./fixtures/netns-exchange.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const IFACE = "vl0";
const PORT = 5694;
/** A safety net for a broken run; the exchange itself takes well under a second. */
const REPORT_TIMEOUT_MS = 20_000;

function canUseNetns(): string | false {
  if (process.getuid?.() !== 0) return "needs root";
  if (spawnSync("ip", ["netns", "list"], { stdio: "ignore" }).status !== 0) {
    return "ip netns unavailable";
  }
  return false;
}

async function ip(...args: string[]): Promise<void> {
  await execFileAsync("ip", args, { timeout: 15_000 });
}

async function waitUntilRunning(ns: string, iface: string): Promise<void> {
  await waitFor(`${iface} in ${ns} to be up`, async () => {
    const { stdout } = await execFileAsync("ip", ["-n", ns, "-j", "link", "show", iface]);
    const [info] = JSON.parse(stdout) as Array<{ operstate?: string }>;
    return info?.operstate === "UP" ? true : undefined;
  });
}

interface Child {
  process: ChildProcess;
  nextLine(): Promise<Record<string, unknown>>;
}

function startChild(ns: string, args: string[]): Child {
  const child = spawn(
    "ip",
    ["netns", "exec", ns, process.execPath, "--import", "tsx", FIXTURE, ...args],
    { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
    const waiter = waiters.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`child in ${ns} exited with ${code}`))),
  );
  exited.catch(() => {});
  return {
    process: child,
    async nextLine() {
      const queued = lines.shift();
      const line =
        queued ??
        (await Promise.race([
          new Promise<string>((resolve) => waiters.push(resolve)),
          exited,
          new Promise<never>((_, reject) =>
            setTimeout(
              () => reject(new Error(`no report from ${ns} in ${REPORT_TIMEOUT_MS} ms`)),
              REPORT_TIMEOUT_MS,
            ).unref(),
          ),
        ]));
      return JSON.parse(line) as Record<string, unknown>;
    },
  };
}

test("mcast and bcast links exchange frames between two namespaces", {
  skip: canUseNetns(),
}, async () => {
  const suffix = randomBytes(3).toString("hex").slice(0, 5);
  const nsA = `vgl${suffix}-a`;
  const nsB = `vgl${suffix}-b`;
  const group = `239.255.${randomBytes(1)[0]}.${1 + ((randomBytes(1)[0] ?? 0) % 254)}`;
  const otherGroup = `239.254.${randomBytes(1)[0]}.1`;
  const children: Child[] = [];
  const created: string[] = [];
  try {
    for (const ns of [nsA, nsB]) {
      await ip("netns", "add", ns);
      created.push(ns);
      await ip("-n", ns, "link", "set", "lo", "up");
    }
    await ip("-n", nsA, "link", "add", IFACE, "type", "veth", "peer", "name", IFACE, "netns", nsB);
    for (const [ns, host] of [
      [nsA, 1],
      [nsB, 2],
    ] as const) {
      await ip("-n", ns, "addr", "add", `198.18.200.${host}/24`, "dev", IFACE);
      await ip("-n", ns, "link", "set", IFACE, "up");
    }

    // Interfaces without carrier are invisible to os.networkInterfaces(): wait for the veth.
    for (const ns of [nsA, nsB]) await waitUntilRunning(ns, IFACE);

    const a = startChild(nsA, [
      "alpha",
      "beta",
      IFACE,
      "198.18.200.1",
      group,
      otherGroup,
      String(PORT),
    ]);
    children.push(a);
    const b = startChild(nsB, [
      "beta",
      "alpha",
      IFACE,
      "198.18.200.2",
      group,
      otherGroup,
      String(PORT),
    ]);
    children.push(b);

    const [heardAtA, heardAtB] = await Promise.all([a.nextLine(), b.nextLine()]);
    assert.deepEqual(heardAtA, {
      heard: {
        mc0: { payload: "beta on mc0", from: `198.18.200.2:${PORT}` },
        bc0: { payload: "beta on bc0", from: `198.18.200.2:${PORT}` },
      },
    });
    assert.deepEqual(heardAtB, {
      heard: {
        mc0: { payload: "alpha on mc0", from: `198.18.200.1:${PORT}` },
        bc0: { payload: "alpha on bc0", from: `198.18.200.1:${PORT}` },
      },
    });

    for (const child of children) child.process.stdin?.end();
    const finals = await Promise.all(children.map((child) => child.nextLine()));
    for (const report of finals) {
      const final = report.final as {
        ownFrames: { mc0: number; bc0: number };
        otherGroupFrames: string[];
        errors: string[];
        counters: Record<string, { framesSent: number; sendErrors: number }>;
      };
      assert.deepEqual(final.errors, []);
      // The socket of another group on the same port hears none of this group's traffic.
      assert.deepEqual(final.otherGroupFrames, []);
      // mcast loopback is off; broadcast always loops back (dropped upstream as from_self).
      assert.equal(final.ownFrames.mc0, 0);
      assert.ok(final.ownFrames.bc0 > 0, "own broadcasts loop back");
      assert.ok((final.counters.mc0?.framesSent ?? 0) > 0);
      assert.equal(final.counters.mc0?.sendErrors, 0);
      assert.equal(final.counters.bc0?.sendErrors, 0);
    }
  } finally {
    for (const child of children) {
      if (child.process.exitCode === null && child.process.signalCode === null) {
        const gone = new Promise((resolve) => child.process.once("exit", resolve));
        child.process.kill("SIGKILL");
        await gone;
      }
    }
    if (created.includes(nsA)) await ip("-n", nsA, "link", "del", IFACE).catch(() => {});
    for (const ns of created) await ip("netns", "del", ns);
  }
});
