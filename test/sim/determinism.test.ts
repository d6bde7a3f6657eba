import assert from "node:assert/strict";
import { test } from "node:test";
import { exploreSeeds } from "../../src/sim/explore.js";
import { createRaftNode } from "../../src/sim/raft-factory.js";
import { runSimulation, type SimOptions } from "../../src/sim/simulation.js";
import { formatTraceEntry } from "../../src/sim/trace.js";

const base: Omit<SimOptions, "seed"> = {
  nodeCount: 3,
  faultPhaseMs: 10_000,
  createNode: createRaftNode,
};

function fullTrace(options: SimOptions): { lines: string[]; digest: string } {
  const lines: string[] = [];
  const result = runSimulation({
    ...options,
    onTrace: (entry) => lines.push(formatTraceEntry(entry)),
  });
  return { lines, digest: result.traceDigest };
}

test("the same seed produces the identical trace, event for event", () => {
  for (const seed of [11, 12]) {
    const first = fullTrace({ ...base, seed });
    const second = fullTrace({ ...base, seed });
    assert.ok(first.lines.length > 100, `seed ${seed}: only ${first.lines.length} events`);
    assert.deepEqual(second.lines, first.lines, `seed ${seed} diverged`);
    assert.equal(second.digest, first.digest);
  }
});

test("the same seed produces the identical result, in a 5-node cluster too", () => {
  const options = { ...base, nodeCount: 5, seed: 77 };
  assert.deepEqual(runSimulation(options), runSimulation(options));
});

test("a seed replays the same alone as in the middle of an exploration", () => {
  const digests = new Map<number, string>();
  exploreSeeds({
    ...base,
    startSeed: 200,
    seedCount: 5,
    stopOnFailure: false,
    onResult: (result) => digests.set(result.seed, result.traceDigest),
  });
  assert.equal(digests.size, 5);
  const alone = runSimulation({ ...base, seed: 203 });
  assert.equal(alone.traceDigest, digests.get(203));
});

test("different seeds explore different histories", () => {
  const digests = new Set(
    [1, 2, 3, 4, 5].map((seed) => runSimulation({ ...base, seed }).traceDigest),
  );
  assert.equal(digests.size, 5);
});
