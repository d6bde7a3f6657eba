import type { Member, Membership, NodeId } from "../consensus/types.js";
import type { NetworkConditions, SimNetwork } from "./network.js";
import type { SeededRandom } from "./random.js";
import type { NodeStatus } from "./sim-node.js";

/** What the fault injector may do to the cluster; the simulation implements it. */
export interface FaultTarget {
  nodeIds: readonly NodeId[];
  statusOf(id: NodeId): NodeStatus;
  /** A node that believes it is leader and is running, if any (faults like to hit leaders). */
  someLeader(): NodeId | null;
  crash(id: NodeId): void;
  restart(id: NodeId): void;
  pause(id: NodeId): void;
  resume(id: NodeId): void;
  /** The membership the running leader works with, or null if there is no running leader. */
  leaderMembership(): { leaderId: NodeId; membership: Membership } | null;
  /** Proposes a membership entry to that leader; says what came of it. */
  proposeMembership(leaderId: NodeId, membership: Membership): string;
  /** The leader hands leadership over (as before a graceful stop); says what came of it. */
  transferLeadership(leaderId: NodeId): string;
  /** Two-node mode: `by` powers `victim` off, then lets its vote stand in; says what came of it. */
  fence?(by: NodeId, victim: NodeId): string;
  network: SimNetwork;
  baseConditions: NetworkConditions;
}

type FaultKind =
  | "crash"
  | "restart"
  | "pause"
  | "resume"
  | "partition"
  | "isolate"
  | "one_way_cut"
  | "heal_network"
  | "loss"
  | "slow_network"
  | "reconfigure"
  | "transfer"
  | "fence";

const WEIGHTS: ReadonlyArray<readonly [FaultKind, number]> = [
  ["crash", 2],
  ["restart", 3],
  ["pause", 1.5],
  ["resume", 2],
  ["partition", 2],
  ["isolate", 1.5],
  ["one_way_cut", 1],
  ["heal_network", 2],
  ["loss", 1],
  ["slow_network", 0.7],
  ["reconfigure", 1.5],
  ["fence", 2.5],
  ["transfer", 1],
];

/** How often faults come, drawn per run so that some runs are calm and some are stormy. */
export interface FaultPace {
  gapMinMs: number;
  gapMaxMs: number;
  /** Whether single-server membership changes are part of the menu. */
  membershipChanges: boolean;
}

/**
 * Two-node mode: a fault that comes hard on the heels of the one before, sooner than the usual
 * gap, while messages sent before it are still on the wire. A fence agent's default action is a
 * reboot, so the fenced node is often back at once; and a run that has just rejoined may fence
 * its peer on a false suspicion before it has heard anything newer than those messages.
 */
interface FollowUp {
  kind: "restart" | "fence";
  node: NodeId;
  gapMs: number;
}

/** Longest gap before a follow-up: about one slow message delay (slow_network). */
const FOLLOW_UP_MAX_GAP_MS = 300;

/**
 * Draws faults from its own random stream. Each call picks one applicable fault (restart only if
 * something is down, and so on), applies it, and returns a line for the trace.
 */
export class FaultInjector {
  private followUp: FollowUp | null = null;

  constructor(
    private readonly random: SeededRandom,
    readonly pace: FaultPace,
  ) {}

  nextGapMs(): number {
    if (this.followUp !== null) return this.followUp.gapMs;
    return this.random.int(this.pace.gapMinMs, this.pace.gapMaxMs);
  }

  injectOne(target: FaultTarget): string {
    const followUp = this.followUp;
    this.followUp = null;
    if (followUp !== null) {
      const line = this.applyFollowUp(followUp, target);
      if (line !== null) return line;
    }
    const kind = this.chooseKind(target);
    return this.apply(kind, target);
  }

  /** Removes every fault: restarts crashed nodes, resumes paused ones, heals the network. */
  healAll(target: FaultTarget): string {
    const restarted: NodeId[] = [];
    const resumed: NodeId[] = [];
    for (const id of target.nodeIds) {
      const status = target.statusOf(id);
      if (status === "crashed") {
        target.restart(id);
        restarted.push(id);
      } else if (status === "paused") {
        target.resume(id);
        resumed.push(id);
      }
    }
    target.network.heal();
    target.network.setConditions(target.baseConditions);
    target.network.setConditions({ dropProbability: 0 });
    return `heal all: restarted [${restarted.join(",")}] resumed [${resumed.join(",")}], network healed, no loss`;
  }

