import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import type { ResourcesReply } from "../../src/cli/resources-table.js";
import { ControlClientError, controlGet, controlPost } from "../../src/control/client.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import { encodeCommand } from "../../src/state/commands.js";
import type { ClusterState } from "../../src/state/types.js";
import { RaftStore } from "../../src/storage/raft-store.js";
import {
  applyEchoService,
  runLocalVigil,
  startProbedCluster,
  stopProbedCluster,
  whoServes,
} from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/** Issue 12's document: a monitor with a zero interval and timeout. */
const BAD_DOCUMENT = [
  "resources:",
  "  a:",
  "    agent: vip",
  "    params: { address: 198.18.0.1/24 }",
  "    operations: { monitor: { interval_ms: 0, timeout_ms: 0 } }",
  "",
].join("\n");
/** How long every agent must stay up with the document in force (it died within seconds). */
const SURVIVE_MS = 5_000;

/**
 * A resource document that cannot be used, on three real agents on loopback: refused when
 * applied, and — once committed anyway (by an older validator) — contained to its resource.
 */
describe("a resource document that cannot be used", () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;
  const stateOn = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
  const everyAgentAnswers = async () => {
    for (const name of cluster.names) {
      assert.ok(cluster.isRunning(name), `the agent on ${name} died`);
      await controlGet(cluster.socketPath(name), "/v1/status");
    }
  };

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-bad-document-"));
  });

  after(() => stopProbedCluster(dir, cluster));

  test("the control API refuses it, saying why, and every agent stays up", async () => {
    const { configurationVersion } = await controlGet<{ configurationVersion: number }>(
      cluster.socketPath("beta"),
      "/v1/config",
    );
    await assert.rejects(
      controlPost(cluster.socketPath("beta"), "/v1/config", {
        text: BAD_DOCUMENT,
        document: parse(BAD_DOCUMENT),
        expectedVersion: configurationVersion,
        by: "api-client",
      }),
      (error: Error) =>
        error instanceof ControlClientError &&
        /422: invalid configuration: .*resources\.a\.operations\.monitor\.(timeout|interval)_ms: expected a positive/.test(
          error.message,
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await everyAgentAnswers();
  });

  test("`vigil config apply` points at each problem with file:line:column", async () => {
    const applyFile = async (name: string, lines: string[]) => {
      const file = join(dir, name);
      await writeFile(file, ["resources:", ...lines, ""].join("\n"));
      const applied = await runLocalVigil(
        "config",
        "apply",
        file,
        "--socket",
        cluster.socketPath("alpha"),
      );
      assert.notEqual(applied.code, 0);
      return { file, stderr: applied.stderr };
    };
    const timing = await applyFile("timing.yaml", [
      "  a:",
      "    agent: exec:/bin/true",
      "    operations: { monitor: { interval_ms: 0, timeout_ms: 1000 } }",
    ]);
    assert.match(timing.stderr, new RegExp(`${timing.file}:4:\\d+: .*interval_ms.*positive`));
    const addresses = await applyFile("addresses.yaml", [
      "  a: { agent: vip, params: { address: 198.18.0.1 } }",
      "  b: { agent: vip, params: { address: banana/99 } }",
    ]);
    assert.match(addresses.stderr, new RegExp(`${addresses.file}:2:\\d+: .*no prefix length`));
    assert.match(
      addresses.stderr,
      new RegExp(`${addresses.file}:3:\\d+: .*banana/99.*not an IPv4 or IPv6`),
    );
  });

  test("committed by an older validator, it stops no agent; the next good document runs", async () => {
    const { configurationVersion } = await controlGet<{ configurationVersion: number }>(
      cluster.socketPath("alpha"),
      "/v1/config",
    );
    await cluster.stopAll();
    // What an older agent that let the document through would have left in every log.
    const payload = encodeCommand({
      type: "config_apply",
      text: BAD_DOCUMENT,
      document: parse(BAD_DOCUMENT),
      expectedVersion: configurationVersion,
      by: "older-validator",
      atMs: Date.now(),
    });
    const stores = await Promise.all(
      cluster.names.map((name) => RaftStore.open(join(dir, "state", name, "raft"))),
    );
    // A term of its own: logs of different lengths then never hold one (index, term) twice.
    const term = Math.max(...stores.map((store) => store.state().hardState.term)) + 1;
    for (const store of stores) {
      const persisted = store.state();
      const lastIndex =
        persisted.entries.at(-1)?.index ?? persisted.snapshot?.meta.lastIncludedIndex ?? 0;
      await store.apply({
        hardState: { term, votedFor: null },
        append: [{ index: lastIndex + 1, term, body: { kind: "command", payload } }],
      });
      await store.close();
    }
    for (const name of cluster.names) await cluster.start(name);

    await waitFor("every agent to apply the document", async () => {
      for (const name of cluster.names) {
        const state = await stateOn(name).catch(() => null);
        if (state?.config.text !== BAD_DOCUMENT) return undefined;
      }
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, SURVIVE_MS));
    await everyAgentAnswers();

    const leader = await waitFor("the leader to say why a cannot run", async () => {
      for (const name of cluster.names) {
        const reply = await controlGet<ResourcesReply>(cluster.socketPath(name), "/v1/resources");
        const why = reply.leader?.unplaceable.find((entry) => entry.resource === "a")?.reason;
        if (why !== undefined) return { name, why };
      }
      return undefined;
    });
    assert.match(
      leader.why,
      /^its definition cannot be used: resources\.a\.operations\.monitor\.\w+_ms: expected a positive/,
    );
    const status = await runLocalVigil("status", "--socket", cluster.socketPath(leader.name));
    assert.match(status.stdout, /Unplaceable: a: its definition cannot be used: resources\.a\./);
    const log = await readFile(cluster.logPath("gamma"), "utf8");
    assert.match(log, /has resources this node cannot use.*resources\.a\.operations\.monitor/);

    const applied = await applyEchoService(dir, port, cluster.socketPath("gamma"));
    assert.equal(applied.code, 0, applied.stderr);
    const node = await waitFor("echo to run on one node", async () => {
      const state = await stateOn("alpha");
      const cells = Object.entries(state.resources.echo ?? {});
      return cells.length === 1 && cells[0]![1].active === "started" ? cells[0]![0] : undefined;
    });
    assert.equal(await whoServes(port), node);
    await everyAgentAnswers();
  });
});
