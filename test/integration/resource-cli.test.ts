import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import type { ClusterState } from "../../src/state/types.js";
import {
  applyEchoService,
  runLocalVigil,
  startProbedCluster,
  stopProbedCluster,
  whoServes,
} from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

const _run = promisify(execFile);

/** `vigil resource move|ban|clear|stop|start|restart` and the status section, on three real agents. */
describe("vigil resource commands on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;

  const vigil = (...args: string[]) =>
    runLocalVigil(...args, "--socket", cluster.socketPath("alpha"));
  const state = () => controlGet<ClusterState>(cluster.socketPath("alpha"), "/v1/state");
  /** The one node the state says runs echo, once exactly one runs it and nothing is in flight. */
  const runningOn = (s: ClusterState) => {
    const cells = Object.entries(s.resources.echo ?? {});
    if (cells.length !== 1) return undefined;
    const [node, cell] = cells[0]!;
    return cell.active !== undefined && cell.target === cell.active ? node : undefined;
  };
  /** Waits until echo runs (and answers) on one node, other than `not` if given. */
  const settled = (what: string, accept: (node: string) => boolean = () => true) =>
    waitFor(what, async () => {
      const node = runningOn(await state());
      return node !== undefined && accept(node) && (await whoServes(port)) === node
        ? node
        : undefined;
    });
  const events = async () =>
    (await readFile(join(dir, "events.log"), "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.split(" ").slice(1).join(" "));

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-resource-cli-"));
    const applied = await applyEchoService(dir, port, cluster.socketPath("alpha"));
    assert.equal(applied.code, 0, applied.stderr);
    await settled("echo to run on one node");
  });

  after(() => stopProbedCluster(dir, cluster));

  test("move to a named node, then clear; status shows the preference", async () => {
    const from = runningOn(await state())!;
    const to = cluster.names.find((name) => name !== from)!;
    const moved = await vigil("resource", "move", "echo", to);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`echo moves to ${to}: it prefers ${to} now`));
    assert.match(moved.stdout, /`vigil resource clear echo` removes the preference/);
    await settled(`echo to run on ${to}`, (node) => node === to);
    assert.deepEqual((await state()).operator.echo, { prefer: to });

    const table = await vigil("status");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /NODE\s+ID\s+STATE/);
    assert.match(table.stdout, new RegExp(`\\necho\\s+${to}\\s+started\\s+started`));
    assert.match(table.stdout, new RegExp(`Operator overrides: echo moved to ${to}`));
    const json = JSON.parse((await vigil("status", "--json")).stdout) as {
      node: { name: string };
      resources: { state: ClusterState["resources"]; local: unknown[] };
    };
    assert.equal(json.node.name, "alpha");
    assert.deepEqual(Object.keys(json.resources.state.echo ?? {}), [to]);

    const cleared = await vigil("resource", "clear", "echo");
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, /moves and bans of echo cleared \(cluster state version \d+\)/);
    assert.equal((await state()).operator.echo, undefined);
    const again = await vigil("resource", "clear", "echo");
    assert.equal(again.code, 1);
    assert.match(again.stderr, /echo has no move or ban to clear/);
  });

  test("move without a node bans the node it runs on; ban a named node", async () => {
    const from = runningOn(await state())!;
    const moved = await vigil("resource", "move", "echo");
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`echo runs on ${from}: banned it from ${from}`));
    assert.match(moved.stdout, /`vigil resource clear echo` removes the ban/);
    const second = await settled("echo to leave the banned node", (node) => node !== from);

    const banned = await vigil("resource", "ban", "echo", second);
    assert.equal(banned.code, 0, banned.stderr);
    assert.match(banned.stdout, new RegExp(`echo is banned from ${second}`));
    const third = await settled("echo to run on the last node", (n) => n !== from && n !== second);
    assert.deepEqual((await state()).operator.echo?.bans, [from, second].sort());

    const table = await vigil("status");
    assert.match(
      table.stdout,
      new RegExp(`Operator overrides: echo banned from ${[from, second].sort().join(", ")}`),
    );
    const cleared = await vigil("resource", "clear", "echo");
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.equal(runningOn(await state()), third);
  });

  test("stop keeps it stopped everywhere until start", async () => {
    const stopped = await vigil("resource", "stop", "echo");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /echo is stopped by the operator/);
    assert.match(stopped.stdout, /`vigil resource start echo` starts it again/);
    await waitFor("echo to stop everywhere", async () =>
      (await state()).resources.echo === undefined && (await whoServes(port)) === undefined
        ? true
        : undefined,
    );
    assert.match((await vigil("status")).stdout, /Operator overrides: echo stopped by operator/);

    const started = await vigil("resource", "start", "echo");
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /echo is no longer stopped by the operator/);
    await settled("echo to run again");
    assert.equal((await state()).operator.echo, undefined);
  });

  test("restart stops it everywhere, then starts it, and says how long each took", async () => {
    const before = (await events()).length;
    const restarted = await vigil("resource", "restart", "echo");
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.match(restarted.stdout, /stopping echo \(on \w+; cluster state version \d+\)/);
    assert.match(restarted.stdout, /echo stopped everywhere after [\d.]+ m?s/);
    assert.match(restarted.stdout, /starting echo \(cluster state version \d+\)/);
    assert.match(restarted.stdout, /echo runs again on \w+ after [\d.]+ m?s \(restart took /);
    const node = await settled("echo to run after the restart");
    const after = (await events()).slice(before);
    assert.equal(after.length, 2, after.join("; "));
    assert.match(after[0]!, /^stop /);
    assert.equal(after[1], `start ${node}`);
    assert.equal((await state()).operator.echo, undefined);
  });

  test("a restart that times out leaves it stopped and says how to go on", async () => {
    const result = await vigil("resource", "restart", "echo", "--timeout", "0.001");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /echo did not stop within \d+ ms/);
    assert.match(result.stderr, /`vigil resource start echo` starts it again/);
    assert.equal((await state()).operator.echo?.stopped, true);
    const started = await vigil("resource", "start", "echo");
    assert.equal(started.code, 0, started.stderr);
    await settled("echo to run again");
  });

  test("usage errors and unknown names", async () => {
    const unknownCommand = await vigil("resource", "bogus");
    assert.notEqual(unknownCommand.code, 0);
    assert.match(unknownCommand.stderr, /unknown command 'bogus'/);
    const missing = await vigil("resource", "move");
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /missing required argument 'resource'/);
    const badTimeout = await vigil("resource", "restart", "echo", "--timeout", "soon");
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.stderr, /--timeout takes a number of seconds/);

    const noResource = await vigil("resource", "stop", "nope");
    assert.equal(noResource.code, 1);
    assert.match(noResource.stderr, /404: no resource named nope .*\(resources: echo\)/);
    const noResourceMove = await vigil("resource", "move", "nope");
    assert.equal(noResourceMove.code, 1);
    assert.match(noResourceMove.stderr, /no resource named nope .*\(resources: echo\)/);
    const noNode = await vigil("resource", "ban", "echo", "zulu");
    assert.equal(noNode.code, 1);
    assert.match(noNode.stderr, /404: no node named zulu/);
    const noRestart = await vigil("resource", "restart", "nope");
    assert.equal(noRestart.code, 1);
    assert.match(noRestart.stderr, /404: no resource named nope/);
    assert.equal((await state()).operator.nope, undefined);
  });

  test("the service never ran on two nodes at once", async () => {
    let running: string | null = null;
    const lines = await events();
    for (const line of lines) {
      const [what, who] = line.split(" ");
      if (what === "start") {
        assert.equal(running, null, `start on ${who} while ${running} runs: ${lines.join("; ")}`);
        running = who!;
      } else {
        assert.equal(running, who, `stop on ${who} while ${running} runs: ${lines.join("; ")}`);
        running = null;
      }
    }
  });
});