  private chooseKind(target: FaultTarget): FaultKind {
    const applicable = WEIGHTS.filter(([kind]) => this.isApplicable(kind, target));
    const total = applicable.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random.next() * total;
    for (const [kind, weight] of applicable) {
      roll -= weight;
      if (roll < 0) return kind;
    }
    return applicable[applicable.length - 1]![0];
  }

  private isApplicable(kind: FaultKind, target: FaultTarget): boolean {
    const has = (status: NodeStatus) => target.nodeIds.some((id) => target.statusOf(id) === status);
    switch (kind) {
      case "crash":
      case "pause":
        return has("up");
      case "restart":
        return has("crashed");
      case "resume":
        return has("paused");
      case "heal_network":
        return target.network.hasCuts();
      case "reconfigure":
        return this.pace.membershipChanges && target.someLeader() !== null;
      case "fence":
        return target.fence !== undefined && has("up");
      case "transfer":
        return target.someLeader() !== null;
      default:
        return true;
    }
  }

  /** Half the time, a node-level fault goes for the leader: that is where the bugs are. */
  private victim(target: FaultTarget, status: NodeStatus): NodeId {
    const leader = target.someLeader();
    if (leader !== null && target.statusOf(leader) === status && this.random.chance(0.5)) {
      return leader;
    }
    return this.random.pick(target.nodeIds.filter((id) => target.statusOf(id) === status));
  }

  private apply(kind: FaultKind, target: FaultTarget): string {
    const { network, nodeIds } = target;
    switch (kind) {
      case "crash": {
        const id = this.victim(target, "up");
        target.crash(id);
        return `crash node ${id}`;
      }
      case "restart":
        return this.restart(this.victim(target, "crashed"), target);
      case "pause": {
        const id = this.victim(target, "up");
        target.pause(id);
        return `pause node ${id}`;
      }
      case "resume": {
        const id = this.victim(target, "paused");
        target.resume(id);
        return `resume node ${id}`;
      }
      case "partition": {
        const shuffled = this.random.shuffled(nodeIds);
        const groups: NodeId[][] = [];
        if (nodeIds.length >= 5 && this.random.chance(0.25)) {
          // No group holds a majority: nobody should be able to lead.
          groups.push(shuffled.slice(0, 2), shuffled.slice(2, 4), shuffled.slice(4));
        } else {
          const minority = this.random.int(1, Math.max(1, Math.floor((nodeIds.length - 1) / 2)));
          groups.push(shuffled.slice(0, minority), shuffled.slice(minority));
        }
        network.partition(groups);
        return `partition ${groups.map((group) => `{${group.join(",")}}`).join(" | ")}`;
      }
      case "isolate": {
        const leader = target.someLeader();
        const id = leader !== null && this.random.chance(0.6) ? leader : this.random.pick(nodeIds);
        network.partition([[id], nodeIds.filter((other) => other !== id)]);
        return `isolate node ${id}`;
      }
      case "one_way_cut": {
        const from = this.random.pick(nodeIds);
        const to = this.random.pick(nodeIds.filter((id) => id !== from));
        network.cutOneWay(from, to);
        return `cut ${from}→${to} one way`;
      }
      case "heal_network":
        network.heal();
        return "heal network";
      case "transfer":
        return target.transferLeadership(target.someLeader()!);
      case "fence": {
        // Any time, not only after a real failure: a survivor fences on a false suspicion too.
        const by = this.victim(target, "up");
        return this.fence(by, this.random.pick(nodeIds.filter((id) => id !== by)), target);
      }
      case "loss": {
        const dropProbability = this.random.pick([0, 0.02, 0.1, 0.2, 0.4]);
        network.setConditions({ dropProbability });
        return `loss ${dropProbability}`;
      }
      case "slow_network": {
        const { delayMinMs } = target.baseConditions;
        const delayMaxMs = this.random.chance(0.5)
          ? target.baseConditions.delayMaxMs
          : this.random.int(delayMinMs, delayMinMs + 300);
        network.setConditions({ delayMaxMs });
        return `delay ${delayMinMs}..${delayMaxMs} ms`;
      }
      case "reconfigure":
        return this.reconfigure(target);
    }
  }

