import { fencingEnabled } from "../config/safety-modes.js";
import type { NoQuorumPolicy } from "../config/safety-schema.js";
import type { NodeConfig, VigilConfig } from "../config/schema.js";
import { ConnectivityMonitor } from "../connectivity/monitor.js";
import {
  type CoordinationRouteDeps,
  coordinationRoutes,
  type ResourcesReply,
  resourcesView,
} from "../control/coordination-routes.js";
import { fenceRoutes } from "../control/fence-routes.js";
import { checkNodeName } from "../control/known-names.js";
import type { Route } from "../control/route.js";
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
} from "../coordination/cluster-message.js";
import { type CoordinationStatus, Coordinator } from "../coordination/coordinator.js";
import { TwoNodeSurvivor } from "../fencing/two-node-survivor.js";
import type { Link } from "../links/link.js";
import type { Logger } from "../log/logger.js";
import type { Membership } from "../membership/membership.js";
import type { MembershipEvent } from "../membership/types.js";
import { describeProblems } from "../resource-check/check-document.js";
import type { ResourceModel } from "../resource-model/types.js";
import { AgentCatalog } from "../resources/agents/catalog.js";
import { checkResourceDocumentWithAgents } from "../resources/check-agents.js";
import { Executor } from "../resources/executor/executor.js";
import type { OperationRecord } from "../resources/executor/operation.js";
import { ChildProcessRunner } from "../resources/executor/process-runner.js";
import { type Command, encodeCommand } from "../state/commands.js";
import type { ClusterState, Incident } from "../state/types.js";
import { committedModel, policyInputOf } from "../takeover/cluster-view.js";
import { LeaderLoop } from "../takeover/leader-loop.js";
import { LocalResources } from "../takeover/local-resources.js";
import type { Clock } from "../time/clock.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { ClusterTransport, type ClusterTransportCounters } from "../transport/cluster-transport.js";
import { guardHangMs, PAST_LEASE_GRACE_MS } from "../watchdog/guard-protocol.js";
import type { OutboundSequencer } from "../wire/outbound.js";
import { AgentFencing } from "./agent-fencing.js";
import { NodeGuardLink } from "./guard-link.js";

export interface AgentCoordinationOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  stateDir: string;
  links: readonly Link[];
  outbound: OutboundSequencer;
  membership: Membership;
  clock: Clock;
  logger: Logger;
  /** This agent run's incarnation: reports from other runs are refused. */
  incarnation: number;
  /** Something this agent cannot run without is gone (the lease guard): stop the agent. */
  onFatal(reason: string): void;
  /** Attachment bytes one heartbeat has room for. */
  attachmentRoomBytes: number;
  /** An answer is held to ride on heartbeats (ClusterTransportOptions.onHeld). */
  onHeld(): void;
  /** Resource operations and fences as they end (the API's metrics, when it is on). */
  onOperation?(record: OperationRecord): void;
  onFenceResult?(node: string, ok: boolean): void;
}

/**
 * The agent's side of coordination: coordination messages in and out over the heartbeat links,
 * the Raft core and replicated state (Coordinator), wired to what acts on that state (local
 * resources, the leader's placement, fencing) and to the control routes (src/control/) that read
 * and change it. Kept out of Agent so the heartbeat path reads on its own.
 */
export class AgentCoordination {
  private readonly malformedLog = new RateLimiter(10_000);
  private readonly catalog = new AgentCatalog({ runner: new ChildProcessRunner() });
  private modelCache: { version: number; model: ResourceModel } | null = null;
  private readonly fencing: AgentFencing;
  private connectivity: ConnectivityMonitor | null = null;
  private guard: NodeGuardLink | null = null;
  private readonly twoNode: TwoNodeSurvivor | null = null;
  /** The last incident already logged, by signature (a snapshot brings new objects). */
  private lastIncidentLogged: string | null = null;
  readonly resources: LocalResources;
  readonly leaderLoop: LeaderLoop;

