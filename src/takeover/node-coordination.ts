import { fencingEnabled } from "../config/safety-modes.js";
import { FOLLOWER_LEASE_SPARE_MS, type NodeConfig, type VigilConfig } from "../config/schema.js";
import type { ClusterMessage } from "../coordination/cluster-message.js";
import { type CoordinationStatus, Coordinator } from "../coordination/coordinator.js";
import type { Timers } from "../coordination/timers.js";
import type { FenceResult } from "../fencing/fence-report.js";
import { NodeFencer } from "../fencing/node-fencer.js";
import { TwoNodeSurvivor } from "../fencing/two-node-survivor.js";
import type { InvariantError } from "../invariant/invariant-error.js";
import type { Logger } from "../log/logger.js";
import type { MembershipEvent, NodeStatus } from "../membership/types.js";
import { describeProblems } from "../resource-check/check-document.js";
import type { ResourceModel } from "../resource-model/types.js";
import type { OperationRunner } from "../resources/executor/operation.js";
import type { Applied } from "../state/apply.js";
import { type Command, encodeCommand } from "../state/commands.js";
import type { ClusterState, Incident } from "../state/types.js";
import type { RaftStorage } from "../storage/raft-storage.js";
import type { Clock } from "../time/clock.js";
import { guardHangMs, type HeldResource, pastLeaseGraceMs } from "../watchdog/guard-protocol.js";
import { committedModel, policyInputOf } from "./cluster-view.js";
import { LeaderLoop } from "./leader-loop.js";
import { LocalResources } from "./local-resources.js";

export interface NodeCoordinationOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  /** This run's incarnation: reports from other runs are refused. */
  incarnation: number;
  stateDir: string;
  clock: Clock;
  timers: Timers;
  logger: Logger;
  /** Randomness for the Raft core (default: the system's); the simulator passes a seeded one. */
  random?: () => number;
  /** The Raft log and snapshots (default: files under stateDir); the simulator passes its disk. */
  store?: RaftStorage;
  send(to: number, message: ClusterMessage): void;
  /** Membership's view of the peers at `nowMs`. */
  peers(nowMs: number): readonly NodeStatus[];
  /** Runs resource agents (the executor in the agent, simulated agents in the simulator). */
  runner: OperationRunner;
  /** Runs a node's fence levels and never throws (FenceRunner in the agent). */
  fence(node: string): Promise<FenceResult>;
  /** Coordination stopped on a broken invariant: the caller stops the node, loudly. */
  onInvariantBroken(error: InvariantError): void;
  /** no_quorum_policy suicide: end the node now, resources and all. */
  onSuicide(): void;
  /** Told before an operation may leave a resource running here (the node guard). */
  onHold?(resource: HeldResource): void;
  /** Applies committed payloads: applyCommand unless given (the simulator shares a memo of it). */
  applyCommand?(state: ClusterState, payload: string): Applied;
  /** The committed resource model: committedModel unless given (the simulator shares a memo). */
  committedModel?: typeof committedModel;
}

/** Beyond two heartbeat intervals, how long a client-link cut must stand before it moves a VIP. */
const CLIENT_LINK_SETTLE_EXTRA_MS = 100;

/**
 * A node's coordination, composed: the Raft core and replicated state (Coordinator), what acts
 * on that state here (LocalResources), the leader's placement (LeaderLoop), fencing decisions
 * (NodeFencer, TwoNodeSurvivor) and the views they share of membership, leases and the committed
 * model. Time, timers, randomness, storage, resource agents and fence devices come in from
 * outside: the agent passes real ones (src/agent/agent-coordination.ts), the whole-node
 * simulator simulated ones (src/whole-sim/), so both run this same wiring.
 */
