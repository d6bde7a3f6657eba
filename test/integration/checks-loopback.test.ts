import assert from "node:assert/strict";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { LocalCluster } from "../../src/demo/local-cluster.js";
import {
  echoResourceLines,
  runLocalVigil,
  startProbedCluster,
  stopProbedCluster,
} from "../support/local-takeover.js";
import { waitFor } from "../support/wait.js";

/**
 * Health checks on three real agents on loopback: a node check whose verdict is a node attribute
 * that a location rule reads, and a check attached to the resource, whose failure is the
 * resource's; each transition is a hook event.
 */
describe("health checks on loopback", () => {
  let dir: string;
  let cluster: LocalCluster;
  let port: number;

  const runningOn = async () => {
    const state = await cluster.state("alpha");
    const cells = Object.entries(state.resources.echo ?? {});
    return cells.length === 1 && cells[0]?.[1].active === "started" ? cells[0][0] : undefined;
  };
  const hookLines = async () =>
    (await readFile(join(dir, "check-events.log"), "utf8").catch(() => ""))
      .split("\n")
      .filter((line) => line !== "");

  before(async () => {
    ({ dir, port, cluster } = await startProbedCluster("vigil-checks-"));
    const nodeCheck = join(dir, "node-check");
    await writeFile(
      nodeCheck,
      `#!/bin/sh\n[ ! -f ${dir}/sick.$VIGIL_NODE ] || { echo "marked sick" >&2; exit 1; }\n`,
    );
    const serviceCheck = join(dir, "service-check");
    await writeFile(serviceCheck, `#!/bin/sh\n[ ! -f ${dir}/echo-sick ]\n`);
    const hook = join(dir, "hook");
    await writeFile(
      hook,
      `#!/bin/sh\necho "$VIGIL_EVENT $VIGIL_CHECK $VIGIL_NODE" >> ${dir}/check-events.log\n`,
    );
    for (const file of [nodeCheck, serviceCheck, hook]) await chmod(file, 0o755);
    await cluster.applyResources(
      "alpha",
      [
        "resources:",
        ...echoResourceLines(dir, port),
        "    meta: { migration_threshold: 5 }",
        "checks:",
        "  node-ok:",
        `    exec: ${nodeCheck}`,
        "    interval_ms: 200",
        "    timeout_ms: 150",
        "    fall: 2",
        "    attribute: healthy",
        "  echo-ok:",
        `    exec: ${serviceCheck}`,
        "    interval_ms: 200",
        "    timeout_ms: 150",
        "    fall: 2",
        "    resource: echo",
        "constraints:",
        "  - location: { resource: echo, rules: [{ attribute: healthy, op: eq, value: '0' }], score: -INFINITY }",
        "hooks:",
        "  checks:",
        `    run: ${hook}`,
        "    where: node",
        "    events: [check_passing, check_failing]",
        "",
      ].join("\n"),
    );
  });

  after(() => stopProbedCluster(dir, cluster));

  test("every node publishes its check's verdict as a node attribute", async () => {
    await waitFor("healthy=1 on every node", async () => {
      const state = await cluster.state("alpha");
      return cluster.names.every((name) => state.agents[name]?.attributes?.healthy === "1")
        ? true
        : undefined;
    });
    const status = await runLocalVigil("status", "--socket", cluster.socketPath("beta"));
    assert.match(status.stdout, /^node-ok +passing /m);
  });

  test("a node whose check fails loses the resource to a healthy node, by the location rule", async () => {
    const holder = await waitFor("echo to run", runningOn);
    await writeFile(join(dir, `sick.${holder}`), "");
    const next = await waitFor("echo to leave the sick node", async () => {
      const node = await runningOn();
      return node !== undefined && node !== holder ? node : undefined;
    });
    const state = await cluster.state("alpha");
    assert.equal(state.agents[holder]?.attributes?.healthy, "0");
    assert.equal(state.failCounts.echo?.[holder], undefined, "moved by the rule, not failed");
    assert.notEqual(next, holder);
    await waitFor(`a check_failing event from ${holder}`, async () =>
      (await hookLines()).includes(`check_failing node-ok ${holder}`) ? true : undefined,
    );
    await rm(join(dir, `sick.${holder}`));
  });

  test("a check attached to the resource fails it where it runs, after fall tries", async () => {
    const holder = await waitFor("echo to run", runningOn);
    await writeFile(join(dir, "echo-sick"), "");
    await waitFor("the check's failure counted against echo", async () => {
      const state = await cluster.state("alpha");
      return (state.failCounts.echo?.[holder]?.count ?? 0) >= 1 ? true : undefined;
    });
    await rm(join(dir, "echo-sick"));
    const history = (await cluster.state("alpha")).history.map((entry) => entry.summary);
    assert.ok(
      history.some((line) => line === `fail count echo on ${holder} now 1`),
      history.join("\n"),
    );
    await waitFor("echo to run again", runningOn);
    assert.ok((await hookLines()).includes(`check_failing echo-ok ${holder}`));
  });

  test("an application's TTL check: reports keep its resource running; when they stop, the resource fails", async () => {
    await cluster.applyResources(
      "alpha",
      [
        "resources:",
        ...echoResourceLines(dir, port),
        "    meta: { migration_threshold: 5 }",
        "checks:",
        "  app:",
        "    ttl: { ttl_ms: 4000 }",
        "    resource: echo",
        "",
      ].join("\n"),
    );
    const holder = await waitFor("echo to run", runningOn);
    const before = (await cluster.state("alpha")).failCounts.echo?.[holder]?.count ?? 0;
    const report = (node: string) =>
      runLocalVigil(
        "check",
        "pass",
        "app",
        "--note",
        "serving",
        "--socket",
        cluster.socketPath(node),
      );
    // The application reports five times, each within the TTL (the CLI itself takes a moment to
    // start): nothing fails.
    await waitFor("the check to take reports on the holder", async () =>
      (await report(holder)).code === 0 ? true : undefined,
    );
    for (let i = 0; i < 5; i++) {
      const reported = await report(holder);
      assert.equal(reported.code, 0, reported.stderr);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.equal((await cluster.state("alpha")).failCounts.echo?.[holder]?.count ?? 0, before);
    const status = await runLocalVigil("status", "--socket", cluster.socketPath(holder));
    assert.match(status.stdout, /^app +passing .*pass reported: serving/m);
    // Elsewhere the check does not run: the report is refused, saying so.
    const elsewhere = cluster.names.find((name) => name !== holder) as string;
    const refused = await report(elsewhere);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`check app does not run on ${elsewhere}`));
    // The application stops reporting: within the TTL its resource fails.
    await waitFor("the missed report to fail echo", async () => {
      const state = await cluster.state("alpha");
      return (state.failCounts.echo?.[holder]?.count ?? 0) > before ? true : undefined;
    });
  });
});
