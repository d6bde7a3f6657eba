import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { ClusterEvent } from "../../src/control/cluster-events.js";
import { LocalCluster } from "../../src/demo/local-cluster.js";
import { runLocalVigil } from "../support/local-takeover.js";
import { removeTestDir } from "../support/remove-dir.js";
import { RunningVigil } from "../support/running-vigil.js";
import { waitFor } from "../support/wait.js";

/** Three real agents on loopback; `vigil events` and `vigil status --watch` against them. */
describe("vigil events and vigil status --watch with real agents", () => {
  let dir: string;
  let cluster: LocalCluster;
  const running: RunningVigil[] = [];
  const vigil = (...args: string[]) => {
    const command = new RunningVigil(...args);
    running.push(command);
    return command;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-cli-follow-"));
    cluster = await LocalCluster.create({ nodes: 3, dir, profile: "default" });
    for (const name of cluster.names) await cluster.start(name);
    await waitFor("every node to have probed", async () => {
      const state = await cluster.state("alpha");
      return cluster.names.every((name) => state.agents[name] !== undefined) ? true : undefined;
    });
  });

  after(async () => {
    for (const command of running) await command.stop();
    await cluster?.stopAll();
    await removeTestDir(dir);
  });

  test("vigil events --json: the state's changes and the node's own events, in order", async () => {
    const printed = await runLocalVigil("events", "--json", "--socket", cluster.socketPath("beta"));
    assert.equal(printed.code, 0, printed.stderr);
    const events = printed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as ClusterEvent);
    const probes = events.filter((event) => event.kind === "change" && /probed/.test(event.text));
    assert.ok(probes.length >= 3, `every node's probe is a change: ${printed.stdout}`);
    const seen = events.filter((event) => event.kind === "node_up");
    assert.ok(seen.length >= 2, "beta saw its two peers come up");
    assert.ok(seen.every((event) => event.source === "beta"));
    assert.equal(new Set(events.map((event) => event.id)).size, events.length, "ids are unique");
    const versions = events.map((event) => event.stateVersion);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      "ordered by state version",
    );
    const text = await runLocalVigil("events", "--socket", cluster.socketPath("beta"));
    assert.match(text.stdout, /^\S+Z {2}v\d+ {2}beta {2}node_up {2}\w+ up \(incarnation \d+\)$/m);
  });

  test("vigil events --follow prints a later change once, as it is committed", async () => {
    const follow = vigil(
      "events",
      "--follow",
      "--json",
      "--interval-ms",
      "200",
      "--socket",
      cluster.socketPath("alpha"),
    );
    await waitFor("the first events", () => (follow.stdout.includes("\n") ? true : undefined));
    for (const standby of ["standby", "online"]) {
      const done = await runLocalVigil(
        "node",
        standby,
        "gamma",
        "--socket",
        cluster.socketPath("beta"),
      );
      assert.equal(done.code, 0, done.stderr);
    }
    await waitFor("gamma's standby and back in the followed events", () =>
      follow.stdout.includes("node gamma standby off") ? true : undefined,
    );
    // A poll or two more: nothing already printed comes again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = follow.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as ClusterEvent).id);
    assert.equal(new Set(ids).size, ids.length, "every event printed once");
    assert.ok(follow.running, follow.stderr);
  });

  test("vigil status --watch on a pipe: dated snapshots; an agent that leaves is shown, then again its status", async () => {
    const watch = vigil(
      "status",
      "--watch",
      "--interval-ms",
      "200",
      "--socket",
      cluster.socketPath("gamma"),
    );
    const snapshots = () => watch.stdout.split(/^--- /m).slice(1);
    await waitFor("two snapshots", () => (snapshots().length >= 2 ? true : undefined));
    assert.match(snapshots()[0] ?? "", /^\S+Z {2}every 200 ms\n/);
    assert.match(snapshots()[0] ?? "", /gamma/);
    await cluster.signal("gamma", "SIGTERM");
    await waitFor("the watch to say gamma's agent is gone", () =>
      snapshots().some((snapshot) =>
        /no status \(retrying every 200 ms\)\ncannot reach the agent/.test(snapshot),
      )
        ? true
        : undefined,
    );
    await cluster.start("gamma");
    const countBefore = snapshots().length;
    await waitFor("the watch to show gamma's status again", () =>
      snapshots()
        .slice(countBefore)
        .some((snapshot) => /^\S+Z {2}every 200 ms\n/.test(snapshot))
        ? true
        : undefined,
    );
    assert.ok(!watch.stdout.includes("\x1b"), "no escape codes on a pipe");
    assert.ok(watch.running, watch.stderr);
  });

  test("--interval-ms without --watch or --follow is refused, naming the option", async () => {
    const status = await runLocalVigil(
      "status",
      "--interval-ms",
      "500",
      "--socket",
      cluster.socketPath("alpha"),
    );
    assert.equal(status.code, 2);
    assert.match(status.stderr, /--interval-ms goes with --watch/);
    const events = await runLocalVigil(
      "events",
      "--follow",
      "--interval-ms",
      "5",
      "--socket",
      cluster.socketPath("alpha"),
    );
    assert.equal(events.code, 2);
    assert.match(
      events.stderr,
      /--interval-ms takes a whole number of milliseconds from 100 to 3600000/,
    );
  });
});
