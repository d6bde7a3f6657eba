/**
 * This node's side of takeover with the real executor, real agent processes and the real state
 * machine (committing at once, as a one-node log would): a primitive whose definition makes the
 * executor throw (as a model parsed by an older, buggier validator could) fails alone.
 */
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { SubmitResult } from "../../src/coordination/cluster-message.js";
import { createLogger } from "../../src/log/logger.js";
import { DEFAULT_META } from "../../src/resource-model/parse-model.js";
import type { Primitive, ResourceModel } from "../../src/resource-model/types.js";
import { Executor } from "../../src/resources/executor/executor.js";
import { applyCommand } from "../../src/state/apply.js";
import { type Command, encodeCommand } from "../../src/state/commands.js";
import { initialState } from "../../src/state/serialize.js";
import type { ClusterState } from "../../src/state/types.js";
import { LocalResources } from "../../src/takeover/local-resources.js";
import { systemClock } from "../../src/time/clock.js";
import { waitFor } from "../support/wait.js";

const NODE = "node1";
/** An exec agent that runs while its state file exists. */
const AGENT = `#!/bin/sh
f="$OCF_RESKEY_dir/$OCF_RESOURCE_INSTANCE.running"
case "$1" in
  start) touch "$f" ;;
  stop) rm -f "$f" ;;
  monitor) [ -f "$f" ] || exit 7 ;;
  meta-data) echo '<resource-agent name="flag"><parameters/></resource-agent>' ;;
esac
exit 0
`;

test("a definition the executor refuses fails its own resource; the others run", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-local-containment-"));
  const logPath = join(dir, "agent.log");
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on("unhandledRejection", onUnhandled);
  let resources: LocalResources | undefined;
  // Dropped at the end: the shutdown then stops here at once instead of handing over.
  let leaseHeld = true;
  try {
    await writeFile(join(dir, "flag"), AGENT);
    await chmod(join(dir, "flag"), 0o755);
    const primitive = (id: string, timeoutMs: number): Primitive => ({
      id,
      agent: { kind: "exec", name: join(dir, "flag") },
      params: { dir },
      operations: {
        start: { timeoutMs, intervalMs: 0 },
        monitor: { timeoutMs, intervalMs: 200 },
      },
      meta: DEFAULT_META,
    });
    const model: ResourceModel = {
      primitives: { good: primitive("good", 5_000), bad: primitive("bad", 0) },
      groups: {},
      clones: {},
      constraints: [],
    };
    let state: ClusterState = initialState();
    const commit = async (command: Command): Promise<SubmitResult> => {
      const applied = applyCommand(state, encodeCommand(command));
      state = applied.state;
      resources?.kick();
      return applied.result.ok
        ? { ...applied.result, index: state.version }
        : { ...applied.result, code: "rejected" };
    };
    const logStream = createWriteStream(logPath);
    resources = new LocalResources({
      node: NODE,
      incarnation: 1,
      executor: new Executor({ clock: systemClock, nodeName: NODE }),
      clock: systemClock,
      logger: createLogger({ level: "info", pretty: false, destination: logStream }),
      state: () => state,
      model: () => model,
      holdsLease: () => leaseHeld,
      submit: commit,
    });
    resources.kick();
    await waitFor("the probe to be recorded", () =>
      state.agents[NODE]?.incarnation === 1 ? true : undefined,
    );
    // The leader's instruction: both run here.
    await commit({
      type: "resource_targets",
      changes: [
        { resource: "bad", node: NODE, target: "started" },
        { resource: "good", node: NODE, target: "started" },
      ],
      expectedVersion: state.version,
      by: "policy@node1",
      atMs: Date.now(),
    });
    await waitFor("good to run and bad to have failed", () =>
      state.resources.good?.[NODE]?.active === "started" && state.failCounts.bad?.[NODE]
        ? true
        : undefined,
    );
    // Monitors keep running on the good one; the bad one never started.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(state.resources.good?.[NODE]?.active, "started");
    assert.equal(state.resources.bad?.[NODE]?.active, undefined);
    assert.equal(state.failCounts.bad?.[NODE]?.count, 1_000_000);
    assert.deepEqual(
      resources.running().map((copy) => copy.resource),
      ["good"],
    );
    assert.deepEqual(unhandled, []);
    const log = await readFile(logPath, "utf8");
    assert.match(
      log,
      /resource bad failed: operation (monitor|start) of bad: timeoutMs must be > 0/,
    );
  } finally {
    process.off("unhandledRejection", onUnhandled);
    leaseHeld = false;
    await resources?.shutdown();
    await rm(dir, { recursive: true, force: true });
  }
});
