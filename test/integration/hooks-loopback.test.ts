import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import {
  echoResourceLines,
  runLocalVigil,
  startProbedCluster,
  stopProbedCluster,
  whoServes,
} from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/**
 * Hooks on three real agents on loopback: a cluster-wide hook that fails its first two tries,
 * through a failover that also changes the leader; node hooks; keepalived-style scripts.
 */
describe("notification hooks on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;

  const lines = async (file: string) =>
    (await readFile(join(dir, file), "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
  /** The cluster-wide hook's log, one delivery a line: seq id kind node deliveredBy. */
  const delivered = async () => (await lines("cluster-hook.log")).map((line) => line.split(" "));
  const firstOfEach = (rows: string[][]) => {
    const seen = new Map<string, string[]>();
    for (const row of rows) if (!seen.has(row[1]!)) seen.set(row[1]!, row);
    return [...seen.values()];
  };
  const leaderOf = async (among: readonly string[]) => {
    for (const name of among) {
      const status = await cluster.status(name).catch(() => null);
      if (status?.coordination?.role === "leader") return name;
    }
    return undefined;
  };
  const runningOn = async (via: string) => {
    const state = await cluster.state(via);
    const cells = Object.entries(state.resources.echo ?? {});
    const [only] = cells;
    return cells.length === 1 && only?.[1].active === "started" ? only[0] : undefined;
  };

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-hooks-"));
    const clusterHook = join(dir, "cluster-hook");
    // Fails its first two runs (whichever node runs it), then records every delivery.
    await writeFile(
      clusterHook,
      [
        "#!/bin/sh",
        `tries=$(cat ${dir}/tries 2>/dev/null || echo 0); echo $((tries + 1)) > ${dir}/tries`,
        'if [ "$tries" -lt 2 ]; then echo "not yet ($tries)" >&2; exit 1; fi',
        'read -r json; case "$json" in *"\\"id\\":\\"$VIGIL_EVENT_ID\\""*) ;; *) exit 3;; esac',
        `echo "$VIGIL_SEQ $VIGIL_EVENT_ID $VIGIL_EVENT $VIGIL_NODE $VIGIL_DELIVERED_BY" >> ${dir}/cluster-hook.log`,
        "",
      ].join("\n"),
    );
    const nodeHook = join(dir, "node-hook");
    await writeFile(
      nodeHook,
      `#!/bin/sh\necho "$VIGIL_EVENT $VIGIL_NODE" >> ${dir}/node-hook.$VIGIL_DELIVERED_BY.log\n`,
    );
    const transition = join(dir, "transition");
    await writeFile(
      transition,
      `#!/bin/sh\necho "$1 $2 $VIGIL_DELIVERED_BY" >> ${dir}/transitions.log\n`,
    );
    for (const file of [clusterHook, nodeHook, transition]) await chmod(file, 0o755);
    await cluster.applyResources(
      "alpha",
      [
        "resources:",
        ...echoResourceLines(dir, port),
        `    notify: { started: ${transition}, stopped: ${transition} }`,
        "hooks:",
        "  pager:",
        `    run: ${clusterHook}`,
        "    retry_ms: 100",
        "    max_retry_ms: 200",
        "  seen-here:",
        `    run: ${nodeHook}`,
        "    where: node",
        "    events: [node_dead]",
        "",
      ].join("\n"),
    );
  });

  after(() => stopProbedCluster(dir, cluster));

  test("a hook that fails twice then works gets the start once; the transition script runs where it started", async () => {
    const node = await waitFor("echo to run on one node", () => runningOn("alpha"));
    const rows = await waitFor("the start to be delivered", async () => {
      const now = await delivered();
      return now.some((row) => row[2] === "resource_started") ? now : undefined;
    });
    assert.deepEqual(
      rows.filter((row) => row[2] === "resource_started").map((row) => row[3]),
      [node],
    );
    assert.ok(
      Number(await readFile(join(dir, "tries"), "utf8")) >= 3,
      "the first two tries failed",
    );
    const status = await runLocalVigil("status", "--socket", cluster.socketPath(node));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Hooks .*\n.*\n.*pager +cluster /m);
    assert.match(status.stdout, /seen-here +node /);
    await waitFor("the started script to run", async () =>
      (await lines("transitions.log")).includes(`echo started ${node}`) ? true : undefined,
    );
  });

  test("through a failover that also loses the leader, every event reaches the cluster-wide hook, in order", async () => {
    const names = cluster.names;
    const leader = await waitFor("a leader", () => leaderOf(names));
    // The leader runs echo too, so its loss is both a failover and a leader change.
    if ((await runningOn(leader)) !== leader) {
      const moved = await runLocalVigil(
        "resource",
        "move",
        "echo",
        leader,
        "--socket",
        cluster.socketPath(leader),
      );
      assert.equal(moved.code, 0, moved.stderr);
    }
    await waitFor("echo to run on the leader", async () =>
      (await runningOn(leader)) === leader ? true : undefined,
    );
    await cluster.signal(leader, "SIGKILL");
    const survivors = names.filter((name) => name !== leader);
    const next = await waitFor(
      "echo to run on a survivor",
      async () => {
        const node = await runningOn(survivors[0]!).catch(() => undefined);
        return node !== undefined && node !== leader ? node : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.equal(await whoServes(port), next);
    // Every numbered event was delivered (duplicates allowed, by id), in the cluster's order.
    const state = await waitFor(
      "the hook's progress to catch up",
      async () => {
        const current = await cluster.state(survivors[0]!);
        const n = current.notifications;
        return n !== undefined &&
          n.events.length === 0 &&
          (n.delivered.pager ?? 0) === n.nextSeq - 1
          ? current
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const unique = firstOfEach(await delivered());
    assert.deepEqual(
      unique.map((row) => Number(row[0])),
      Array.from({ length: (state.notifications?.nextSeq ?? 1) - 1 }, (_, i) => i + 1),
      "each event once (after dropping repeats by id), none missing, in order",
    );
    const kinds = unique.map((row) => `${row[2]} ${row[3]}`);
    for (const expected of [
      `resource_moved ${next}`,
      `resource_started ${next}`,
      `node_dead ${leader}`,
    ])
      assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(", ")}`);
    assert.equal(state.notifications?.dropped.pager, 0);
    // The node hook: each survivor saw the leader die, and said so itself.
    for (const name of survivors) {
      await waitFor(`${name}'s node hook to report ${leader} dead`, async () =>
        (await lines(`node-hook.${name}.log`)).includes(`node_dead ${leader}`) ? true : undefined,
      );
    }
  });
});
