import type { Envelope, NodeId } from "../consensus/types.js";
import type { SeededRandom } from "./random.js";

export interface NetworkConditions {
  /** Probability that one message is lost. */
  dropProbability: number;
  /** Probability that a delivered message arrives twice (each copy with its own delay). */
  duplicateProbability: number;
  /** One-way delay is uniform in [min, max]; random delays are also what reorders messages. */
  delayMinMs: number;
  delayMaxMs: number;
}

export interface Delivery {
  atMs: number;
  envelope: Envelope;
}

export type SendOutcome =
  | { kind: "sent"; deliveries: Delivery[] }
  | { kind: "dropped"; reason: "cut" | "loss" };

/**
 * The wire between simulated nodes. It decides, at send time and from its own random stream,
 * whether and when each message arrives. Partitions cut both directions between groups; one-way
 * cuts drop only from→to. Messages already in flight when a cut appears still arrive, as packets
 * already past the switch would.
 */
export class SimNetwork {
  private conditions: NetworkConditions;
  private readonly partitionCuts = new Set<number>();
  private readonly oneWayCuts = new Set<number>();

  constructor(
    private readonly random: SeededRandom,
    conditions: NetworkConditions,
  ) {
    this.conditions = validateConditions(conditions);
  }

  current(): NetworkConditions {
    return { ...this.conditions };
  }

  setConditions(change: Partial<NetworkConditions>): void {
    this.conditions = validateConditions({ ...this.conditions, ...change });
  }

  /** Nodes in different groups cannot reach each other; replaces any earlier partition. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.partitionCuts.clear();
    for (const [groupIndex, group] of groups.entries()) {
      for (const [otherIndex, other] of groups.entries()) {
        if (groupIndex === otherIndex) continue;
        for (const from of group) for (const to of other) this.partitionCuts.add(linkKey(from, to));
      }
    }
  }

  /** Messages from `from` to `to` are dropped; the other direction still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.oneWayCuts.add(linkKey(from, to));
  }

  /** Removes every partition and one-way cut (loss and delay stay as they are). */
  heal(): void {
    this.partitionCuts.clear();
    this.oneWayCuts.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    const key = linkKey(from, to);
    return this.partitionCuts.has(key) || this.oneWayCuts.has(key);
  }

  hasCuts(): boolean {
    return this.partitionCuts.size > 0 || this.oneWayCuts.size > 0;
  }

  send(nowMs: number, envelope: Envelope): SendOutcome {
    if (this.isCut(envelope.from, envelope.to)) return { kind: "dropped", reason: "cut" };
    const { dropProbability, duplicateProbability } = this.conditions;
    if (dropProbability > 0 && this.random.chance(dropProbability)) {
      return { kind: "dropped", reason: "loss" };
    }
    const deliveries: Delivery[] = [{ atMs: nowMs + this.delayMs(), envelope }];
    if (duplicateProbability > 0 && this.random.chance(duplicateProbability)) {
      deliveries.push({ atMs: nowMs + this.delayMs(), envelope });
    }
    return { kind: "sent", deliveries };
  }

  private delayMs(): number {
    return this.random.int(this.conditions.delayMinMs, this.conditions.delayMaxMs);
  }
}

function linkKey(from: NodeId, to: NodeId): number {
  return from * 65_536 + to;
}

function validateConditions(conditions: NetworkConditions): NetworkConditions {
  const { dropProbability, duplicateProbability, delayMinMs, delayMaxMs } = conditions;
  for (const [name, p] of [
    ["dropProbability", dropProbability],
    ["duplicateProbability", duplicateProbability],
  ] as const) {
    if (!(p >= 0 && p <= 1))
      throw new Error(`network conditions: ${name} must be in [0, 1], got ${p}`);
  }
  if (!Number.isInteger(delayMinMs) || !Number.isInteger(delayMaxMs) || delayMinMs < 0) {
    throw new Error(
      `network conditions: delays must be non-negative integers, got ${delayMinMs}..${delayMaxMs}`,
    );
  }
  if (delayMaxMs < delayMinMs) {
    throw new Error(
      `network conditions: delayMaxMs ${delayMaxMs} is below delayMinMs ${delayMinMs}`,
    );
  }
  return { ...conditions };
}
