import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { parseConfigText } from "../../src/config/load.js";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import { Coordinator } from "../../src/coordination/coordinator.js";
import { encodeCommand } from "../../src/state/commands.js";
import { VALID_YAML } from "../config/helpers.js";
import { waitFor } from "../support/wait.js";

/**
 * Three real coordinators (Raft core, store on disk, real timers) joined by an in-process wire
 * that can lose chosen messages: a forward or its result lost on the way is resent, and the
 * leader proposes each forwarded request once however often it arrives.
 */
describe("forwarded proposals over a lossy wire", () => {
  const config = parseConfigText(VALID_YAML, "test.yaml");
  const coordinators = new Map<number, Coordinator>();
  /** Return true to lose a message (from, to, message). */
  let lose: (from: number, to: number, message: ClusterMessage) => boolean = () => false;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "vigil-forward-"));
    for (const node of config.nodes) {
      const coordinator = await Coordinator.start({
        localNode: node,
        nodes: config.nodes,
        timing: config.timing,
        coordination: config.coordination,
        stateDir: join(dir, node.name),
        clock: { nowMs: () => performance.timeOrigin + performance.now() },
        logger: pino({ level: "silent" }),
        send: (to, message) => {
          if (lose(node.id, to, message)) return;
          // A copy, as the wire would deliver: the receiver must not share the sender's objects.
          const copy = JSON.parse(JSON.stringify(message)) as ClusterMessage;
          setImmediate(() => coordinators.get(to)?.receive(node.id, copy));
        },
      });
      coordinators.set(node.id, coordinator);
    }
    for (const coordinator of coordinators.values()) {
      for (const node of config.nodes) coordinator.noticePeerUp(node.id);
    }
  });

  after(async () => {
    for (const coordinator of coordinators.values()) await coordinator.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function roles() {
    const leader = await waitFor(
      "a leader",
      () => [...coordinators].find(([, c]) => c.isLeader())?.[0],
    );
    const follower = [...coordinators.keys()].find((id) => id !== leader)!;
    return { leader, follower };
  }

  const maintenance = (on: boolean) => ({
    kind: "command" as const,
    payload: encodeCommand({ type: "maintenance", on, by: "test", atMs: Date.now() }),
  });

  for (const lost of ["forward", "forward_result"] as const) {
    test(`the first ${lost} is lost: resent, applied once`, async () => {
      const { leader, follower } = await roles();
      const before = coordinators.get(leader)!.state().version;
      let dropped = 0;
      lose = (_from, _to, message) => message.kind === lost && dropped++ === 0;
      const result = await coordinators.get(follower)!.submit(maintenance(lost === "forward"));
      lose = () => false;
      assert.equal(dropped >= 2, true, `a copy was resent (${dropped} seen)`);
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(coordinators.get(leader)!.state().version, before + 1, "applied exactly once");
    });
  }
});