  /** Null when the follow-up no longer applies (its node changed state meanwhile). */
  private applyFollowUp(followUp: FollowUp, target: FaultTarget): string | null {
    const { kind, node } = followUp;
    if (kind === "restart") {
      if (target.statusOf(node) !== "crashed") return null;
      return `${this.restart(node, target)} (the fence's reboot)`;
    }
    if (target.statusOf(node) !== "up") return null;
    const peer = target.nodeIds.find((id) => id !== node)!;
    return `${this.fence(node, peer, target)} (a fence by a run that just started)`;
  }

  private restart(id: NodeId, target: FaultTarget): string {
    target.restart(id);
    // Only in two-node mode, so that the other modes' random streams stay as they were.
    if (target.fence !== undefined && this.random.chance(0.3)) {
      this.followUp = { kind: "fence", node: id, gapMs: this.followUpGapMs() };
    }
    return `restart node ${id}`;
  }

  private fence(by: NodeId, victim: NodeId, target: FaultTarget): string {
    const line = target.fence!(by, victim);
    if (this.random.chance(0.5)) {
      this.followUp = { kind: "restart", node: victim, gapMs: this.followUpGapMs() };
    }
    return line;
  }

  private followUpGapMs(): number {
    return this.random.int(0, FOLLOW_UP_MAX_GAP_MS);
  }

  /** One single-server change: add a missing node, remove one (the leader too), or flip a witness. */
  private reconfigure(target: FaultTarget): string {
    const found = target.leaderMembership();
    if (found === null) return "reconfigure: no running leader";
    const { leaderId, membership } = found;
    const members = membership.members;
    const missing = target.nodeIds.filter((id) => !members.some((member) => member.id === id));
    const changes: Membership[] = [];
    for (const id of missing) changes.push({ members: [...members, voter(id)] });
    if (members.length > 2) {
      for (const member of members) {
        changes.push({ members: members.filter((other) => other.id !== member.id) });
      }
    }
    const witnesses = members.filter((member) => member.witness).length;
    for (const member of members) {
      // At most one witness, never the leader, and at least two members who can lead.
      const canBecomeWitness =
        !member.witness && member.id !== leaderId && witnesses === 0 && members.length >= 3;
      if (member.witness || canBecomeWitness) {
        changes.push({
          members: members.map((other) =>
            other.id === member.id ? { ...other, witness: !other.witness } : other,
          ),
        });
      }
    }
    // The core refuses a witness beside a single member that can lead (membership-change.ts):
    // offer only changes that keep two.
    const recoverable = changes.filter(
      (next) => next.members.filter((member) => !member.witness).length >= 2,
    );
    if (recoverable.length === 0) return "reconfigure: nothing to change";
    return target.proposeMembership(leaderId, this.random.pick(recoverable));
  }
}

export function voter(id: NodeId): Member {
  return { id, votes: 1, witness: false };
}

export function describeMembership(membership: Membership): string {
  const members = membership.members.map((member) => `${member.id}${member.witness ? "w" : ""}`);
  return `{${members.join(",")}}`;
}

/**
 * The next single-server change that brings `current` back to every node being a plain voter,
 * or null if it is there already. The heal phase walks this path one committed step at a time.
 */
export function nextStepTowardAllVoters(
  current: Membership,
  nodeIds: readonly NodeId[],
): Membership | null {
  const members = current.members;
  const odd = members.find((member) => member.witness || member.votes !== 1);
  if (odd !== undefined) {
    return {
      members: members.map((member) =>
        member.id === odd.id
          ? { ...member, witness: false, votes: member.votes > 1 ? member.votes - 1 : 1 }
          : member,
      ),
    };
  }
  const missing = nodeIds.find((id) => !members.some((member) => member.id === id));
  if (missing !== undefined) return { members: [...members, voter(missing)] };
  const stranger = members.find((member) => !nodeIds.includes(member.id));
  if (stranger !== undefined) {
    return { members: members.filter((member) => member.id !== stranger.id) };
  }
  return null;
}
