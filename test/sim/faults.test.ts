import assert from "node:assert/strict";
import { test } from "node:test";
import type { Membership, NodeId } from "../../src/consensus/types.js";
import {
  FaultInjector,
  type FaultTarget,
  nextStepTowardAllVoters,
  voter,
} from "../../src/sim/faults.js";
import { type NetworkConditions, SimNetwork } from "../../src/sim/network.js";
import { SeededRandom } from "../../src/sim/random.js";
import type { NodeStatus } from "../../src/sim/sim-node.js";

const conditions: NetworkConditions = {
  dropProbability: 0.1,
  duplicateProbability: 0,
  delayMinMs: 1,
  delayMaxMs: 10,
};

/** A cluster that only keeps statuses: enough to see what the injector asks for. */
class FakeCluster implements FaultTarget {
  readonly nodeIds = [1, 2, 3, 4, 5];
  readonly statuses = new Map<NodeId, NodeStatus>(this.nodeIds.map((id) => [id, "up"]));
  readonly network = new SimNetwork(new SeededRandom(1, "net"), conditions);
  readonly baseConditions = conditions;
  membership: Membership = { members: this.nodeIds.map(voter) };
  proposals: Membership[] = [];
  statusOf(id: NodeId): NodeStatus {
    return this.statuses.get(id)!;
  }
  someLeader(): NodeId | null {
    return this.statuses.get(1) === "up" ? 1 : null;
  }
  leaderMembership() {
    return this.someLeader() === null ? null : { leaderId: 1, membership: this.membership };
  }
  proposeMembership(_leaderId: NodeId, membership: Membership): string {
    this.proposals.push(membership);
    return "proposed";
  }
  transfers = 0;
  transferLeadership(leaderId: NodeId): string {
    this.transfers++;
    return `transfer from node ${leaderId}`;
  }
  crash(id: NodeId) {
    this.statuses.set(id, "crashed");
  }
  restart(id: NodeId) {
    this.statuses.set(id, "up");
  }
  pause(id: NodeId) {
    this.statuses.set(id, "paused");
  }
  resume(id: NodeId) {
    this.statuses.set(id, "up");
  }
}

test("injected faults are always applicable, and healAll undoes every one of them", () => {
  const cluster = new FakeCluster();
  const injector = new FaultInjector(new SeededRandom(8, "faults"), {
    gapMinMs: 50,
    gapMaxMs: 500,
    membershipChanges: true,
  });
  const kinds = new Set<string>();
  for (let i = 0; i < 400; i++) {
    const before = new Map(cluster.statuses);
    const line = injector.injectOne(cluster);
    kinds.add(line.split(" ")[0]!);
    const restarted = /^restart node (\d)/.exec(line);
    if (restarted) assert.equal(before.get(Number(restarted[1])), "crashed", line);
    const resumed = /^resume node (\d)/.exec(line);
    if (resumed) assert.equal(before.get(Number(resumed[1])), "paused", line);
  }
  for (const kind of [
    "crash",
    "restart",
    "pause",
    "resume",
    "partition",
    "isolate",
    "cut",
    "transfer",
  ]) {
    assert.ok(kinds.has(kind), `never injected ${kind}: ${[...kinds].join(", ")}`);
  }
  assert.ok(cluster.proposals.length > 0, "never reconfigured");
  for (const proposal of cluster.proposals) {
    const canLead = proposal.members.filter((member) => !member.witness).length;
    assert.ok(canLead >= 2, `left only ${canLead} member(s) able to lead`);
  }
  injector.healAll(cluster);
  assert.ok([...cluster.statuses.values()].every((status) => status === "up"));
  assert.equal(cluster.network.hasCuts(), false);
  assert.equal(cluster.network.current().dropProbability, 0);
});

test("the heal walks a membership back to all voters one single-server change at a time", () => {
  const nodeIds = [1, 2, 3];
  let membership: Membership = { members: [voter(1), { id: 3, votes: 1, witness: true }] };
  const path: string[] = [];
  for (let step = nextStepTowardAllVoters(membership, nodeIds); step !== null; ) {
    membership = step;
    path.push(membership.members.map((m) => `${m.id}${m.witness ? "w" : ""}`).join(","));
    step = nextStepTowardAllVoters(membership, nodeIds);
  }
  assert.deepEqual(path, ["1,3", "1,3,2"]);
  assert.equal(nextStepTowardAllVoters({ members: nodeIds.map(voter) }, nodeIds), null);
});

/** Two nodes in two-node mode: the injector may fence. */
class FakeTwoNodeCluster extends FakeCluster {
  override readonly nodeIds = [1, 2];
  override readonly statuses = new Map<NodeId, NodeStatus>([
    [1, "up"],
    [2, "up"],
  ]);
  fence(by: NodeId, victim: NodeId): string {
    this.crash(victim);
    return `fence ${by}→${victim}`;
  }
}

test("two-node mode: fences reboot their victim, and new runs fence, sooner than any usual gap", () => {
  const cluster = new FakeTwoNodeCluster();
  const pace = { gapMinMs: 1_000, gapMaxMs: 2_000, membershipChanges: false };
  const injector = new FaultInjector(new SeededRandom(3, "faults"), pace);
  let rebooted = 0;
  let fencedByNewRun = 0;
  let previous = "";
  let gapMs = injector.nextGapMs();
  for (let i = 0; i < 2_000; i++) {
    const line = injector.injectOne(cluster);
    if (gapMs < pace.gapMinMs) {
      const fenced = /^fence (\d)→(\d)/.exec(previous);
      if (fenced !== null && line.startsWith(`restart node ${fenced[2]}`)) rebooted++;
      const restarted = /^restart node (\d)/.exec(previous);
      if (restarted !== null && line.startsWith(`fence ${restarted[1]}→`)) fencedByNewRun++;
    }
    previous = line;
    gapMs = injector.nextGapMs();
  }
  assert.ok(rebooted > 0, "no fence was followed at once by its victim's restart");
  assert.ok(fencedByNewRun > 0, "no restarted node fenced its peer at once");
});
