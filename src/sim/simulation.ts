import type { Envelope, Membership, NodeId, RaftTiming, Ready } from "../consensus/types.js";
import { type LeaseView, SafetyChecker } from "./checker.js";
import { EventQueue } from "./event-queue.js";
import {
  describeMembership,
  FaultInjector,
  type FaultTarget,
  nextStepTowardAllVoters,
} from "./faults.js";
import { type NetworkConditions, SimNetwork } from "./network.js";
import { SeededRandom } from "./random.js";
import { type SentEnvelope, SimNode } from "./sim-node.js";
import type { SimOptions, SimResult, SimStats } from "./sim-types.js";
import { SimStateMachine } from "./state-machine.js";
import { describeMessage, Trace } from "./trace.js";
import { SimViolation, type SimViolationReport, toViolation } from "./violation.js";

/** The default coordination profile (docs/configuration.md). */
export const DEFAULT_SIM_TIMING: RaftTiming = {
  heartbeatIntervalMs: 100,
  electionTimeoutMinMs: 500,
  electionTimeoutMaxMs: 800,
  leaseMs: 450,
  followerLeaseMs: 900,
  driftRatio: 0.1,
};

type SimEvent =
  | { kind: "tick"; nodeId: NodeId; generation: number }
  /** A paced heartbeat of one process run (pacedHeartbeats). */
  | { kind: "pace"; nodeId: NodeId; run: number }
  | { kind: "deliver"; sent: SentEnvelope }
  | { kind: "fault" }
  | { kind: "client" }
  | { kind: "heal" }
  | { kind: "probe" }
  | { kind: "liveness_deadline" };

interface ProbeAttempt {
  index: number;
  payload: string;
}

/** Faults listed in a failure report: the trace tail is often too short to show them. */
const RECENT_FAULTS_KEPT = 12;

/** Upper bound on buffered messages of a paused node, like a socket receive buffer. */
const PAUSED_INBOX_LIMIT = 512;

/**
 * One deterministic run: a cluster of simulated nodes driven from one seed through a phase of
 * random faults and client traffic, then a heal, with every invariant checked after every step.
 */
export class Simulation implements FaultTarget {
  readonly nodeIds: NodeId[];
  readonly network: SimNetwork;
  readonly baseConditions: NetworkConditions;
  private readonly timing: RaftTiming;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly queue = new EventQueue<SimEvent>();
  private readonly checker = new SafetyChecker();
  private readonly trace: Trace;
  private readonly faults: FaultInjector;
  private readonly clientRandom: SeededRandom;
  private readonly schedulerRandom: SeededRandom;
  private readonly pacingRandom: SeededRandom;
  private readonly pacedHeartbeats: boolean;
  private readonly membership: Membership;
  private readonly faultPhaseMs: number;
  private readonly livenessBoundMs: number;
  private readonly snapshotEveryEntries: number;
  private readonly stats: SimStats = {
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    proposalsAccepted: 0,
    proposalsRefused: 0,
    committedEntries: 0,
    faultsInjected: 0,
    crashes: 0,
    leadersElected: 0,
    snapshotsTaken: 0,
  };
  private nowMs = 0;
  private steps = 0;
  private nextCommand = 1;
  private healedAtMs: number | null = null;
  private recoveredAtMs: number | null = null;
  private readonly probes: ProbeAttempt[] = [];
  private readonly recentFaults: string[] = [];
  /** Two-node mode: per node, the last process run that was fenced (its messages are stale). */
  private readonly fencedRuns = new Map<NodeId, number>();

