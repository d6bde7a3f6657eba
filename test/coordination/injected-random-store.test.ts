/**
 * Coordinators given their randomness and their Raft store (CoordinatorOptions.random, .store)
 * on virtual time: a run is a function of its seed. The same seed elects the same leader at the
 * same virtual moment, by the same messages, and numbers a forwarded request the same.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PersistedState, PersistOps } from "../../src/consensus/types.js";
import type { ClusterMessage } from "../../src/coordination/cluster-message.js";
import { SeededRandom } from "../../src/sim/random.js";
import { encodeCommand } from "../../src/state/commands.js";
import type { RaftStorage } from "../../src/storage/raft-storage.js";
import { InProcessCluster } from "./in-process-cluster.js";

/** The Raft store in memory: what a durable one would hold, with no disk. */
class MemoryStore implements RaftStorage {
  readonly droppedTornTail = null;
  private current: PersistedState = {
    hardState: { term: 0, votedFor: null },
    snapshot: null,
    entries: [],
  };

  state(): PersistedState {
    return structuredClone(this.current);
  }

  async apply(ops: PersistOps): Promise<void> {
    const next = structuredClone(this.current);
    if (ops.hardState !== undefined) next.hardState = ops.hardState;
    if (ops.truncateFrom !== undefined) {
      const from = ops.truncateFrom;
      next.entries = next.entries.filter((entry) => entry.index < from);
    }
    if (ops.append !== undefined) next.entries.push(...ops.append);
    if (ops.snapshot !== undefined) {
      const covered = ops.snapshot.meta.lastIncludedIndex;
      next.snapshot = ops.snapshot;
      next.entries = next.entries.filter((entry) => entry.index > covered);
    }
    this.current = structuredClone(next);
  }

  async close(): Promise<void> {}
}

interface Run {
  /** Every message sent, as "virtual ms, from→to, kind", until the forward's answer. */
  trace: string[];
  leader: number;
  term: number;
  requestId: number;
  /** The term the leader's store holds. */
  storedTerm: number;
}

/** Elects a leader, then submits a command on a follower (forwarded to the leader). */
async function electAndForward(seed: number): Promise<Run> {
  const trace: string[] = [];
  const forwardIds: number[] = [];
  const stores = new Map<number, MemoryStore>();
  const cluster = await InProcessCluster.start({
    random: (nodeId) => {
      const random = new SeededRandom(seed, `node ${nodeId}`);
      return () => random.next();
    },
    store: (nodeId) => {
      const store = new MemoryStore();
      stores.set(nodeId, store);
      return store;
    },
    // Loses nothing: only watches what goes on the wire.
    lose: (from, to, message) => {
      trace.push(`${cluster.time.nowMs()} ${from}→${to} ${kindOf(message)}`);
      if (message.kind === "forward") forwardIds.push(message.requestId);
      return false;
    },
  });
  try {
    const { leader, term } = await cluster.runUntil("leader that every node knows", () => {
      const views = [...cluster.coordinators.values()].map((c) => c.status());
      const [first] = views;
      if (first?.leaderId == null) return undefined;
      const same = views.every((v) => v.leaderId === first.leaderId && v.term === first.term);
      return same ? { leader: first.leaderId, term: first.term } : undefined;
    });
    const follower = [...cluster.coordinators.keys()].find((id) => id !== leader)!;
    const payload = encodeCommand({ type: "maintenance", on: true, by: "test", atMs: 0 });
    const result = await cluster.outcome(
      "answer to the forward",
      cluster.coordinators.get(follower)!.submit({ kind: "command", payload }),
    );
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(forwardIds.length, 1);
    return {
      trace,
      leader,
      term,
      requestId: forwardIds[0]!,
      storedTerm: stores.get(leader)!.state().hardState.term,
    };
  } finally {
    await cluster.stop();
  }
}

function kindOf(message: ClusterMessage): string {
  if (message.kind !== "raft") return message.kind;
  const raft = message.message as { type: string; preVote?: boolean };
  return raft.preVote === true ? `${raft.type} (pre-vote)` : raft.type;
}

test("the same random gives the same election, at the same virtual time, and the same request id", async () => {
  const first = await electAndForward(7);
  const again = await electAndForward(7);
  assert.deepEqual(again, first);
  // The store given is the one the coordinator wrote to.
  assert.equal(first.storedTerm, first.term);

  // And the randomness is the one given: another seed times the first campaign differently.
  const other = await electAndForward(8);
  const firstCampaign = (run: Run) => run.trace.find((line) => line.includes("request_vote"));
  assert.notEqual(firstCampaign(other), firstCampaign(first));
  assert.notEqual(other.requestId, first.requestId);
});
