import { RaftNode, type RaftNodeOptions } from "../../src/consensus/raft-node.js";
import type {
  Envelope,
  LogEntry,
  Membership,
  NodeId,
  PersistedState,
  RaftEvent,
  RaftTiming,
  Ready,
} from "../../src/consensus/types.js";

/**
 * A tiny deterministic network for the Raft core's tests: one FIFO queue, zero delay, one
 * shared clock, crash/restart from what each node persisted, and link filters. (The real
 * simulator lives in src/sim; this exists so the core is tested on its own.)
 */

export const TIMING: RaftTiming = {
  heartbeatIntervalMs: 50,
  electionTimeoutMinMs: 150,
  electionTimeoutMaxMs: 300,
  leaseMs: 130,
  driftRatio: 0.1,
};

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function membershipOf(
  ids: NodeId[],
  extra: Partial<Record<NodeId, Partial<{ votes: number; witness: boolean }>>> = {},
): Membership {
  return {
    members: ids.map((id) => ({
      id,
      votes: extra[id]?.votes ?? 1,
      witness: extra[id]?.witness ?? false,
    })),
  };
}

export function emptyPersisted(): PersistedState {
  return { hardState: { term: 0, votedFor: null }, snapshot: null, entries: [] };
}

/** Applies a Ready's persist ops the way a store must: hardState, truncateFrom, append, snapshot. */
export function applyPersist(store: PersistedState, ready: Ready): void {
  const ops = ready.persist;
  if (ops.hardState) store.hardState = { ...ops.hardState };
  if (ops.truncateFrom !== undefined) {
    const from = ops.truncateFrom;
    store.entries = store.entries.filter((entry) => entry.index < from);
  }
  if (ops.append) store.entries.push(...ops.append);
  if (ops.snapshot) {
    const snapshot = ops.snapshot;
    store.snapshot = snapshot;
    store.entries = store.entries.filter((entry) => entry.index > snapshot.meta.lastIncludedIndex);
  }
}

export interface ClusterOptions {
  ids: NodeId[];
  membership?: Membership;
  seed?: number;
  timing?: RaftTiming;
  maxEntriesPerMessage?: number;
  faults?: RaftNodeOptions["unsafeTestFaults"];
  /** Per-node randomness from the start (default: seeded). */
  randoms?: Partial<Record<NodeId, () => number>>;
  twoNodeFencing?: boolean;
  pacedHeartbeats?: boolean;
}

/** The test's state machine: the list of applied command payloads. */
interface AppliedState {
  payloads: string[];
  /** (index, term) of every committed entry as applied, for safety checks. */
  entries: LogEntry[];
}