export class NodeCoordination {
  private modelCache: { version: number; model: ResourceModel } | null = null;
  /** The last incident already logged, by signature (a snapshot brings new objects). */
  private lastIncidentLogged: string | null = null;
  private readonly twoNode: TwoNodeSurvivor | null = null;
  /** "node link" → when this node first computed a placement with that node cut from the link. */
  private readonly clientLinkCutSince = new Map<string, number>();
  readonly resources: LocalResources;
  readonly leaderLoop: LeaderLoop;
  /** Every fence goes through it: lost nodes, two-node mode, operators. */
  readonly fencer: NodeFencer;

  private constructor(
    private readonly options: NodeCoordinationOptions,
    readonly coordinator: Coordinator,
  ) {
    const { config, localNode, clock, timers, logger } = options;
    const submit = (command: Command) => this.submit(command);
    this.resources = new LocalResources({
      node: localNode.name,
      incarnation: options.incarnation,
      executor: options.runner,
      clock,
      timers,
      logger: logger.child({ part: "resources" }),
      state: () => coordinator.state(),
      model: () => this.model(coordinator.state()),
      holdsLease: () => coordinator.holdsLease(),
      leaseRemainingMs: () => coordinator.leaseRemainingMs(),
      // Small: a follower's lease must outlast an election after the leader died (renewed by the
      // new leader) without its resources being stopped. Fast stops (a VIP) still finish within
      // the lease; the leader waits the drift factor longer again (~90 ms by default); stops too
      // slow for that are what the lease guard fences.
      stopMarginMs: Math.min(
        FOLLOWER_LEASE_SPARE_MS,
        Math.round(config.coordination.follower_lease_ms / 10),
      ),
      noQuorumPolicy: config.no_quorum_policy,
      fencing: fencingEnabled(config),
      onHold: (resource) => options.onHold?.(resource),
      onSuicide: () => options.onSuicide(),
      submit,
    });
    this.fencer = new NodeFencer({
      nodeName: localNode.name,
      clock,
      timers,
      logger: logger.child({ part: "fencing" }),
      delayMs: (node) => config.fencing.delay_ms[node] ?? 0,
      fence: (node) => options.fence(node),
      submit,
      onFenced: (node) => this.twoNode?.onPeerFenced(node),
      runOf: (node) => {
        const { agents } = coordinator.state();
        return Object.hasOwn(agents, node) ? (agents[node]?.incarnation ?? null) : null;
      },
    });
    // Operators may fence by hand whenever devices exist; lost nodes only with fencing enabled.
    const fencer = fencingEnabled(config) ? this.fencer : undefined;
    const peer = config.nodes.find((node) => node.id !== localNode.id);
    if (config.twoNode && fencer !== undefined && peer !== undefined) {
      this.twoNode = new TwoNodeSurvivor({
        peer: { id: peer.id, name: peer.name },
        logger: logger.child({ part: "two-node" }),
        timers,
        fencer,
        isPeerUp: () => this.isUp(peer.name),
        caughtUp: () => coordinator.status().twoNode?.caughtUp === true,
        standIn: () => coordinator.standInFor(peer.id),
      });
    }
    this.leaderLoop = new LeaderLoop({
      nodeName: localNode.name,
      clock,
      timers,
      logger: logger.child({ part: "placement" }),
      isLeader: () => coordinator.isLeader(),
      state: () => coordinator.state(),
      policyInput: (state) => this.policyInput(state),
      leaseSurelyExpired: (name) => {
        const node = config.nodes.find((n) => n.name === name);
        return node !== undefined && coordinator.leaseSurelyExpired(node.id);
      },
      isUp: (name) => this.takesPart(name),
      submit,
      ...(fencer !== undefined ? { fencer } : {}),
      handOverLeadership: () => this.handOverLeadership(),
    });
    this.lastIncidentLogged = signatureOf(coordinator.state().incidents.at(-1));
    coordinator.onStateChange(() => {
      this.reportIncidents();
      this.kick();
    });
    coordinator.events.subscribe((event) => {
      if (
        event.type === "lease_acquired" ||
        event.type === "lease_lost" ||
        event.type === "became_leader" ||
        event.type === "leader_changed"
      )
        this.kick();
    });
  }

