import { type CheckStatus, HealthChecks } from "../checks/health-checks.js";
import { realProbe } from "../checks/probes.js";
import { fencingEnabled, leaseBindsResources, resourceNodeNames } from "../config/safety-modes.js";
import type { NodeConfig, VigilConfig } from "../config/schema.js";
import { ConnectivityMonitor } from "../connectivity/monitor.js";
import { attributeRoutes } from "../control/attribute-routes.js";
import { checkRoutes } from "../control/check-routes.js";
import {
  type CoordinationRouteDeps,
  coordinationRoutes,
  type ResourcesReply,
  resourcesView,
} from "../control/coordination-routes.js";
import { fenceRoutes } from "../control/fence-routes.js";
import { checkNodeName } from "../control/known-names.js";
import { quorumRoutes } from "../control/quorum-routes.js";
import type { Route } from "../control/route.js";
import { sessionRoutes } from "../control/session-routes.js";
import { whereRoutes } from "../control/where-routes.js";
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
} from "../coordination/cluster-message.js";
import type { CoordinationStatus } from "../coordination/coordinator.js";
import { createSystemTimers, type Timers } from "../coordination/timers.js";
import { fenceResultOf } from "../fencing/fence-report.js";
import { FenceRunner } from "../fencing/fence-runner.js";
import type { Link } from "../links/link.js";
import type { Logger } from "../log/logger.js";
import type { Membership } from "../membership/membership.js";
import type { MembershipEvent } from "../membership/types.js";
import { realHookDelivery } from "../notify/hook-runner.js";
import { type HookStatus, Notifier } from "../notify/notifier.js";
import { AgentCatalog } from "../resources/agents/catalog.js";
import { createAgent } from "../resources/agents/create-agent.js";
import { CheckVerdicts } from "../resources/agents/director/check-verdicts.js";
import { DirectorAgent } from "../resources/agents/director/director-agent.js";
import { removesVip } from "../resources/agents/vip/address-events.js";
import { AddressWatch } from "../resources/agents/vip/address-watch.js";
import { checkResourceDocumentWithAgents } from "../resources/check-agents.js";
import { Executor } from "../resources/executor/executor.js";
import type { OperationRecord } from "../resources/executor/operation.js";
import { ChildProcessRunner } from "../resources/executor/process-runner.js";
import type { ClusterLook } from "../sentinel/sentinel-view.js";
import { SessionHub } from "../sessions/session-hub.js";
import { SessionKeeper } from "../sessions/session-keeper.js";
import { keysNamedBy } from "../state/resource-keys.js";
import type { ClusterState } from "../state/types.js";
import { linkPeersAttribute, peersHeardPerLink } from "../takeover/client-links.js";
import type { LeaderLoop } from "../takeover/leader-loop.js";
import type { LocalResources } from "../takeover/local-resources.js";
import { NodeCoordination } from "../takeover/node-coordination.js";
import type { Clock } from "../time/clock.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { MAX_TIMER_DELAY_MS } from "../time/timer-delay.js";
import { ClusterTransport, type ClusterTransportCounters } from "../transport/cluster-transport.js";
import { guardHangMs, type HeldResource } from "../watchdog/guard-protocol.js";
import { recordGuard, waitForPreviousGuard } from "../watchdog/previous-guard.js";
import type { OutboundSequencer } from "../wire/outbound.js";
import { AgentFencing } from "./agent-fencing.js";
import { NodeGuardLink } from "./guard-link.js";

export interface AgentCoordinationOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  stateDir: string;
  /** The control socket, which Pacemaker's commands run by agents ask (src/pacemaker/). */
  socketPath?: string;
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
 * the node's coordination (NodeCoordination: Raft, replicated state, local resources, placement,
 * fencing decisions) with the real executor and fence devices, the node guard, connectivity
 * pings, fence device monitors, and the control routes (src/control/) that read and change it.
 * Kept out of Agent so the heartbeat path reads on its own.
 */
