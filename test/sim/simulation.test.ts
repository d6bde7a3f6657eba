import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEntry, NodeId, Ready } from "../../src/consensus/types.js";
import type { ConsensusNode, ConsensusNodeOptions } from "../../src/sim/consensus-node.js";
import { formatFailure } from "../../src/sim/explore.js";
import { runSimulation } from "../../src/sim/simulation.js";

/*
 * The simulator's plumbing, checked with tiny scripted cores instead of Raft: whatever a core
 * returns goes through the disk, the network and the state machine, and a broken contract comes
 * back as a failure that names the seed.
 */

function emptyReady(): Ready {
  return { persist: {}, messages: [], committed: [], restoreSnapshot: null, events: [] };
}

/** A core that does nothing but wake every 100 ms of its own clock and run `onTick`. */
class ScriptedCore implements ConsensusNode {
  private dueMs: number;
  ticks = 0;
  constructor(
    readonly options: ConsensusNodeOptions,
    private readonly onTick: (core: ScriptedCore, nowMs: number) => Ready,
  ) {
    this.dueMs = options.nowMs + 100;
  }
  tick(nowMs: number): Ready {
    assert.ok(nowMs >= this.dueMs, `ticked at ${nowMs}, before its deadline ${this.dueMs}`);
    this.ticks++;
    this.dueMs = nowMs + 100;
    return this.onTick(this, nowMs);
  }
  receive(): Ready {
    return emptyReady();
  }
  propose(): never {
    throw new Error("scripted cores are never leader");
  }
  compact(): Ready {
    return emptyReady();
  }
  nextTickAtMs(): number {
    return this.dueMs;
  }
  status(): never {
    throw new Error("not used: scripted cores are never leader");
  }
  role() {
    return "follower" as const;
  }
  term(): number {
    return 0;
  }
  leaderId(): NodeId | null {
    return null;
  }
  commitIndex(): number {
    return 0;
  }
  holdsLease(): boolean {
    return false;
  }
  holdsLeaderLease(): boolean {
    return false;
  }
  leaseSurelyExpired(): boolean {
    return false;
  }
}

function scripted(onTick: (core: ScriptedCore, nowMs: number) => Ready) {
  return (options: ConsensusNodeOptions) => new ScriptedCore(options, onTick);
}

test("a core applying out of order is reported as a state machine violation with its seed", () => {
  const entry: LogEntry = { index: 2, term: 1, body: { kind: "noop" } };
  const result = runSimulation({
    seed: 31,
    nodeCount: 3,
    faultPhaseMs: 2_000,
    createNode: scripted((core) => ({
      ...emptyReady(),
      committed: core.ticks === 3 ? [entry] : [],
    })),
  });
  assert.equal(result.ok, false);
  assert.equal(result.violation?.kind, "state_machine");
  assert.match(result.violation!.message, /node \d was given index 2 to apply after index 0/);
  assert.match(formatFailure(result), /^seed 31 \(3 nodes\) FAILED/);
});

test("a core sending as someone else is a contract violation", () => {
  const result = runSimulation({
    seed: 32,
    nodeCount: 3,
    faultPhaseMs: 2_000,
    createNode: scripted((core) => ({
      ...emptyReady(),
      messages: [
        {
          from: core.options.id + 10,
          to: 1,
          message: { type: "vote", term: 0, preVote: true, granted: false },
        },
      ],
    })),
  });
  assert.equal(result.violation?.kind, "contract");
  assert.match(result.violation!.message, /emitted a message from 1[123] to 1/);
});

test("a core that throws is reported with its error, not as a crash of the simulator", () => {
  const result = runSimulation({
    seed: 33,
    nodeCount: 3,
    faultPhaseMs: 2_000,
    createNode: scripted((core) => {
      if (core.ticks === 5) throw new Error("scripted failure");
      return emptyReady();
    }),
  });
  assert.equal(result.violation?.kind, "node_threw");
  assert.match(result.violation!.message, /scripted failure/);
});

test("a cluster that never elects anyone fails the liveness check after the heal", () => {
  const result = runSimulation({
    seed: 34,
    nodeCount: 3,
    faultPhaseMs: 1_000,
    createNode: scripted(() => emptyReady()),
  });
  assert.equal(result.violation?.kind, "liveness");
  assert.match(
    result.violation!.message,
    /8000 ms after the heal no proposal had reached every node/,
  );
  assert.equal(result.virtualMs, 9_000);
});