  static async start(options: NodeCoordinationOptions): Promise<NodeCoordination> {
    const { config, localNode } = options;
    const coordinator = await Coordinator.start({
      localNode,
      nodes: config.nodes,
      timing: config.timing,
      coordination: config.coordination,
      stateDir: options.stateDir,
      clock: options.clock,
      timers: options.timers,
      ...(options.random !== undefined ? { random: options.random } : {}),
      ...(options.store !== undefined ? { store: options.store } : {}),
      logger: options.logger.child({ part: "coordination" }),
      send: options.send,
      onInvariantBroken: options.onInvariantBroken,
      twoNodeFencing: config.twoNode,
      // A lost node's guard may still be stopping its resources this long past its lease.
      releaseGraceMs: config.watchdog.lease_guard
        ? pastLeaseGraceMs(guardHangMs(config.coordination.follower_lease_ms))
        : 0,
      pacedHeartbeats: true,
      ...(options.applyCommand !== undefined ? { applyCommand: options.applyCommand } : {}),
    });
    coordinator.events.subscribe((event) =>
      options.logger.info({ event: event.type, ...event }, `coordination: ${event.type}`),
    );
    return new NodeCoordination(options, coordinator);
  }

  submit(command: Command) {
    return this.coordinator.submit({ kind: "command", payload: encodeCommand(command) });
  }

  /** Heartbeats leave now: Raft's appends due about now go with them. */
  heartbeat(): void {
    this.coordinator.heartbeat();
  }

  /** A coordination message from `senderId`'s run `incarnation`. */
  receive(senderId: number, incarnation: number, message: ClusterMessage): void {
    if (this.twoNode !== null && !this.twoNode.accepts(incarnation)) return;
    this.coordinator.receive(senderId, message);
  }

  noticePeerUp(nodeId: number): void {
    this.coordinator.noticePeerUp(nodeId);
  }

  /** Membership's events (node up, dead, left): fencing and two-node mode act on them. */
  onMembershipEvent(event: MembershipEvent): void {
    if (event.type === "node_up") this.fencer.noticeUp(event.name);
    this.twoNode?.onMembershipEvent(event);
    if (event.type === "node_up" || event.type === "node_dead" || event.type === "node_left") {
      this.kick();
    }
  }

  status(): CoordinationStatus {
    return this.coordinator.status();
  }

  /** Membership: `name` is this node, or a peer heard now. */
  isUp(name: string): boolean {
    const { config, localNode, clock } = this.options;
    if (name === localNode.name) return true;
    const node = config.nodes.find((n) => n.name === name);
    if (node === undefined) return false;
    return this.options.peers(clock.nowMs()).find((peer) => peer.id === node.id)?.state === "up";
  }

  /**
   * Heard, and able to hear: on the leader, a node whose lease has surely ended does not take
   * part even while its heartbeats arrive (a cut in one direction: it hears nothing, so it stopped
   * its resources and cannot be told anything). Elsewhere only the leader could tell: membership.
   */
  private takesPart(name: string): boolean {
    if (name === this.options.localNode.name) return true;
    if (!this.isUp(name)) return false;
    const node = this.options.config.nodes.find((n) => n.name === name);
    return node === undefined || !this.coordinator.leaseSurelyExpired(node.id);
  }

  /**
   * Logs incidents the state machine recorded since the last look (every node does: each log
   * tells the story on its own). Stopping the extra copies is the policy engine's job.
   */
  private reportIncidents(): void {
    const { incidents } = this.coordinator.state();
    const seen = incidents.findLastIndex((i) => signatureOf(i) === this.lastIncidentLogged);
    for (const incident of incidents.slice(seen + 1)) {
      this.options.logger.error(
        { incident: incident.kind, resource: incident.resource, nodes: incident.nodes },
        `INCIDENT: ${incident.resource} was running on ${incident.nodes.join(" and ")} at once; stopping it where it does not belong`,
      );
    }
    this.lastIncidentLogged = signatureOf(incidents.at(-1)) ?? this.lastIncidentLogged;
  }

