import assert from "node:assert/strict";
import { test } from "node:test";
import type { Envelope } from "../../src/consensus/types.js";
import { type NetworkConditions, SimNetwork } from "../../src/sim/network.js";
import { SeededRandom } from "../../src/sim/random.js";

const calm: NetworkConditions = {
  dropProbability: 0,
  duplicateProbability: 0,
  delayMinMs: 3,
  delayMaxMs: 9,
};

function envelope(from: number, to: number): Envelope {
  return { from, to, message: { type: "vote", term: 1, preVote: false, granted: true } };
}

test("a calm network delivers every message once, within the delay bounds", () => {
  const network = new SimNetwork(new SeededRandom(1, "net"), calm);
  const delays = new Set<number>();
  for (let i = 0; i < 2_000; i++) {
    const outcome = network.send(100, envelope(1, 2));
    assert.equal(outcome.kind, "sent");
    if (outcome.kind !== "sent") continue;
    assert.equal(outcome.deliveries.length, 1);
    delays.add(outcome.deliveries[0]!.atMs - 100);
  }
  assert.deepEqual(
    [...delays].sort((a, b) => a - b),
    [3, 4, 5, 6, 7, 8, 9],
  );
});

test("a partition cuts both ways between groups but not within them; heal restores it", () => {
  const network = new SimNetwork(new SeededRandom(1, "net"), calm);
  network.partition([[1], [2, 3]]);
  assert.deepEqual(network.send(0, envelope(1, 2)), { kind: "dropped", reason: "cut" });
  assert.deepEqual(network.send(0, envelope(3, 1)), { kind: "dropped", reason: "cut" });
  assert.equal(network.send(0, envelope(2, 3)).kind, "sent");
  network.heal();
  assert.equal(network.hasCuts(), false);
  assert.equal(network.send(0, envelope(1, 2)).kind, "sent");
});

test("a new partition replaces the old one; one-way cuts stay until heal", () => {
  const network = new SimNetwork(new SeededRandom(1, "net"), calm);
  network.partition([[1], [2, 3]]);
  network.partition([[3], [1, 2]]);
  assert.equal(network.isCut(1, 2), false);
  assert.equal(network.isCut(1, 3), true);
  network.cutOneWay(2, 1);
  assert.equal(network.isCut(2, 1), true);
  assert.equal(network.isCut(1, 2), false);
  network.partition([[1, 2, 3]]);
  assert.equal(network.isCut(2, 1), true, "one-way cut survives a repartition");
  network.heal();
  assert.equal(network.isCut(2, 1), false);
});

test("loss and duplication happen at about their configured rates", () => {
  const network = new SimNetwork(new SeededRandom(9, "net"), {
    ...calm,
    dropProbability: 0.2,
    duplicateProbability: 0.1,
  });
  let dropped = 0;
  let duplicated = 0;
  for (let i = 0; i < 10_000; i++) {
    const outcome = network.send(0, envelope(1, 2));
    if (outcome.kind === "dropped") dropped++;
    else if (outcome.deliveries.length === 2) duplicated++;
  }
  assert.ok(dropped > 1_800 && dropped < 2_200, `dropped ${dropped}`);
  assert.ok(duplicated > 650 && duplicated < 950, `duplicated ${duplicated}`);
});

test("the same seed makes the same choices", () => {
  const run = () => {
    const network = new SimNetwork(new SeededRandom(4, "net"), { ...calm, dropProbability: 0.3 });
    return Array.from({ length: 200 }, () => JSON.stringify(network.send(0, envelope(1, 2))));
  };
  assert.deepEqual(run(), run());
});

test("bad conditions are refused with the field named", () => {
  const random = new SeededRandom(1);
  assert.throws(() => new SimNetwork(random, { ...calm, dropProbability: 2 }), /dropProbability/);
  assert.throws(
    () => new SimNetwork(random, { ...calm, delayMinMs: 10, delayMaxMs: 5 }),
    /delayMaxMs 5 is below delayMinMs 10/,
  );
});