  private constructor(
    private readonly options: AgentCoordinationOptions,
    private readonly transport: ClusterTransport,
    readonly coordinator: Coordinator,
  ) {
    const { localNode, clock, logger } = options;
    const submit = (command: Command) =>
      coordinator.submit({ kind: "command", payload: encodeCommand(command) });
    this.resources = new LocalResources({
      node: localNode.name,
      incarnation: options.incarnation,
      executor: new Executor({
        clock,
        nodeName: localNode.name,
        onOperation: options.onOperation,
      }),
      clock,
      logger: logger.child({ part: "resources" }),
      state: () => coordinator.state(),
      model: () => this.model(coordinator.state()),
      holdsLease: () => coordinator.holdsLease(),
      leaseRemainingMs: () => coordinator.leaseRemainingMs(),
      // Small: a follower's lease must outlast an election after the leader died (renewed by the
      // new leader) without its resources being stopped. Fast stops (a VIP) still finish within
      // the lease; the leader waits the drift factor longer again (~90 ms by default); stops too
      // slow for that are what the lease guard fences.
      stopMarginMs: Math.min(50, Math.round(options.config.coordination.follower_lease_ms / 10)),
      noQuorumPolicy: options.config.no_quorum_policy,
      onHold: (resource) => this.guard?.hold(resource),
      onSuicide: () => process.exit(70),
      submit,
    });
    this.fencing = new AgentFencing({
      config: options.config,
      localNode,
      clock,
      logger: logger.child({ part: "fencing" }),
      submit,
      onFenced: (node) => this.twoNode?.onPeerFenced(node),
      onFenceResult: options.onFenceResult,
    });
    // Operators may fence by hand whenever devices exist; lost nodes only with fencing enabled.
    const fencer = fencingEnabled(options.config) ? this.fencing.fencer : undefined;
    const peer = options.config.nodes.find((node) => node.id !== localNode.id);
    if (options.config.twoNode && fencer !== undefined && peer !== undefined) {
      this.twoNode = new TwoNodeSurvivor({
        peer: { id: peer.id, name: peer.name },
        logger: logger.child({ part: "two-node" }),
        fencer,
        isPeerUp: () => this.isUp(peer.name),
        caughtUp: () => coordinator.status().twoNode?.caughtUp === true,
        standIn: () => coordinator.standInFor(peer.id),
      });
    }
    this.leaderLoop = new LeaderLoop({
      nodeName: localNode.name,
      clock,
      logger: logger.child({ part: "placement" }),
      isLeader: () => coordinator.isLeader(),
      state: () => coordinator.state(),
      policyInput: (state) => this.policyInput(state),
      leaseSurelyExpired: (name) => {
        const node = options.config.nodes.find((n) => n.name === name);
        return node !== undefined && coordinator.leaseSurelyExpired(node.id);
      },
      isUp: (name) => this.takesPart(name),
      submit,
      ...(fencer !== undefined ? { fencer } : {}),
    });
    if (options.config.connectivity !== undefined) {
      this.connectivity = new ConnectivityMonitor({
        config: options.config.connectivity,
        clock,
        logger: logger.child({ part: "connectivity" }),
        publish: (attribute, value) => this.resources.setAttribute(attribute, value),
      });
      this.connectivity.start();
    }
    if (options.config.watchdog.lease_guard) {
      this.guard = new NodeGuardLink({
        config: options.config.watchdog,
        logger: logger.child({ part: "guard" }),
        nodeName: localNode.name,
        hangMs: guardHangMs(options.config.coordination.follower_lease_ms),
        running: () => this.resources.mayRunAnything(),
        held: () => this.resources.heldResources(),
        busy: (key) => this.resources.isBusy(key),
        // Under freeze and ignore a node keeps its resources without a lease, by design (the
        // others fence it before they take over): its guard then acts only when the agent dies
        // or hangs, never because a lease ended.
        leaseRemainingMs: leaseBindsResources(options.config.no_quorum_policy)
          ? () => coordinator.leaseRemainingMs()
          : () => null,
        onGuardLost: (reason) => options.onFatal(reason),
      });
      this.guard.start();
    }
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

  /** Membership: `name` is this node, or a peer heard now. */
  private isUp(name: string): boolean {
    if (name === this.options.localNode.name) return true;
    const node = this.options.config.nodes.find((n) => n.name === name);
    if (node === undefined) return false;
    const peer = this.options.membership
      .nodes(this.options.clock.nowMs())
      .find((candidate) => candidate.id === node.id);
    return peer?.state === "up";
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
  private model(state: ClusterState): ResourceModel {
    if (this.modelCache?.version !== state.config.version) {
      const { model, problems } = committedModel(state, this.options.config.nodes);
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

  private policyInput(state: ClusterState) {
    const nowMs = this.options.clock.nowMs();
    const peers = new Map(this.options.membership.nodes(nowMs).map((peer) => [peer.id, peer]));
    return policyInputOf({
      state,
      nodes: this.options.config.nodes,
      model: this.model(state),
      liveIncarnation: (node) => {
        if (node.id === this.options.localNode.id) return this.options.incarnation;
        const peer = peers.get(node.id);
        if (peer?.state !== "up" || this.coordinator.leaseSurelyExpired(node.id)) return null;
        return peer.incarnation;
      },
      nowMs,
    });
  }

  static async start(options: AgentCoordinationOptions): Promise<AgentCoordination> {
    const transport = new ClusterTransport({
      localNodeId: options.localNode.id,
      links: options.links,
      outbound: options.outbound,
      liveLinksTo: (peerId) => options.membership.liveLinks(peerId),
      nowMs: () => options.clock.nowMs(),
      attachmentRoomBytes: options.attachmentRoomBytes,
      onHeld: () => options.onHeld(),
    });
    const coordinator = await Coordinator.start({
      localNode: options.localNode,
      nodes: options.config.nodes,
      timing: options.config.timing,
      coordination: options.config.coordination,
      stateDir: options.stateDir,
      clock: options.clock,
      logger: options.logger.child({ part: "coordination" }),
      // Only Raft's own (one-fragment) messages go on every link; a forward, which may span many
      // fragments, goes on one and is resent until answered (the leader takes each id once).
      // A follower's answers may ride on heartbeats the agent sends at once for them.
      send: (to: number, message: ClusterMessage) =>
        transport.send(to, encodeClusterMessage(message), {
          everyLink: message.kind === "raft",
          mayRide: message.kind === "raft" && message.message.type === "append_response",
        }),
      onInvariantBroken: (error) => options.onFatal(`invariant broken: ${error.message}`),
      twoNodeFencing: options.config.twoNode,
      // A lost node's guard may still be stopping its resources this long past its lease.
      releaseGraceMs: options.config.watchdog.lease_guard ? PAST_LEASE_GRACE_MS : 0,
      pacedHeartbeats: true,
    });
    coordinator.events.subscribe((event) =>
      options.logger.info({ event: event.type, ...event }, `coordination: ${event.type}`),
    );
    return new AgentCoordination(options, transport, coordinator);
  }

  /**
   * The agent's heartbeats leave next: held answers and Raft's appends due about now, as Cluster
   * frame payloads to attach to them, so idle coordination costs no datagrams of its own.
   */
  heartbeatAttachments(): Uint8Array[] {
    return this.transport.collect(() => this.coordinator.heartbeat());
  }

  /** No heartbeat leaves now: held answers go out on their own. */
  releaseHeld(): void {
    this.transport.releaseHeld();
  }

  /** A MessageType.Cluster frame's payload from an authenticated peer (alone or attached). */
  onClusterFrame(senderId: number, incarnation: number, payload: Uint8Array): void {
    const result = this.transport.receive(senderId, incarnation, payload);
    if (result.kind !== "complete") {
      if (result.kind === "malformed") this.warnMalformed(senderId, "bad fragment");
      return;
    }
    const decoded = decodeClusterMessage(result.bytes);
    if (!decoded.ok) {
      this.warnMalformed(senderId, decoded.error);
      return;
    }
    if (this.twoNode !== null && !this.twoNode.accepts(incarnation)) return;
    this.coordinator.receive(senderId, decoded.message);
  }

  noticePeerUp(nodeId: number): void {
    this.coordinator.noticePeerUp(nodeId);
  }

  /** Membership's events (node up, dead, left): fencing and two-node mode act on them. */
  onMembershipEvent(event: MembershipEvent): void {
    if (event.type === "node_up") this.fencing.fencer.noticeUp(event.name);
    this.twoNode?.onMembershipEvent(event);
    if (event.type === "node_up" || event.type === "node_dead" || event.type === "node_left") {
      this.kick();
    }
  }

  status(): CoordinationStatus {
    return this.coordinator.status();
  }

  transportCounters(): ClusterTransportCounters {
    return this.transport.counters();
  }

  /** What the coordination routes read and change (src/control/coordination-routes.ts). */
  private routeDeps(): CoordinationRouteDeps {
    const { config } = this.options;
    return {
      nodes: config.nodes,
      nowMs: () => this.options.clock.nowMs(),
      state: () => this.coordinator.state(),
      submit: (proposal) => this.coordinator.submit(proposal),
      policyInput: (state) => this.policyInput(state),
      resourceIds: () => {
        const model = this.model(this.coordinator.state());
        return [
          ...Object.keys(model.primitives),
          ...Object.keys(model.groups),
          ...Object.keys(model.clones),
        ];
      },
      checkDocument: (document) =>
        checkResourceDocumentWithAgents(
          document,
          config.nodes.map((node) => node.name),
          this.catalog,
        ),
      leaderStep: () => this.leaderLoop.last(),
      localResources: this.resources,
      connectivity: () => this.connectivity?.current() ?? null,
      fenceDevices: () => this.fencing.devices(),
      fenceDeviceEvents: () => [...this.fencing.deviceEvents.recent()],
    };
  }

  /** The resources as this node sees them (`GET /v1/resources`, and `resources` of its status). */
  resourcesView(): ResourcesReply {
    return resourcesView(this.routeDeps());
  }

  routes(): Record<string, Route> {
    const { config, localNode } = this.options;
    return {
      ...coordinationRoutes(this.routeDeps()),
      ...fenceRoutes({
        localNodeName: localNode.name,
        checkNodeName: (name) => checkNodeName(config.nodes, name),
        isUp: (name) => this.isUp(name),
        fence: (node, by) => this.fencing.fence(node, by),
        confirmDown: (node, by) => this.fencing.confirmDown(node, by),
        checkDevices: () => this.fencing.checkDevices(),
      }),
    };
  }

  /**
   * Hands this node's resources over to the others (or stops them here): the first step of a
   * graceful stop, while heartbeats and coordination still run.
   */
  handOverResources(): Promise<void> {
    return this.resources.shutdown();
  }

  /**
   * The last step of a graceful stop, on the leader: hand leadership over, so what the others
   * still have to commit (the reports of the resources they just started) need not wait out an
   * election timeout. Bounded; on failure the others simply elect after the goodbye.
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
    this.fencing.stop();
    this.twoNode?.stop();
    this.connectivity?.stop();
    this.resources.detach();
    this.guard?.close();
    await this.coordinator.stop();
  }

  private warnMalformed(senderId: number, detail: string): void {
    const suppressed = this.malformedLog.allow(`${senderId}`, this.options.clock.nowMs());
    if (suppressed !== null)
      this.options.logger.warn(
        { from: senderId, detail, suppressed },
        "malformed coordination message",
      );
  }
}

function signatureOf(incident: Incident | undefined): string | null {
  if (incident === undefined) return null;
  return `${incident.atMs} ${incident.kind} ${incident.resource} ${incident.nodes.join(",")}`;
}

/** Whether a node must have stopped its resources by the time its lease ends. */
function leaseBindsResources(policy: NoQuorumPolicy): boolean {
  return policy === "stop" || policy === "suicide";
}
