import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { controlGet } from "../../src/control/client.js";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import {
  PACEMAKER_SHIMS_DIR,
  pacemakerShimEnvironment,
} from "../../src/pacemaker/shim-environment.js";
import type { ClusterState } from "../../src/state/types.js";
import { runLocalVigil, startProbedCluster, stopProbedCluster } from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

const run = promisify(execFile);
const CALLER = resolve("test/fixtures/agents/pacemaker-caller");
const REPORTER = resolve("test/fixtures/agents/pacemaker-reporter");
const SCORE = "promotion-score-st-ha";
const WAIT = { timeoutMs: 90_000, intervalMs: 200 };

/**
 * Agents written for Pacemaker on three real Vigil agents on loopback: Debian's unmodified
 * ocf:heartbeat:Stateful as a promotable clone (its promotion scores set with Pacemaker's
 * commands), node attributes an agent sets with crm_attribute read by a location rule, a
 * Pacemaker command Vigil does not provide failing the operation that called it, and what an
 * agent reads with crm_mon, crm_resource --locate, cibadmin -Q and cluster properties.
 */
describe("Pacemaker's commands for OCF agents, on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  const stateOn = (name: string) => controlGet<ClusterState>(cluster.socketPath(name), "/v1/state");
  /** The nodes where a copy of st-ha runs promoted, once nothing of it is in flight. */
  const promotedCopies = (state: ClusterState) => {
    const cells = Object.entries(state.resources)
      .filter(([key]) => key.startsWith("st-ha:"))
      .flatMap(([, byNode]) => Object.entries(byNode));
    if (cells.some(([, cell]) => cell.target !== cell.active)) return undefined;
    return cells.filter(([, cell]) => cell.active === "promoted").map(([node]) => node);
  };
  const scores = (state: ClusterState) =>
    Object.fromEntries(cluster.names.map((n) => [n, state.agents[n]?.attributes?.[SCORE]]));

  let stateful: string[];
  /** Applies the document of these lines through alpha, once, whatever leader changes meet it. */
  const apply = async (lines: string[]) => {
    const file = join(dir, "resources.yaml");
    const text = [...lines, ""].join("\n");
    await writeFile(file, text);
    // On a loaded machine a leader may change during the apply, which then may or may not be in.
    await waitFor(
      "the document to be applied",
      async () => {
        if ((await stateOn("alpha")).config.text === text) return true;
        const applied = await runLocalVigil(
          "config",
          "apply",
          file,
          "--socket",
          cluster.socketPath("alpha"),
        );
        assert.ok(applied.code === 0 || /leader changed/.test(applied.stderr), applied.stderr);
        return applied.code === 0 ? true : undefined;
      },
      WAIT,
    );
  };

  before(async () => {
    ({ dir, cluster } = await startProbedCluster("vigil-pacemaker-", { built: true }));
    const stateFiles = cluster.names.map((n) => `      ${n}: { state: ${join(dir, `st.${n}`)} }`);
    stateful = [
      "  st:",
      '    agent: "ocf:heartbeat:Stateful"',
      "    params_on:",
      ...stateFiles,
      "    operations: { monitor: { interval_ms: 1000, timeout_ms: 20000 } }",
    ];
    // A machine shared with other tests: one clone's starts at a time, not every resource's.
    await apply(["resources:", ...stateful, "clones:", "  st-ha: { of: st, promotable: true }"]);
  });

  after(() => stopProbedCluster(dir, cluster));

  test("Stateful's copies publish their promotion scores with Pacemaker's commands", async () => {
    const promoted = await waitFor(
      "one promoted copy of st-ha and every copy's score",
      async () => {
        const state = await stateOn("alpha");
        const nodes = promotedCopies(state);
        const all = scores(state);
        if (nodes?.length !== 1 || Object.values(all).some((s) => s === undefined))
          return undefined;
        // The promoted copy's promote set 10; the others' start set 5.
        return all[nodes[0] as string] === "10" ? { node: nodes[0] as string, all } : undefined;
      },
      WAIT,
    );
    for (const name of cluster.names) {
      assert.equal(promoted.all[name], name === promoted.node ? "10" : "5", name);
    }
  });

  test("the best promotion score decides which copy is promoted next", async () => {
    const state = await stateOn("alpha");
    const [first] = promotedCopies(state) ?? [];
    assert.ok(first !== undefined);
    // The remaining node listed last: a tie would go to the one listed before it.
    const best = cluster.names.filter((n) => n !== first).at(-1) as string;
    const env = pacemakerShimEnvironment({
      socketPath: cluster.socketPath(best),
      nodeName: best,
      basePath: process.env.PATH ?? "",
      refusalsFile: join(dir, "refusals.test"),
    });
    await run(join(PACEMAKER_SHIMS_DIR, "crm_master"), ["-l", "reboot", "-v", "100"], {
      env: { ...env, VIGIL_CLONE: "st-ha" },
    });
    const queried = await run(join(PACEMAKER_SHIMS_DIR, "crm_master"), ["-G", "-q"], {
      env: { ...env, VIGIL_CLONE: "st-ha" },
    });
    assert.equal(queried.stdout, "100\n");
    const banned = await runLocalVigil(
      "resource",
      "ban",
      "st-ha",
      first,
      "--socket",
      cluster.socketPath("alpha"),
    );
    assert.equal(banned.code, 0, banned.stderr);
    const next = await waitFor(
      "another copy of st-ha to be promoted",
      async () => {
        const nodes = promotedCopies(await stateOn("alpha"));
        return nodes?.length === 1 && nodes[0] !== first ? nodes[0] : undefined;
      },
      WAIT,
    );
    assert.equal(next, best);
    // The stopped copy's stop removed its score (crm_master -D).
    assert.equal(scores(await stateOn(best))[first], undefined);
  });

  test("crm_attribute in an agent sets a node attribute that a location rule reads", async () => {
    await apply([
      "resources:",
      ...stateful,
      "  caller:",
      `    agent: exec:${CALLER}`,
      `    params: { statedir: ${dir}, attribute: site, value: west }`,
      "    params_on: { gamma: { value: east } }",
      "    operations: { monitor: { interval_ms: 1000, timeout_ms: 20000 } }",
      "  marker:",
      '    agent: "ocf:heartbeat:Dummy"',
      `    params: { state: ${join(dir, "marker.state")} }`,
      "  refuser:",
      `    agent: exec:${CALLER}`,
      `    params: { statedir: ${dir}, attribute: refuser-ran, value: "yes", call: "crm_resource --cleanup -r st" }`,
      // As pgsql bans its own copy: the operator's ban (marker never runs on alpha anyway).
      "  banner:",
      `    agent: exec:${CALLER}`,
      `    params: { statedir: ${dir}, attribute: banner-ran, value: "yes", call: "crm_resource -B -r marker -N alpha -Q" }`,
      "clones:",
      "  st-ha: { of: st, promotable: true }",
      "  callers: { of: caller }",
      "constraints:",
      "  - location: { resource: marker, rules: [{ attribute: site, op: ne, value: east }], score: -INFINITY }",
    ]);
    const where = await waitFor(
      "every copy of caller to have set site, and marker to run",
      async () => {
        const state = await stateOn("beta");
        const cells = Object.entries(state.resources.marker ?? {});
        const running = cells.filter(([, cell]) => cell.active === "started");
        const everySite = cluster.names.every((n) => state.nodes[n]?.attributes.site !== undefined);
        return running.length === 1 && everySite ? { state, node: running[0]?.[0] } : undefined;
      },
      WAIT,
    );
    assert.deepEqual(
      Object.fromEntries(cluster.names.map((n) => [n, where.state.nodes[n]?.attributes.site])),
      { alpha: "west", beta: "west", gamma: "east" },
    );
    assert.equal(where.node, "gamma");
    const banned = await waitFor(
      "banner's crm_resource --ban to be the operator's ban",
      async () => {
        const state = await stateOn("alpha");
        return state.operator.marker?.bans !== undefined ? state : undefined;
      },
      WAIT,
    );
    assert.deepEqual(banned.operator.marker?.bans, ["alpha"]);
  });

  test("a Pacemaker command Vigil does not provide fails the operation, naming it", async () => {
    const state = await waitFor(
      "refuser to fail",
      async () => {
        const now = await stateOn("alpha");
        return Object.keys(now.failCounts.refuser ?? {}).length > 0 ? now : undefined;
      },
      WAIT,
    );
    const failedOn = Object.keys(state.failCounts.refuser ?? {});
    // The agent itself went on past the refused command and succeeded; Vigil failed its start.
    for (const node of failedOn) assert.equal(state.nodes[node]?.attributes["refuser-ran"], "yes");
    assert.ok(
      Object.values(state.resources.refuser ?? {}).every((cell) => cell.active === undefined),
    );
    const log = await readFile(cluster.logPath(failedOn[0] as string), "utf8");
    assert.match(log, /vigil does not provide crm_resource --cleanup -r st/);
  });

  test("crm_mon, crm_resource --locate, cibadmin -Q and cluster properties answer an agent from the state", async () => {
    await apply([
      "resources:",
      ...stateful,
      "  reporter:",
      `    agent: exec:${REPORTER}`,
      `    params: { statedir: ${dir}, property: st-ha, locate: st-ha }`,
      "    operations: { monitor: { interval_ms: 1000, timeout_ms: 20000 } }",
      "clones:",
      "  st-ha: { of: st, promotable: true }",
    ]);
    const promotedKey = (state: ClusterState) =>
      Object.entries(state.resources).find(
        ([key, byNode]) =>
          key.startsWith("st-ha:") && Object.values(byNode).some((c) => c.active === "promoted"),
      );
    const seen = await waitFor(
      "reporter's crm_mon to show the promoted copy of st-ha",
      async () => {
        const state = await stateOn("alpha");
        const node = Object.entries(state.resources.reporter ?? {}).find(
          ([, cell]) => cell.active === "started",
        )?.[0];
        const promoted = promotedKey(state);
        if (node === undefined || promoted === undefined) return undefined;
        const read = (name: string) =>
          readFile(join(dir, `reporter.${node}.${name}`), "utf8").catch(() => "");
        const xml = await read("mon.xml");
        // A monitor writes "unset" last: then every answer of one monitor is there.
        return (await read("unset")) !== "" &&
          xml.includes('id="st" resource_agent="ocf:heartbeat:Stateful" role="Promoted"')
          ? { state, node, promoted, read }
          : undefined;
      },
      WAIT,
    );
    const [, byNode] = seen.promoted;
    const promotedNode = Object.keys(byNode).find((n) => byNode[n]?.active === "promoted");
    // ocf:heartbeat:redis's master_is_active, word for word (grep -q -i -E, line by line).
    const masterIsActive = (output: string, instance: string) => {
      const pattern = new RegExp(
        `resource.*id="${instance}".* role="(Promoted|Master)".* active="true".* orphaned="false".* failed="false"`,
        "i",
      );
      return output.split("\n").some((line) => pattern.test(line));
    };
    for (const name of ["mon.xml", "mon-legacy.xml"]) {
      const output = await seen.read(name);
      assert.match(output, /exit=0\n$/, name);
      // Every copy of st is told OCF_RESOURCE_INSTANCE=st, and crm_mon lists them all so (as
      // Pacemaker does an anonymous clone's): a replica's check finds the primary elsewhere.
      assert.equal(masterIsActive(output, "st"), true, name);
      assert.equal(
        output.split("\n").filter((line) => /<resource id="st" /.test(line)).length,
        // A copy per node (the clone's max): each listed, running or not.
        cluster.names.length,
        name,
      );
      for (const node of cluster.names)
        assert.match(
          output,
          new RegExp(`<node name="${node}" id="\\d+" online="true" standby="false"`),
        );
    }
    assert.match(await seen.read("mon.xml"), /<pacemaker-result api-version=/);
    assert.match(await seen.read("mon-legacy.xml"), /<crm_mon version=/);
    assert.match(
      await seen.read("mon.txt"),
      new RegExp(`\\* st\t\\(ocf:heartbeat:Stateful\\):\t Promoted ${promotedNode}\n`),
    );
    assert.match(
      await seen.read("locate"),
      new RegExp(`^resource st-ha is running on: ${promotedNode} Promoted$`, "m"),
    );
    // The reporter's start kept its node's name as redis keeps its last primary.
    assert.equal(await seen.read("property"), `${seen.node}\nexit=0\n`);
    assert.equal(seen.state.clusterProperties?.["st-ha_REPL_INFO"], seen.node);
    assert.match(
      await seen.read("cib.xml"),
      new RegExp(
        `<nvpair id="cib-bootstrap-options-st-ha_REPL_INFO" name="st-ha_REPL_INFO" value="${seen.node}"/>`,
      ),
    );
    assert.equal(
      await seen.read("unset"),
      "scope=crm_config  name=never-set value=(null)\nexit=6\nError performing operation: No such device or address\n",
    );
    // None of it was refused: the reporter runs on, its monitors succeeding.
    const log = await readFile(cluster.logPath(seen.node), "utf8");
    assert.doesNotMatch(log, /vigil does not provide (crm_mon|cibadmin|crm_resource --locate)/);
  });
});