  constructor(private readonly options: SimOptions) {
    const { seed, nodeCount } = options;
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`simulation: seed must be a non-negative safe integer, got ${seed}`);
    }
    if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > 9) {
      throw new Error(`simulation: nodeCount must be an integer in 1..9, got ${nodeCount}`);
    }
    if (options.twoNodeFencing === true && nodeCount !== 2) {
      throw new Error(`simulation: two-node mode needs nodeCount 2, got ${nodeCount}`);
    }
    this.timing = options.timing ?? DEFAULT_SIM_TIMING;
    this.faultPhaseMs = options.faultPhaseMs ?? 20_000;
    this.livenessBoundMs = options.livenessBoundMs ?? 10 * this.timing.electionTimeoutMaxMs;
    this.snapshotEveryEntries = options.snapshotEveryEntries ?? 25;
    this.trace = new Trace(options.traceTailLength ?? 30, options.onTrace);

    const params = new SeededRandom(seed, "params");
    const delayMinMs = params.int(0, 5);
    this.baseConditions = {
      dropProbability: params.pick([0, 0, 0.01, 0.05]),
      duplicateProbability: params.pick([0, 0.01, 0.05]),
      delayMinMs,
      delayMaxMs: delayMinMs + params.int(2, 60),
    };
    this.network = new SimNetwork(new SeededRandom(seed, "network"), this.baseConditions);
    const gapMaxMs = params.int(400, 3_000);
    this.faults = new FaultInjector(new SeededRandom(seed, "faults"), {
      gapMinMs: 50,
      gapMaxMs,
      membershipChanges: options.twoNodeFencing !== true && (options.membershipChanges ?? true),
    });
    this.clientRandom = new SeededRandom(seed, "clients");
    this.schedulerRandom = new SeededRandom(seed, "scheduler");
    // A stream of its own: choosing it leaves every other seeded choice as it was.
    this.pacingRandom = new SeededRandom(seed, "pacing");
    this.pacedHeartbeats = options.pacedHeartbeats ?? this.pacingRandom.pick([false, true]);

    this.nodeIds = Array.from({ length: nodeCount }, (_, i) => i + 1);
    this.membership = {
      members: this.nodeIds.map((id) => ({ id, votes: 1, witness: false })),
    };
    for (const id of this.nodeIds) {
      // Clock rates differ by less than the drift ratio the timing budgets for.
      const rate = 1 + params.next() * this.timing.driftRatio;
      const offsetMs = params.int(0, 1_000_000);
      const node = new SimNode(
        id,
        new SeededRandom(seed, `node:${id}`),
        offsetMs,
        rate,
        this.membership,
      );
      this.nodes.set(id, node);
    }
    this.trace.record(
      0,
      null,
      `start seed=${seed} nodes=${nodeCount} delay=${delayMinMs}..${this.baseConditions.delayMaxMs}ms loss=${this.baseConditions.dropProbability} dup=${this.baseConditions.duplicateProbability} faultGap≤${gapMaxMs}ms`,
    );
  }

  run(): SimResult {
    let violation: SimViolationReport | null = null;
    try {
      for (const node of this.nodes.values()) this.startProcess(node);
      this.queue.push(this.faults.nextGapMs(), { kind: "fault" });
      this.queue.push(this.clientRandom.int(0, 200), { kind: "client" });
      this.queue.push(this.faultPhaseMs, { kind: "heal" });
      this.loop();
    } catch (error) {
      violation = toViolation(error);
      this.trace.record(this.nowMs, null, `VIOLATION ${violation.message}`);
    }
    this.stats.committedEntries = this.checker.highestCommitted();
    return {
      seed: this.options.seed,
      nodeCount: this.options.nodeCount,
      faultPhaseMs: this.faultPhaseMs,
      twoNodeFencing: this.options.twoNodeFencing === true,
      pacedHeartbeats: this.pacedHeartbeats,
      unsafeTestFaults: Object.entries(this.options.unsafeTestFaults ?? {})
        .filter(([, on]) => on === true)
        .map(([name]) => name),
      ok: violation === null,
      violation,
      steps: this.steps,
      virtualMs: this.nowMs,
      recoveryMs:
        this.recoveredAtMs !== null && this.healedAtMs !== null
          ? this.recoveredAtMs - this.healedAtMs
          : null,
      stats: { ...this.stats },
      traceTail: this.trace.tail(),
      traceDigest: this.trace.digest(),
      finalNodes: this.describeNodes(),
      recentFaults: [...this.recentFaults],
    };
  }

  // ---- FaultTarget -------------------------------------------------------------------------

  statusOf(id: NodeId): SimNode["status"] {
    return this.node(id).status;
  }

  someLeader(): NodeId | null {
    for (const node of this.nodes.values()) {
      if (node.status === "up" && node.raft?.role() === "leader") return node.id;
    }
    return null;
  }

  leaderMembership(): { leaderId: NodeId; membership: Membership } | null {
    const leaderId = this.someLeader();
    if (leaderId === null) return null;
    const node = this.node(leaderId);
    return { leaderId, membership: node.process().status(node.localNowMs(this.nowMs)).membership };
  }

  proposeMembership(leaderId: NodeId, membership: Membership): string {
    const node = this.node(leaderId);
    const raft = node.process();
    const result = raft.propose(node.localNowMs(this.nowMs), { kind: "membership", membership });
    const target = describeMembership(membership);
    if (!result.ok) {
      this.stats.proposalsRefused++;
      return `reconfigure to ${target} via node ${leaderId}: refused (${result.reason})`;
    }
    this.stats.proposalsAccepted++;
    this.execute(node, result.ready);
    return `reconfigure to ${target} via node ${leaderId}: index ${result.index} t${result.term}`;
  }

  transferLeadership(leaderId: NodeId): string {
    const node = this.node(leaderId);
    const result = node.process().transferLeadership?.(node.localNowMs(this.nowMs));
    if (result === undefined) return `transfer from node ${leaderId}: the core cannot`;
    if (!result.ok) return `transfer from node ${leaderId}: refused (${result.reason})`;
    this.execute(node, result.ready);
    return `transfer from node ${leaderId} to node ${result.target}`;
  }

  /** Undefined outside two-node mode, so the fault injector never picks it there. */
  get fence(): FaultTarget["fence"] {
    if (this.options.twoNodeFencing !== true) return undefined;
    return (by, victim) => this.fenceNode(by, victim);
  }

  private fenceNode(by: NodeId, victim: NodeId): string {
    const wasStatus = this.statusOf(victim);
    this.fencedRuns.set(victim, this.node(victim).restarts);
    if (wasStatus !== "crashed") this.crash(victim);
    // Recorded before the stand-in runs, so that a violation it causes shows the fence.
    this.recordFault(`fence: node ${by} powers node ${victim} (${wasStatus}) off`);
    const node = this.node(by);
    const result = node.process().standInFor?.(node.localNowMs(this.nowMs), victim);
    const what = `stand-in for node ${victim} at node ${by}`;
    if (result === undefined) return `${what}: the core has none`;
    if (!result.accepted) return `${what} refused (${result.reason})`;
    this.execute(node, result.ready);
    return `${what}: its vote counts`;
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    node.status = "crashed";
    node.raft = null;
    node.inbox = [];
    node.tickGeneration++;
    node.scheduledTickAtMs = Number.POSITIVE_INFINITY;
    this.stats.crashes++;
  }

  restart(id: NodeId): void {
    this.startProcess(this.node(id));
  }

  pause(id: NodeId): void {
    const node = this.node(id);
    node.status = "paused";
    node.tickGeneration++;
    node.scheduledTickAtMs = Number.POSITIVE_INFINITY;
  }

  /** Timers are late and the buffer is full: both are handled now, in a random order. */
  resume(id: NodeId): void {
    const node = this.node(id);
    node.status = "up";
    const buffered = node.inbox;
    node.inbox = [];
    const tickPosition = this.schedulerRandom.int(0, buffered.length);
    for (let i = 0; i <= buffered.length; i++) {
      if (i === tickPosition) {
        node.tickGeneration++;
        node.scheduledTickAtMs = this.nowMs;
        this.queue.push(this.nowMs, { kind: "tick", nodeId: id, generation: node.tickGeneration });
      }
      const sent = buffered[i];
      if (sent !== undefined) this.queue.push(this.nowMs, { kind: "deliver", sent });
    }
  }

  // ---- The loop ----------------------------------------------------------------------------

  private loop(): void {
    for (;;) {
      const item = this.queue.pop();
      if (item === undefined) throw new SimViolation("liveness", "the event queue ran dry");
      this.nowMs = item.atMs;
      if (!this.handle(item.event)) continue;
      this.steps++;
      this.checkInvariants();
      if (this.recoveredAtMs !== null) return;
    }
  }

  /** Returns false for events that turned out to be no-ops (superseded timers). */
  private handle(event: SimEvent): boolean {
    switch (event.kind) {
      case "tick":
        return this.handleTick(event.nodeId, event.generation);
      case "pace":
        return this.handlePace(event.nodeId, event.run);
      case "deliver":
        return this.handleDelivery(event.sent);
      case "fault": {
        if (this.healedAtMs !== null) return false;
        this.stats.faultsInjected++;
        this.recordFault(this.faults.injectOne(this));
        this.queue.push(this.nowMs + this.faults.nextGapMs(), { kind: "fault" });
        return true;
      }
      case "client":
        this.handleClient();
        this.queue.push(this.nowMs + this.clientRandom.int(10, 300), { kind: "client" });
        return true;
      case "heal":
        this.healedAtMs = this.nowMs;
        this.recordFault(this.faults.healAll(this));
        this.queue.push(this.nowMs, { kind: "probe" });
        this.queue.push(this.nowMs + this.livenessBoundMs, { kind: "liveness_deadline" });
        return true;
      case "probe":
        this.handleProbe();
        this.queue.push(this.nowMs + this.timing.electionTimeoutMaxMs / 2, { kind: "probe" });
        return true;
      case "liveness_deadline":
        throw new SimViolation(
          "liveness",
          `${this.livenessBoundMs} ms after the heal no proposal had reached every node (${this.probes.length} probe(s) proposed); nodes: ${this.describeNodes().join("; ")}`,
        );
    }
  }

  private handleTick(nodeId: NodeId, generation: number): boolean {
    const node = this.node(nodeId);
    if (node.status !== "up" || generation !== node.tickGeneration) return false;
    node.scheduledTickAtMs = Number.POSITIVE_INFINITY;
    const raft = node.process();
    const localMs = node.localNowMs(this.nowMs);
    if (localMs < raft.nextTickAtMs()) {
      // An earlier deadline was pushed back since this event was queued.
      this.scheduleTick(node);
      return false;
    }
    this.trace.record(this.nowMs, nodeId, `tick ${raft.role()} t${raft.term()}`);
    this.execute(node, raft.tick(localMs));
    return true;
  }

  private handleDelivery(sent: SentEnvelope): boolean {
    const { envelope } = sent;
    const node = this.node(envelope.to);
    if (node.status === "crashed") return false;
    // The agent drops what the run it fenced still had on the wire (TwoNodeSurvivor.accepts).
    if (sent.senderRun <= (this.fencedRuns.get(envelope.from) ?? 0)) return false;
    if (node.status === "paused") {
      if (node.inbox.length < PAUSED_INBOX_LIMIT) node.inbox.push(sent);
      else this.stats.messagesDropped++;
      return false;
    }
    this.stats.messagesDelivered++;
    this.trace.record(
      this.nowMs,
      envelope.to,
      `recv from ${envelope.from}: ${describeMessage(envelope.message)}`,
    );
    const raft = node.process();
    this.execute(node, raft.receive(node.localNowMs(this.nowMs), envelope.from, envelope.message));
    return true;
  }

  /** Clients send to whichever running node believes it is leader (a stale one included). */
  private handleClient(): void {
    const leaders = this.nodeIds.filter((id) => {
      const node = this.node(id);
      return node.status === "up" && node.raft?.role() === "leader";
    });
    // Not traced: in a leaderless stretch these lines would crowd everything else out.
    if (leaders.length === 0) return;
    const payload = `c${this.nextCommand++}`;
    this.propose(this.node(this.clientRandom.pick(leaders)), payload);
  }

  private recordFault(description: string): void {
    this.trace.record(this.nowMs, null, description);
    this.recentFaults.push(`${this.nowMs} ms ${description}`);
    if (this.recentFaults.length > RECENT_FAULTS_KEPT) this.recentFaults.shift();
  }

  private handleProbe(): void {
    if (this.recoveredAtMs !== null) return;
    const leader = this.someLeader();
    if (leader === null) {
      this.trace.record(this.nowMs, null, "probe: no leader yet");
      return;
    }
    const current = this.leaderMembership()?.membership;
    const step = current === undefined ? null : nextStepTowardAllVoters(current, this.nodeIds);
    if (step !== null) this.trace.record(this.nowMs, null, this.proposeMembership(leader, step));
    // The leader may have stepped down (removing itself) while proposing.
    if (this.node(leader).raft?.role() !== "leader") return;
    const payload = `probe${this.probes.length + 1}`;
    const index = this.propose(this.node(leader), payload);
    if (index !== null) this.probes.push({ index, payload });
  }

  private propose(node: SimNode, payload: string): number | null {
    const raft = node.process();
    const result = raft.propose(node.localNowMs(this.nowMs), { kind: "command", payload });
    if (!result.ok) {
      this.stats.proposalsRefused++;
      this.trace.record(this.nowMs, node.id, `propose ${payload} refused: ${result.reason}`);
      return null;
    }
    this.stats.proposalsAccepted++;
    this.trace.record(
      this.nowMs,
      node.id,
      `propose ${payload} → index ${result.index} t${result.term}`,
    );
    this.execute(node, result.ready);
    return result.index;
  }

  // ---- Executing a Ready, in the contract's order ------------------------------------------

  private execute(node: SimNode, ready: Ready): void {
    node.disk.apply(ready.persist);
    for (const envelope of ready.messages) this.send(node, envelope);
    const machine = node.stateMachine;
    if (ready.restoreSnapshot !== null) {
      const snapshot = ready.restoreSnapshot;
      if (snapshot.meta.lastIncludedIndex < machine.lastAppliedIndex) {
        throw new SimViolation(
          "state_machine",
          `${node.label} was told to load a snapshot at ${snapshot.meta.lastIncludedIndex}, behind its applied index ${machine.lastAppliedIndex}`,
        );
      }
      this.checker.observeSnapshotRestored(node.label, snapshot);
      machine.restore(snapshot);
      this.trace.record(
        this.nowMs,
        node.id,
        `load snapshot at ${snapshot.meta.lastIncludedIndex}/t${snapshot.meta.lastIncludedTerm}`,
      );
    }
    for (const entry of ready.committed) {
      machine.apply(entry);
      this.checker.observeApplied(node.label, entry, machine.digest, this.nowMs);
    }
    if (ready.committed.length > 0) {
      this.trace.record(
        this.nowMs,
        node.id,
        `applied ${ready.committed[0]!.index}..${machine.lastAppliedIndex}`,
      );
    }
    for (const event of ready.events) {
      if (event.type === "became_leader") this.stats.leadersElected++;
      this.trace.record(this.nowMs, node.id, `event ${JSON.stringify(event)}`);
    }
    if (machine.appliedSinceSnapshot >= this.snapshotEveryEntries) {
      const snapshot = machine.takeSnapshot();
      this.stats.snapshotsTaken++;
      this.trace.record(this.nowMs, node.id, `compact to ${snapshot.meta.lastIncludedIndex}`);
      this.execute(node, node.process().compact(node.localNowMs(this.nowMs), snapshot));
      return;
    }
    this.scheduleTick(node);
  }

  private send(node: SimNode, envelope: Envelope): void {
    if (envelope.from !== node.id || !this.nodes.has(envelope.to) || envelope.to === node.id) {
      throw new SimViolation(
        "contract",
        `${node.label} emitted a message from ${envelope.from} to ${envelope.to}`,
      );
    }
    this.stats.messagesSent++;
    const outcome = this.network.send(this.nowMs, envelope);
    if (outcome.kind === "dropped") {
      this.stats.messagesDropped++;
      return;
    }
    for (const delivery of outcome.deliveries) {
      this.queue.push(delivery.atMs, {
        kind: "deliver",
        sent: { envelope: delivery.envelope, senderRun: node.restarts },
      });
    }
  }

  /** The chain of a run ends with the run; a paused or crashed run skips its beats. */
  private handlePace(nodeId: NodeId, run: number): boolean {
    const node = this.node(nodeId);
    if (node.restarts !== run) return false;
    this.schedulePace(node);
    if (node.status !== "up") return false;
    const raft = node.process();
    if (raft.heartbeat === undefined) return false;
    this.execute(node, raft.heartbeat(node.localNowMs(this.nowMs)));
    return true;
  }

  /** The next paced heartbeat: one interval of the node's clock, plus a timer's lateness. */
  private schedulePace(node: SimNode): void {
    const dueLocalMs = node.localNowMs(this.nowMs) + this.timing.heartbeatIntervalMs;
    const atMs = node.virtualAtLocalMs(dueLocalMs) + this.pacingRandom.int(0, 3);
    this.queue.push(atMs, { kind: "pace", nodeId: node.id, run: node.restarts });
  }

  private scheduleTick(node: SimNode): void {
    if (node.status !== "up") return;
    const localDueMs = node.process().nextTickAtMs();
    // Nothing scheduled (a paced leader standing in for its only peer): the paced beats tick it.
    if (!Number.isFinite(localDueMs)) return;
    // Never schedule into the past or the present: a core that keeps reporting a due timer
    // must not stall virtual time.
    const atMs = Math.max(node.virtualAtLocalMs(localDueMs), this.nowMs + 1);
    if (atMs >= node.scheduledTickAtMs) return;
    node.tickGeneration++;
    node.scheduledTickAtMs = atMs;
    this.queue.push(atMs, { kind: "tick", nodeId: node.id, generation: node.tickGeneration });
  }

  private startProcess(node: SimNode): void {
    const persisted = node.disk.load();
    node.status = "up";
    node.inbox = [];
    node.lastCommitIndex = 0;
    node.stateMachine = new SimStateMachine(node.label, this.membership, persisted.snapshot);
    if (persisted.snapshot !== null) {
      this.checker.observeSnapshotRestored(node.label, persisted.snapshot);
    }
    node.raft = this.options.createNode({
      id: node.id,
      timing: this.timing,
      random: node.random.asFunction(),
      persisted,
      initialMembership: this.membership,
      nowMs: node.localNowMs(this.nowMs),
      ...(this.options.maxEntriesPerMessage !== undefined
        ? { maxEntriesPerMessage: this.options.maxEntriesPerMessage }
        : {}),
      ...(this.options.unsafeTestFaults !== undefined
        ? { unsafeTestFaults: this.options.unsafeTestFaults }
        : {}),
      ...(this.options.twoNodeFencing === true ? { twoNodeFencing: true } : {}),
      ...(this.pacedHeartbeats ? { pacedHeartbeats: true } : {}),
    });
    if (node.restarts > 0 || this.nowMs > 0) {
      this.trace.record(
        this.nowMs,
        node.id,
        `process started from disk: term ${persisted.hardState.term}, vote ${persisted.hardState.votedFor}, snapshot ${persisted.snapshot?.meta.lastIncludedIndex ?? 0}, ${persisted.entries.length} entries`,
      );
    }
    node.restarts++;
    node.tickGeneration++;
    node.scheduledTickAtMs = Number.POSITIVE_INFINITY;
    this.scheduleTick(node);
    if (this.pacedHeartbeats) this.schedulePace(node);
  }

  // ---- Invariants after every step ---------------------------------------------------------

  private checkInvariants(): void {
    let anyLeader = false;
    for (const node of this.nodes.values()) {
      const raft = node.raft;
      if (raft === null) continue;
      if (raft.role() === "leader") {
        anyLeader = true;
        this.checker.observeLeader(node.id, raft.term());
      }
      const commitIndex = raft.commitIndex();
      if (commitIndex < node.lastCommitIndex) {
        throw new SimViolation(
          "committed_entry_changed",
          `${node.label}'s commit index went from ${node.lastCommitIndex} down to ${commitIndex}`,
        );
      }
      node.lastCommitIndex = commitIndex;
    }
    if (anyLeader) this.checker.checkLeases(this.leaseViews(), this.nowMs);
    if (this.healedAtMs !== null && this.recoveredAtMs === null && this.probeReachedEveryone()) {
      this.recoveredAtMs = this.nowMs;
      this.trace.record(
        this.nowMs,
        null,
        `recovered ${this.nowMs - this.healedAtMs} ms after the heal`,
      );
    }
  }

  /** Paused nodes are included: the question is what they would believe the moment they resume. */
  private leaseViews(): LeaseView[] {
    const views: LeaseView[] = [];
    for (const node of this.nodes.values()) {
      const raft = node.raft;
      if (raft === null) continue;
      const localMs = node.localNowMs(this.nowMs);
      views.push({
        id: node.id,
        isLeader: raft.role() === "leader",
        term: raft.term(),
        holdsLease: raft.holdsLease(localMs),
        holdsLeaderLease: raft.holdsLeaderLease(localMs),
        leaseSurelyExpired: (other) => raft.leaseSurelyExpired(other, localMs),
      });
    }
    return views;
  }

  private probeReachedEveryone(): boolean {
    for (const probe of this.probes) {
      const applied = this.nodeIds.every(
        (id) => this.node(id).stateMachine.lastAppliedIndex >= probe.index,
      );
      if (!applied) continue;
      // Everyone is past the index; it counts only if what got committed there is the probe.
      const machine = this.node(this.nodeIds[0]!).stateMachine;
      if (machine.commands.includes(probe.payload)) return true;
    }
    return false;
  }

  private describeNodes(): string[] {
    return this.nodeIds.map((id) => {
      const node = this.node(id);
      const raft = node.raft;
      const process =
        raft === null
          ? "no process"
          : `${raft.role()} t${raft.term()} leader=${raft.leaderId()} commit=${raft.commitIndex()}`;
      return `node ${id} ${node.status} ${process} applied=${node.stateMachine.lastAppliedIndex}`;
    });
  }

  private node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`simulation: no node ${id}`);
    return node;
  }
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

export type { SimOptions, SimResult, SimStats } from "./sim-types.js";
