import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { controlGet } from "../../src/control/client.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import { startProbedCluster, stopProbedCluster } from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

const AGENT = resolve("test/fixtures/agents/notify-logger");
const WAIT = { timeoutMs: 90_000, intervalMs: 200 };

/** One line the agent wrote: who, what, and for a notification its lists by name. */
interface Line {
  node: string;
  action: string;
  lists: Record<string, string>;
}

function parseLog(text: string): Line[] {
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [node = "", action = "", ...rest] = line.split(" ");
      const isNotify = action === "notify";
      const what = isNotify ? `notify ${rest.shift() ?? ""}` : action;
      const lists = Object.fromEntries(
        rest.map((pair) => {
          const [name = "", value = ""] = pair.split("=");
          return [name, value];
        }),
      );
      return { node, action: what, lists };
    });
}

/**
 * Asserts that `promoted`'s promote is in the log, every copy running (`running`) was told
 * before it (pre-promote) and after it (post-promote), each time with the lists of that round;
 * returns where the promote is in the log.
 */
function toldAroundPromotion(log: Line[], promoted: string, running: string[]): number {
  const promote = log.findIndex((l) => l.action === "promote");
  assert.equal(log[promote]?.node, promoted, JSON.stringify(log));
  const told = (action: string) =>
    log.flatMap((l, i) => (l.action === action ? [{ ...l, i }] : []));
  const pre = told("notify pre-promote");
  const post = told("notify post-promote");
  assert.deepEqual(pre.map((l) => l.node).sort(), running);
  assert.deepEqual(post.map((l) => l.node).sort(), running);
  assert.ok(
    pre.every((l) => l.i < promote),
    JSON.stringify(log),
  );
  assert.ok(
    post.every((l) => l.i > promote),
    JSON.stringify(log),
  );
  // A list is in copy-key order (its _resource list pairs up by position): compare as sets.
  const sorted = (lists: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(lists).map(([name, value]) => [name, value.split(",").sort().join(",")]),
    );
  for (const l of [...pre, ...post]) {
    assert.deepEqual(sorted(l.lists), {
      start: "",
      stop: "",
      promote: promoted,
      demote: "",
      active: running.join(","),
      master: "",
      slave: running.join(","),
    });
  }
  return promote;
}

/**
 * Clone notifications to a real agent process on three real Vigil agents on loopback:
 * test/fixtures/agents/notify-logger logs every action and every notification's type, operation
 * and lists; the test reads the order they happened in around the first promotion and a failover.
 */
describe("clone notifications, on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  const logFile = () => join(dir, "notify.log");
  const lines = async () => parseLog(await readFile(logFile(), "utf8").catch(() => ""));
  const promotedOn = async (name: string) => {
    const state = await controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
    const cells = Object.entries(state.resources)
      .filter(([key]) => key.startsWith("nl-ha:"))
      .flatMap(([, byNode]) => Object.entries(byNode));
    return cells.filter(([, cell]) => cell.active === "promoted").map(([node]) => node);
  };

  before(async () => {
    ({ dir, cluster } = await startProbedCluster("vigil-notify-", { built: true }));
    await cluster.applyResources(
      "alpha",
      [
        "resources:",
        "  nl:",
        `    agent: exec:${AGENT}`,
        `    params: { statedir: ${dir}, log: ${logFile()}, score: 10 }`,
        "    params_on: { alpha: { score: 30 }, beta: { score: 20 } }",
        "    operations:",
        "      monitor: { interval_ms: 500, timeout_ms: 20000 }",
        "      notify: { timeout_ms: 10000 }",
        "clones:",
        "  nl-ha: { of: nl, promotable: true, notify: true }",
        "",
      ].join("\n"),
      60_000,
    );
  });

  after(() => stopProbedCluster(dir, cluster));

  test("the first promotion: every copy told before and after it, with the lists; none told before it started", async () => {
    const log = await waitFor(
      "alpha's copy promoted and every copy told so",
      async () => {
        const all = await lines();
        const told = all.filter((l) => l.action === "notify post-promote").length;
        return told === 3 && (await promotedOn("beta")).join() === "alpha" ? all : undefined;
      },
      WAIT,
    );
    const promote = toldAroundPromotion(log, "alpha", ["alpha", "beta", "gamma"]);
    // A copy is told only while it runs: each node's first line is its own start, and every
    // start is followed by a post-start notification naming it, to every copy then running.
    for (const node of ["alpha", "beta", "gamma"]) {
      const own = log.filter((l) => l.node === node);
      assert.equal(own[0]?.action, "start", `${node}: ${JSON.stringify(own)}`);
      const started = log.findIndex((l) => l.node === node && l.action === "start");
      const toldStarted = log.filter(
        (l, i) =>
          i > started &&
          i < promote &&
          l.action === "notify post-start" &&
          l.lists.start?.split(",").includes(node),
      );
      assert.ok(
        toldStarted.some((l) => l.node === node),
        `${node}: ${JSON.stringify(log)}`,
      );
    }
  });

  test("a failover: the primary's agent killed, the copies left told before and after the new promotion", async () => {
    const before = (await lines()).length;
    await cluster.signal("alpha", "SIGKILL");
    const log = await waitFor(
      "beta's copy promoted and beta and gamma told so",
      async () => {
        const all = (await lines()).slice(before);
        const told = all.filter((l) => l.action === "notify post-promote").length;
        return told === 2 && (await promotedOn("beta")).join() === "beta" ? all : undefined;
      },
      WAIT,
    );
    // alpha is gone: only the copies still running are told, and the lists say who runs now.
    toldAroundPromotion(log, "beta", ["beta", "gamma"]);
  });

  test("a replica that dies is recovered as Pacemaker recovers it: stopped, then started again through a round the primary hears", async () => {
    const before = (await lines()).length;
    // gamma's copy dies: its monitor finds it gone.
    await rm(join(dir, "notify-logger.gamma"));
    const log = await waitFor(
      "gamma's copy started again and both copies told so",
      async () => {
        const all = (await lines()).slice(before);
        const told = all.filter((l) => l.action === "notify post-start").length;
        return told === 2 ? all : undefined;
      },
      WAIT,
    );
    const at = (node: string, action: string) =>
      log.findIndex((l) => l.node === node && l.action === action);
    const stop = at("gamma", "stop");
    const start = at("gamma", "start");
    const preStart = at("beta", "notify pre-start");
    assert.ok(stop >= 0 && stop < preStart && preStart < start, JSON.stringify(log));
    assert.equal(log[preStart]?.lists.start, "gamma");
    assert.equal(log[preStart]?.lists.active, "beta");
    for (const node of ["beta", "gamma"]) assert.ok(at(node, "notify post-start") > start);
    assert.deepEqual(await promotedOn("beta"), ["beta"], "the primary stays");
  });
});