  /** Something that placement depends on changed: membership, state, leases. */
  kick(): void {
    this.resources.kick();
    this.leaderLoop.kick();
  }

  /**
   * The committed resource model, parsed once per configuration version; what this node cannot
   * use of it is logged then, and shown by the leader as blocked or unplaceable.
   */
  model(state: ClusterState): ResourceModel {
    if (this.modelCache?.version !== state.config.version) {
      const read = this.options.committedModel ?? committedModel;
      const { model, problems } = read(state, this.options.config.nodes);
      this.modelCache = { version: state.config.version, model };
      if (problems.length > 0) {
        this.options.logger.error(
          { configVersion: state.config.version, unusable: model.unusable, problems },
          `the committed configuration (version ${state.config.version}) has resources this node cannot use; they are not started (fix the document and apply it again): ${describeProblems(problems)}`,
        );
      }
    }
    return this.modelCache.model;
  }

  policyInput(state: ClusterState) {
    const { config, localNode, incarnation, clock } = this.options;
    const nowMs = clock.nowMs();
    const peers = new Map(this.options.peers(nowMs).map((peer) => [peer.id, peer]));
    const cutsNow = new Set<string>();
    const input = policyInputOf({
      clientLinkCutHolds: (node, link) => {
        const key = `${node} ${link}`;
        cutsNow.add(key);
        return this.clientLinkCutHolds(key, nowMs);
      },
      state,
      nodes: config.nodes,
      model: this.model(state),
      liveIncarnation: (node) => {
        if (node.id === localNode.id) return incarnation;
        const peer = peers.get(node.id);
        if (peer?.state !== "up" || this.coordinator.leaseSurelyExpired(node.id)) return null;
        return peer.incarnation;
      },
      nowMs,
      fencing: fencingEnabled(config),
    });
    for (const key of this.clientLinkCutSince.keys())
      if (!cutsNow.has(key)) this.clientLinkCutSince.delete(key);
    return input;
  }

  /**
   * A node cut from a client-facing link loses its VIP only once the cut has been seen for a
   * moment: when a switch dies every node says "0 peers" within about a heartbeat of the others,
   * and whoever says it first must not lose its VIP for that (client-links.ts).
   */
  private clientLinkCutHolds(key: string, nowMs: number): boolean {
    const settleMs = 2 * this.options.config.timing.keepalive_ms + CLIENT_LINK_SETTLE_EXTRA_MS;
    const known = this.clientLinkCutSince.get(key);
    if (known === undefined) {
      this.clientLinkCutSince.set(key, nowMs);
      this.options.timers.after(settleMs, () => this.kick());
      return false;
    }
    return nowMs - known >= settleMs;
  }

  /** Graceful stop, first step: this node's resources move to the others (or stop here). */
  handOverResources(): Promise<void> {
    return this.resources.shutdown();
  }

  /**
   * Graceful stop, last step, on the leader: hand leadership over, so what the others still
   * have to commit need not wait out an election timeout. Bounded; on failure the others
   * simply elect after the goodbye.
   */
  async handOverLeadership(): Promise<void> {
    if (!this.coordinator.isLeader()) return;
    const outcome = await this.coordinator.transferLeadership(
      this.options.config.coordination.election_timeout_min_ms,
    );
    if (outcome.ok) {
      this.options.logger.info({ leader: outcome.leaderId }, "leadership handed over");
    } else {
      this.options.logger.warn({ reason: outcome.reason }, "leadership not handed over");
    }
  }

  async stop(): Promise<void> {
    this.leaderLoop.stop();
    this.fencer.stop();
    this.twoNode?.stop();
    this.resources.detach();
    await this.coordinator.stop();
  }
}

function signatureOf(incident: Incident | undefined): string | null {
  if (incident === undefined) return null;
  return `${incident.atMs} ${incident.kind} ${incident.resource} ${incident.nodes.join(",")}`;
}