export class TestCluster {
  nowMs = 0;
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly stores = new Map<NodeId, PersistedState>();
  readonly applied = new Map<NodeId, AppliedState>();
  readonly events: { atMs: number; node: NodeId; event: RaftEvent }[] = [];
  readonly randoms = new Map<NodeId, () => number>();
  readonly down = new Set<NodeId>();
  /** Messages for which this returns true are dropped. */
  dropIf: (envelope: Envelope) => boolean = () => false;
  /** Lets a test alter messages in flight (after dropIf). */
  rewrite: (envelope: Envelope) => Envelope = (envelope) => envelope;
  private readonly queue: Envelope[] = [];
  private readonly options: ClusterOptions;
  private readonly membership: Membership;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.membership = options.membership ?? membershipOf(options.ids);
    const seeded = mulberry32(options.seed ?? 1);
    for (const id of options.ids) {
      const own = mulberry32(Math.floor(seeded() * 2 ** 32));
      this.randoms.set(id, options.randoms?.[id] ?? (() => own()));
      this.stores.set(id, emptyPersisted());
      this.applied.set(id, { payloads: [], entries: [] });
      this.start(id);
    }
  }

  node(id: NodeId): RaftNode {
    return this.nodes.get(id)!;
  }

  /** Replaces a node's randomness (e.g. () => 0 makes it time out first). */
  setRandom(id: NodeId, random: () => number): void {
    this.randoms.set(id, random);
  }

  private start(id: NodeId): void {
    const store = this.stores.get(id)!;
    const node = new RaftNode({
      id,
      timing: this.options.timing ?? TIMING,
      random: () => this.randoms.get(id)!(),
      persisted: structuredClone(store),
      initialMembership: this.membership,
      nowMs: this.nowMs,
      maxEntriesPerMessage: this.options.maxEntriesPerMessage,
      unsafeTestFaults: this.options.faults,
      twoNodeFencing: this.options.twoNodeFencing,
      pacedHeartbeats: this.options.pacedHeartbeats,
    });
    // The state machine restarts from the snapshot; entries after it are re-applied on commit.
    const applied: AppliedState = { payloads: [], entries: [] };
    if (store.snapshot) applied.payloads = JSON.parse(store.snapshot.data) as string[];
    this.applied.set(id, applied);
    this.nodes.set(id, node);
  }

  crash(id: NodeId): void {
    this.down.add(id);
    this.nodes.delete(id);
  }

  restart(id: NodeId): void {
    this.down.delete(id);
    this.start(id);
  }

  /** Drops every message to or from `id` (both directions). */
  isolate(...ids: NodeId[]): void {
    const cut = new Set(ids);
    this.dropIf = (e) => cut.has(e.from) !== cut.has(e.to);
  }

  heal(): void {
    this.dropIf = () => false;
    this.rewrite = (envelope) => envelope;
  }

  handle(id: NodeId, ready: Ready): void {
    applyPersist(this.stores.get(id)!, ready);
    const state = this.applied.get(id)!;
    if (ready.restoreSnapshot) {
      state.payloads = JSON.parse(ready.restoreSnapshot.data) as string[];
    }
    for (const entry of ready.committed) {
      state.entries.push(entry);
      if (entry.body.kind === "command") state.payloads.push(entry.body.payload);
    }
    for (const event of ready.events) this.events.push({ atMs: this.nowMs, node: id, event });
    for (const envelope of ready.messages) this.queue.push(envelope);
  }

  /** Delivers queued messages (and their consequences) until the network is quiet. */
  deliverAll(maxMessages = 100_000): void {
    for (let delivered = 0; this.queue.length > 0; delivered++) {
      if (delivered > maxMessages) throw new Error("network did not go quiet");
      const envelope = this.queue.shift()!;
      const target = this.nodes.get(envelope.to);
      if (target === undefined || this.down.has(envelope.from) || this.dropIf(envelope)) continue;
      const { from, to, message } = this.rewrite(envelope);
      this.handle(to, target.receive(this.nowMs, from, message));
    }
  }

  /** Advances the clock in steps, ticking nodes that have work due and delivering everything. */
  advance(durationMs: number, stepMs = 5): void {
    const endMs = this.nowMs + durationMs;
    while (this.nowMs < endMs) {
      this.nowMs = Math.min(endMs, this.nowMs + stepMs);
      for (const [id, node] of this.nodes) {
        if (node.nextTickAtMs() <= this.nowMs) this.handle(id, node.tick(this.nowMs));
      }
      this.deliverAll();
    }
  }

  runUntil(done: () => boolean, maxMs = 10_000, stepMs = 5): void {
    const endMs = this.nowMs + maxMs;
    while (!done()) {
      if (this.nowMs >= endMs) throw new Error(`condition not reached within ${maxMs} ms`);
      this.advance(stepMs, stepMs);
    }
  }

  propose(id: NodeId, payload: string): number {
    const result = this.node(id).propose(this.nowMs, { kind: "command", payload });
    if (!result.ok) throw new Error(`propose on ${id} failed: ${result.reason}`);
    this.handle(id, result.ready);
    return result.index;
  }

  /** Two-node mode: `id` learns that `peer` is off (fenced); false if the core refused. */
  standIn(id: NodeId, peer: NodeId): { accepted: boolean; reason?: string } {
    const result = this.node(id).standInFor(this.nowMs, peer);
    if (!result.accepted) return { accepted: false, reason: result.reason };
    this.handle(id, result.ready);
    this.deliverAll();
    return { accepted: true };
  }

  leaders(): NodeId[] {
    return [...this.nodes].filter(([, node]) => node.role() === "leader").map(([id]) => id);
  }

  /** The single leader of the highest term among live nodes, or null. */
  leader(): NodeId | null {
    const leaders = this.leaders();
    if (leaders.length === 0) return null;
    const top = Math.max(...leaders.map((id) => this.node(id).term()));
    const inTop = leaders.filter((id) => this.node(id).term() === top);
    return inTop.length === 1 ? inTop[0]! : null;
  }

  waitForLeader(maxMs = 10_000): NodeId {
    this.runUntil(() => this.leader() !== null, maxMs);
    return this.leader()!;
  }

  /** Each term's distinct leaders, from became_leader events. */
  leadersByTerm(): Map<number, Set<NodeId>> {
    const byTerm = new Map<number, Set<NodeId>>();
    for (const { node, event } of this.events) {
      if (event.type !== "became_leader") continue;
      const set = byTerm.get(event.term) ?? new Set<NodeId>();
      set.add(node);
      byTerm.set(event.term, set);
    }
    return byTerm;
  }

  eventsOf(id: NodeId, type: RaftEvent["type"]): { atMs: number; event: RaftEvent }[] {
    return this.events.filter((e) => e.node === id && e.event.type === type);
  }
}
