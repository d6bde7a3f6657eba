import type { EntryBody, LogEntry, Membership, Snapshot } from "../consensus/types.js";
import { SimViolation } from "./violation.js";

/** The replicated state of the simulation: the applied command payloads, plus a digest of the
 * whole applied sequence so that two nodes at the same index can be compared in O(1). */
interface SnapshotData {
  lastAppliedIndex: number;
  digest: string;
  commands: string[];
}

export class SimStateMachine {
  lastAppliedIndex = 0;
  lastAppliedTerm = 0;
  /** Digest of every entry applied so far (index, term, body), chained. */
  digest = "0";
  commands: string[] = [];
  /** Membership in force at lastAppliedIndex, for the snapshots this node takes. */
  membership: Membership;
  appliedSinceSnapshot = 0;

  constructor(
    private readonly nodeLabel: string,
    initialMembership: Membership,
    snapshot: Snapshot | null,
  ) {
    this.membership = initialMembership;
    if (snapshot !== null) this.restore(snapshot);
  }

  apply(entry: LogEntry): void {
    if (entry.index !== this.lastAppliedIndex + 1) {
      throw new SimViolation(
        "state_machine",
        `${this.nodeLabel} was given index ${entry.index} to apply after index ${this.lastAppliedIndex}`,
      );
    }
    this.lastAppliedIndex = entry.index;
    this.lastAppliedTerm = entry.term;
    this.digest = chainDigest(this.digest, entry);
    if (entry.body.kind === "command") this.commands.push(entry.body.payload);
    if (entry.body.kind === "membership") this.membership = entry.body.membership;
    this.appliedSinceSnapshot++;
  }

  restore(snapshot: Snapshot): void {
    const data = parseSnapshotData(snapshot, this.nodeLabel);
    if (data.lastAppliedIndex !== snapshot.meta.lastIncludedIndex) {
      throw new SimViolation(
        "state_machine",
        `${this.nodeLabel} got a snapshot whose data is at ${data.lastAppliedIndex} but whose meta says ${snapshot.meta.lastIncludedIndex}`,
      );
    }
    this.lastAppliedIndex = data.lastAppliedIndex;
    this.lastAppliedTerm = snapshot.meta.lastIncludedTerm;
    this.digest = data.digest;
    this.commands = [...data.commands];
    this.membership = snapshot.meta.membership;
    this.appliedSinceSnapshot = 0;
  }

  takeSnapshot(): Snapshot {
    this.appliedSinceSnapshot = 0;
    const data: SnapshotData = {
      lastAppliedIndex: this.lastAppliedIndex,
      digest: this.digest,
      commands: this.commands,
    };
    return {
      meta: {
        lastIncludedIndex: this.lastAppliedIndex,
        lastIncludedTerm: this.lastAppliedTerm,
        membership: this.membership,
      },
      data: JSON.stringify(data),
    };
  }
}

export function snapshotDigest(snapshot: Snapshot, nodeLabel: string): string {
  return parseSnapshotData(snapshot, nodeLabel).digest;
}

function parseSnapshotData(snapshot: Snapshot, nodeLabel: string): SnapshotData {
  let parsed: unknown;
  try {
    parsed = JSON.parse(snapshot.data);
  } catch (error) {
    throw new SimViolation(
      "state_machine",
      `${nodeLabel} got snapshot data that is not JSON: ${(error as Error).message}`,
    );
  }
  const data = parsed as Partial<SnapshotData> | null;
  if (
    data === null ||
    typeof data.lastAppliedIndex !== "number" ||
    typeof data.digest !== "string" ||
    !Array.isArray(data.commands)
  ) {
    throw new SimViolation("state_machine", `${nodeLabel} got snapshot data of the wrong shape`);
  }
  return data as SnapshotData;
}

export function bodyKey(body: EntryBody): string {
  switch (body.kind) {
    case "noop":
      return "noop";
    case "command":
      return `cmd:${body.payload}`;
    case "membership":
      return `mem:${body.membership.members.map((m) => `${m.id}/${m.votes}${m.witness ? "w" : ""}`).join(",")}`;
  }
}

/** Two FNV-1a variants side by side: 64 bits of digest, enough that a collision in a run of a
 * few thousand entries is not a practical concern. */
function chainDigest(previous: string, entry: LogEntry): string {
  const text = `${previous}|${entry.index}:${entry.term}:${bodyKey(entry.body)}`;
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return `${(a >>> 0).toString(36)}.${(b >>> 0).toString(36)}`;
}