export class AgentCoordination {
  private readonly malformedLog = new RateLimiter(10_000);
  private readonly catalog = new AgentCatalog({ runner: new ChildProcessRunner() });
  private readonly fencing: AgentFencing;
  private connectivity: ConnectivityMonitor | null = null;
  private guard: NodeGuardLink | null = null;
  private readonly notifier: Notifier;
  private readonly checks: HealthChecks;
  private readonly addressWatch: AddressWatch;
  private readonly sessionKeeper: SessionKeeper;
  /** Applications' session connections (src/sessions/), handed over by the HTTP servers. */
  readonly sessions: SessionHub;
  /** Link → the count of peers heard there last published (publishPeersHeard). */
  private readonly peersHeard = new Map<string, number>();
  readonly resources: LocalResources;
  readonly leaderLoop: LeaderLoop;

  private constructor(
    private readonly options: AgentCoordinationOptions,
    private readonly transport: ClusterTransport,
    private readonly node: NodeCoordination,
    fenceRunner: FenceRunner,
    verdicts: CheckVerdicts,
  ) {
    const { localNode, clock, logger } = options;
    this.resources = node.resources;
    this.leaderLoop = node.leaderLoop;
    this.fencing = new AgentFencing({
      config: options.config,
      localNode,
      clock,
      logger: logger.child({ part: "fencing" }),
      runner: fenceRunner,
      fencer: node.fencer,
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
    this.notifier = this.startNotifier();
    this.sessionKeeper = this.createSessionKeeper();
    this.sessions = new SessionHub({
      keeper: this.sessionKeeper,
      clock,
      timers: timersLoggingTo(logger),
      state: () => node.coordinator.state(),
    });
    node.coordinator.onStateChange(() => {
      this.sessionKeeper.stateChanged();
      this.sessions.stateChanged();
    });
    this.checks = this.startChecks(verdicts);
    this.addressWatch = this.watchVipAddresses();
    this.sessionKeeper.start();
    if (options.config.watchdog.lease_guard) {
      const coordinator = node.coordinator;
      this.guard = new NodeGuardLink({
        config: options.config.watchdog,
        logger: logger.child({ part: "guard" }),
        nodeName: localNode.name,
        hangMs: guardHangMs(options.config.coordination.follower_lease_ms),
        running: () => this.resources.mayRunAnything(),
        held: () => this.resources.heldResources(),
        busy: (key) => this.resources.isBusy(key),
        leaseRemainingMs: leaseBindsResources(options.config.no_quorum_policy)
          ? () => coordinator.leaseRemainingMs()
          : () => null,
        onGuardLost: (reason) => options.onFatal(reason),
      });
      this.guard.start();
      const pid = this.guard.pid;
      if (pid !== undefined)
        recordGuard(options.stateDir, pid).catch((error: unknown) =>
          logger.warn({ err: error }, "node guard not recorded for the next run"),
        );
    }
  }

  static async start(options: AgentCoordinationOptions): Promise<AgentCoordination> {
    await waitForPreviousGuard(options.stateDir, options.logger.child({ part: "guard" }));
    const transport = new ClusterTransport({
      localNodeId: options.localNode.id,
      links: options.links,
      outbound: options.outbound,
      liveLinksTo: (peerId) => options.membership.liveLinks(peerId),
      nowMs: () => options.clock.nowMs(),
      attachmentRoomBytes: options.attachmentRoomBytes,
      onHeld: () => options.onHeld(),
    });
    const fenceRunner = new FenceRunner({
      fencing: options.config.fencing,
      clock: options.clock,
    });
    const verdicts = new CheckVerdicts();
    const director = new DirectorAgent({ verdicts });
    // Assigned right after start: the guard is told of holds only once it exists.
    let holds: ((resource: HeldResource) => void) | null = null;
    const node = await NodeCoordination.start({
      config: options.config,
      localNode: options.localNode,
      incarnation: options.incarnation,
      stateDir: options.stateDir,
      clock: options.clock,
      timers: timersLoggingTo(options.logger),
      logger: options.logger,
      // Only Raft's own (one-fragment) messages go on every link; a forward, which may span many
      // fragments, goes on one and is resent until answered (the leader takes each id once).
      // A follower's answers may ride on heartbeats the agent sends at once for them.
      send: (to: number, message: ClusterMessage) =>
        transport.send(to, encodeClusterMessage(message), {
          everyLink: message.kind === "raft",
          mayRide: message.kind === "raft" && message.message.type === "append_response",
        }),
      peers: (nowMs) => options.membership.nodes(nowMs),
      runner: new Executor({
        clock: options.clock,
        nodeName: options.localNode.name,
        controlSocket: options.socketPath,
        onOperation: options.onOperation,
        // One director for every virtual service here, told of the real servers' verdicts.
        createAgent: (ref) => (ref.kind === "director" ? director : createAgent(ref)),
      }),
      fence: async (target) => {
        const result = fenceResultOf(await fenceRunner.fence(target));
        options.onFenceResult?.(target, result.ok);
        return result;
      },
      onInvariantBroken: (error) => options.onFatal(`invariant broken: ${error.message}`),
      onSuicide: () => process.exit(70),
      onHold: (resource) => holds?.(resource),
    });
    const coordination = new AgentCoordination(options, transport, node, fenceRunner, verdicts);
    holds = (resource) => coordination.guard?.hold(resource);
    return coordination;
  }

  /**
   * The agent's heartbeats leave next: held answers and Raft's appends due about now, as Cluster
   * frame payloads to attach to them, so idle coordination costs no datagrams of its own.
   */
  heartbeatAttachments(): Uint8Array[] {
    return this.transport.collect(() => this.node.heartbeat());
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
    this.node.receive(senderId, incarnation, decoded.message);
  }

  noticePeerUp(nodeId: number): void {
    this.node.noticePeerUp(nodeId);
  }

  /** Membership's events (node up, dead, left): fencing and two-node mode act on them. */
  onMembershipEvent(event: MembershipEvent): void {
    this.node.onMembershipEvent(event);
    this.notifier.membershipEvent(event);
    this.publishPeersHeard();
  }

  /**
   * How many peers this node hears on each of its links, as transient node attributes, so the
   * leader moves a VIP off a node cut from its client-facing link (client-links.ts). A link
   * never heard on says nothing: at start every count is 0 for a moment, which is no cut.
   */
  private publishPeersHeard(): void {
    const { localNode, membership, clock } = this.options;
    const heard = peersHeardPerLink(membership.nodes(clock.nowMs()), Object.keys(localNode.links));
    for (const [link, count] of Object.entries(heard)) {
      const last = this.peersHeard.get(link);
      if (last === count || (last === undefined && count === 0)) continue;
      this.peersHeard.set(link, count);
      this.resources.setAttribute(linkPeersAttribute(link), String(count));
    }
  }

  /** Each hook's queue (status, metrics). */
  hooks(): HookStatus[] {
    return this.notifier.status();
  }

  /** The health checks running on this node (status, metrics). */
  checkStatus(): CheckStatus[] {
    return this.checks.status();
  }

  /** The configuration's health checks that belong here, run as the state and what runs change. */
  private startChecks(verdicts: CheckVerdicts): HealthChecks {
    const { localNode, clock, logger } = this.options;
    const coordinator = this.node.coordinator;
    const checks = new HealthChecks({
      nodeName: localNode.name,
      clock,
      timers: timersLoggingTo(logger),
      logger: logger.child({ part: "checks" }),
      probe: realProbe(new ChildProcessRunner()),
      state: () => coordinator.state(),
      localKeysOf: (resource, state) => {
        const keys = new Set(this.keysOf(resource, state));
        return this.resources
          .running()
          .map((copy) => copy.resource)
          .filter((key) => keys.has(key));
      },
      failed: (key, check, detail) => this.resources.checkFailed(key, check, detail),
      setAttribute: (attribute, value) => this.resources.setAttribute(attribute, value),
      transition: (check, verdict, detail) => {
        this.notifier.checkEvent(check.name, check.resource, verdict, detail);
        this.sessionKeeper.checkTransition(check.name, verdict);
      },
      verdictChanged: (check, verdict) => verdicts.set(check, verdict),
    });
    coordinator.onStateChange(() => checks.update());
    checks.update();
    return checks;
  }

  /**
   * A VIP removed from its interface by anything but Vigil (an operator, a DHCP client, an
   * `ip addr flush`) is monitored at once, so it is put back (or moved) within its monitor's
   * time rather than its interval. The watch starts with the first VIP this node holds.
   */
  private watchVipAddresses(): AddressWatch {
    const { logger } = this.options;
    const watch = new AddressWatch({
      logger: logger.child({ part: "address-watch" }),
      timers: timersLoggingTo(logger),
      onRemoved: (removed) => {
        for (const held of this.resources.heldResources()) {
          if (held.agent.kind !== "vip" || !removesVip(removed, held.params)) continue;
          this.resources.monitorNow(
            held.key,
            `address ${removed.address} was removed from ${removed.device}`,
          );
        }
      },
    });
    let watching = false;
    const startWithFirstVip = () => {
      if (watching || !this.resources.heldResources().some((held) => held.agent.kind === "vip"))
        return;
      watching = true;
      watch.start();
    };
    this.node.coordinator.onStateChange(startWithFirstVip);
    return watch;
  }

  /**
   * Sessions opened through this agent: their TTL clocks, their checks, and (on the leader)
   * the sessions of nodes membership holds dead.
   */
  private createSessionKeeper(): SessionKeeper {
    const { localNode, clock, logger } = this.options;
    const coordinator = this.node.coordinator;
    return new SessionKeeper({
      nodeName: localNode.name,
      clock,
      timers: timersLoggingTo(logger),
      logger: logger.child({ part: "sessions" }),
      state: () => coordinator.state(),
      submit: (command) => this.node.submit(command),
      isLeader: () => coordinator.isLeader(),
      livenessOf: (name) => this.livenessOf(name),
      checkVerdict: (check) =>
        this.checks.status().find((status) => status.check === check)?.verdict ?? null,
      driftRatio: this.options.config.coordination.clock_drift_ratio,
    });
  }

  /** Membership's word on a node: up, dead (or left), or null while not yet known. */
  private livenessOf(name: string): "up" | "dead" | null {
    const { config, membership, clock } = this.options;
    const node = config.nodes.find((n) => n.name === name);
    const peer = membership.nodes(clock.nowMs()).find((p) => p.id === node?.id);
    if (peer === undefined || peer.state === "unknown") return null;
    return peer.state === "up" ? "up" : "dead";
  }

  /** Sessions and locks in the state, and the sessions whose TTL this agent keeps. */
  sessionCounts(): { sessions: number; locks: number; local: number } {
    return this.sessionKeeper.counts();
  }

  /** Hooks run as the state records events, on every node for its own, on the leader for all. */
  private startNotifier(): Notifier {
    const { config, localNode, clock, logger } = this.options;
    const coordinator = this.node.coordinator;
    const notifier = new Notifier({
      nodeName: localNode.name,
      incarnation: this.options.incarnation,
      clock,
      timers: timersLoggingTo(logger),
      logger: logger.child({ part: "hooks" }),
      deliver: realHookDelivery(new ChildProcessRunner()),
      isLeader: () => coordinator.isLeader(),
      state: () => coordinator.state(),
      submit: (command) => this.node.submit(command),
      livenessOf: (name) => this.livenessOf(name),
      nodeNames: config.nodes.map((node) => node.name),
    });
    coordinator.onStateChange(() => notifier.stateChanged());
    coordinator.events.subscribe((event) => {
      if (event.type === "quorum_lost" || event.type === "quorum_regained")
        notifier.quorumEvent(event.type);
      else if (
        event.type === "became_leader" ||
        event.type === "stepped_down" ||
        event.type === "leader_changed"
      )
        notifier.stateChanged();
    });
    notifier.stateChanged();
    return notifier;
  }

  status(): CoordinationStatus {
    return this.node.status();
  }

  /** The replicated state as this node has applied it. */
  state(): ClusterState {
    return this.node.coordinator.state();
  }

  transportCounters(): ClusterTransportCounters {
    return this.transport.counters();
  }

  /** What the coordination routes read and change (src/control/coordination-routes.ts). */
  private routeDeps(): CoordinationRouteDeps {
    const { config } = this.options;
    const { coordinator } = this.node;
    return {
      nodes: config.nodes,
      nowMs: () => this.options.clock.nowMs(),
      state: () => coordinator.state(),
      submit: (proposal) => coordinator.submit(proposal),
      policyInput: (state) => this.node.policyInput(state),
      resourceIds: () => {
        const model = this.node.model(coordinator.state());
        return [
          ...Object.keys(model.primitives),
          ...Object.keys(model.groups),
          ...Object.keys(model.clones),
        ];
      },
      checkDocument: (document) =>
        checkResourceDocumentWithAgents(document, resourceNodeNames(config.nodes), this.catalog, {
          fencing: fencingEnabled(config),
        }),
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

  /**
   * The placement keys a resource name stands for: a clone's copies (also when asked by the name
   * of what it wraps), a group's members, a primitive itself.
   */
  private keysOf(resource: string, state: ClusterState): string[] {
    // What cleanup (the state machine) takes the name for, so both mean the same by it.
    return keysNamedBy(resource, Object.keys(state.resources), state.config.document);
  }

  /** Whether this node may run resources now: it holds its lease, or is told to ignore quorum. */
  private mayRun(): boolean {
    const quorum = this.resources.quorum();
    return quorum.leaseHeld || !leaseBindsResources(quorum.noQuorumPolicy);
  }

  /** What the Sentinel protocol answers from (src/sentinel/): the state, membership, the lease. */
  clusterLook(): ClusterLook {
    return {
      state: this.node.coordinator.state(),
      keysOf: (resource, state) => this.keysOf(resource, state),
      isUp: (name) => this.node.isUp(name),
      leaseHeld: this.mayRun(),
    };
  }

  /** Calls back after every state change this node applies. */
  onStateChange(callback: () => void): void {
    this.node.coordinator.onStateChange(callback);
  }

  routes(): Record<string, Route> {
    const { config, localNode } = this.options;
    const coordinator = this.node.coordinator;
    return {
      ...coordinationRoutes(this.routeDeps()),
      ...quorumRoutes({
        nodes: config.nodes,
        stopWaitingForAll: () => coordinator.stopWaitingForAll(),
      }),
      ...attributeRoutes({
        localNode: localNode.name,
        nodes: config.nodes,
        nowMs: () => this.options.clock.nowMs(),
        state: () => coordinator.state(),
        submit: (command) => this.node.submit(command),
        setOwnAttribute: (key, value) => this.resources.commitAttribute(key, value),
        isUp: (name) => this.node.isUp(name),
        quorate: () => this.resources.quorum().leaseHeld,
        model: (state) => this.node.model(state),
      }),
      ...sessionRoutes({ state: () => coordinator.state() }),
      ...checkRoutes({
        report: (check, status, note) => this.checks.report(check, status, note),
      }),
      ...whereRoutes({
        nodeName: localNode.name,
        state: () => coordinator.state(),
        resourceIds: () => this.routeDeps().resourceIds(),
        keysOf: (resource, state) => this.keysOf(resource, state),
        running: () => this.resources.running(),
        mayRun: () => this.mayRun(),
        onStateChange: (callback) => coordinator.onStateChange(callback),
      }),
      ...fenceRoutes({
        localNodeName: localNode.name,
        checkNodeName: (name) => checkNodeName(config.nodes, name),
        isUp: (name) => this.node.isUp(name),
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
    return this.node.handOverResources();
  }

  /** The last step of a graceful stop, on the leader: NodeCoordination.handOverLeadership. */
  handOverLeadership(): Promise<void> {
    return this.node.handOverLeadership();
  }

  async stop(): Promise<void> {
    this.sessions.closeAll();
    this.sessionKeeper.stop();
    this.checks.stop();
    this.notifier.stop();
    this.fencing.stop();
    this.connectivity?.stop();
    this.addressWatch.stop();
    // The guard is told of the clean stop once the node has let go, before the log closes.
    const stopped = this.node.stop();
    this.guard?.close();
    await stopped;
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

/** Real timers that log, rather than pass on, a delay longer than a timer can hold. */
function timersLoggingTo(logger: Logger): Timers {
  return createSystemTimers((problem) =>
    logger.error(
      { maxMs: MAX_TIMER_DELAY_MS },
      `a timer was asked for ${problem}: it waits ${MAX_TIMER_DELAY_MS} ms instead (a bug: every configured duration is bounded where it is read)`,
    ),
  );
}
