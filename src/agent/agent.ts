import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { DashboardAssets } from "../api/dashboard-assets.js";
import { AgentMetrics } from "../api/metrics.js";
import { ApiServer } from "../api/server.js";
import { DEFAULT_FEED, StatusFeed } from "../api/status-feed.js";
import { type ApiToken, readTokensFile, tokensByRole } from "../api/tokens.js";
import { apiListenOf } from "../config/api-schema.js";
import type { NodeConfig, VigilConfig } from "../config/schema.js";
import { SeenEventLog } from "../control/cluster-events.js";
import { eventRoutes } from "../control/event-routes.js";
import type { Route } from "../control/route.js";
import { ControlServer } from "../control/server.js";
import type { AgentStatus, StatusReply } from "../control/status-reply.js";
import { EventBus } from "../events/bus.js";
import { readKeyFile } from "../keys/keyfile.js";
import { createLink } from "../links/create-link.js";
import type { Link, ReceivedFrame } from "../links/link.js";
import type { Logger } from "../log/logger.js";
import { Membership } from "../membership/membership.js";
import type { MembershipEvent, MembershipEventType } from "../membership/types.js";
import { SentinelListener } from "../sentinel/sentinel-listener.js";
import { SESSION_PATH, SESSION_UPGRADE_PROTOCOL } from "../sessions/protocol.js";
import { refuseUpgrade, SessionHub } from "../sessions/session-hub.js";
import { nextIncarnation } from "../storage/incarnation.js";
import { PeerIncarnations } from "../storage/peer-incarnations.js";
import { type Clock, systemClock } from "../time/clock.js";
import { RateLimiter } from "../time/rate-limiter.js";
import { checkSelfFenceAction } from "../watchdog/self-fence-action.js";
import { SystemdWatchdog, takeSystemdEnvironment } from "../watchdog/systemd-watchdog.js";
import { checkWatchdogDevice } from "../watchdog/watchdog-device.js";
import {
  attachmentRoom,
  encodeHeartbeatPayload,
  encodeLeavePayload,
  MAX_ECHOES,
} from "../wire/heartbeat.js";
import { InboundFilter } from "../wire/inbound.js";
import { Keyring } from "../wire/keyring.js";
import { MessageType } from "../wire/message.js";
import { OutboundSequencer } from "../wire/outbound.js";
import { AgentCoordination } from "./agent-coordination.js";
import { CallbackGuard } from "./callback-guard.js";
import { logMembershipEvent } from "./event-log.js";
import { systemdStatusText } from "./systemd-status.js";

export interface AgentOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  logger: Logger;
  socketPath: string;
  stateDir: string;
  clock?: Clock;
}

/** Leave is sent this many times: one lost datagram must not make peers wait out the deadtime. */
const LEAVE_COPIES = 2;
const RECENT_EVENTS = 50;
/** Membership events kept for GET /v1/events (`vigil events`): a flapping link's hours, not days. */
const SEEN_EVENTS = 500;

/**
 * The agent wires the pure cores to the edges: frames from the links go through the wire
 * filter into membership; membership's events go to the event bus; timers drive heartbeats
 * and the detector. Everything that decides lives in the cores; this class only moves data.
 */
export class Agent {
  readonly events = new EventBus<MembershipEvent>(RECENT_EVENTS, (error, event) =>
    this.logger.error({ err: error, event: event.type }, "event subscriber failed"),
  );
  private readonly links: Link[] = [];
  private readonly linkSeq = new Map<string, number>();
  private readonly membership: Membership;
  private readonly inbound: InboundFilter;
  private readonly outbound: OutboundSequencer;
  private readonly rejectLog = new RateLimiter(10_000);
  private readonly linkErrorLog = new RateLimiter(10_000);
  private readonly eventCounts = new Map<MembershipEventType, number>();
  /** Each membership event with the state version applied when it came (GET /v1/events). */
  private readonly seenEvents = new SeenEventLog(SEEN_EVENTS);
  private control: ControlServer | null = null;
  private api: ApiServer | null = null;
  /** The Redis Sentinel protocol for clients; only with the `sentinel` section. */
  private sentinel: SentinelListener | null = null;
  /** The dashboard's live status and heartbeat history (GET /v1/stream); only with the API on. */
  private feed: StatusFeed | null = null;
  /** GET /metrics; made only when the API is on (its process metrics sample the event loop). */
  private readonly metrics: AgentMetrics | null;
  private coordination: AgentCoordination | null = null;
  private systemd: SystemdWatchdog | null = null;
  private sendTimer: NodeJS.Timeout | null = null;
  private detectorTimer: NodeJS.Timeout | null = null;
  private detectorArmedAtMs = Number.POSITIVE_INFINITY;
  private nextSendAtMs = 0;
  private lastSentAtMs = Number.NEGATIVE_INFINITY;
  private rideScheduled = false;
  private readonly sendTimerCallback: () => void;
  private readonly detectorTimerCallback: () => void;
  /** Bytes a heartbeat has left for attachments with an echo for every peer. */
  private readonly attachmentRoom: number;
  private stopped = false;
  private stopping = false;
  /** Every timer and socket callback of the agent runs through it (callback-guard.ts). */
  readonly guard: CallbackGuard;

  private constructor(
    private readonly options: AgentOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
    keyring: Keyring,
    readonly incarnation: number,
    readonly startedAtMs: number,
    private readonly peerIncarnations: PeerIncarnations,
  ) {
    const { config, localNode } = options;
    this.guard = new CallbackGuard({
      logger,
      nowMs: () => clock.nowMs(),
      onInvariantBroken: (where) => this.fail(`invariant broken in ${where}`),
    });
    this.sendTimerCallback = this.guard.wrap("heartbeat send timer", () => this.sendHeartbeats());
    this.detectorTimerCallback = this.guard.wrap("detector timer", () => this.onDetectorTimer());
    this.metrics =
      config.api === undefined
        ? null
        : new AgentMetrics({
            status: () => this.statusReply(),
            state: () => this.coordination?.state() ?? null,
          });
    const knownIds = new Set(config.nodes.map((node) => node.id));
    this.attachmentRoom = attachmentRoom(Math.min(config.nodes.length - 1, MAX_ECHOES));
    const localLinks = new Set(Object.keys(localNode.links));
    this.membership = new Membership({
      localNodeId: localNode.id,
      nodes: config.nodes.map((node) => ({
        id: node.id,
        name: node.name,
        links: Object.keys(node.links).filter((link) => localLinks.has(link)),
      })),
      timing: config.timing,
      detector: config.detector,
      startedAtMs,
    });
    this.inbound = new InboundFilter({
      clusterId: config.clusterId,
      localNodeId: localNode.id,
      isKnownNode: (id) => knownIds.has(id),
      keyring,
      carriedOver: peerIncarnations.carriedOver,
      sentHeartbeat: (seq, sentAtUs) => this.outbound.sentHeartbeat(seq, sentAtUs),
    });
    this.outbound = new OutboundSequencer({
      clusterId: config.clusterId,
      senderId: localNode.id,
      incarnation,
      keyring,
      encrypt: config.keys.encrypt,
    });
  }

  static async start(options: AgentOptions): Promise<Agent> {
    const clock = options.clock ?? systemClock;
    const keyring = new Keyring(
      await readKeyFile(options.config.keys.file),
      options.config.keys.sign_key_id,
    );
    const incarnation = await nextIncarnation(options.stateDir, Date.now());
    const logger = options.logger.child({ incarnation });
    const peerIncarnations = await PeerIncarnations.load({
      stateDir: options.stateDir,
      isKnownNode: (id) => options.config.nodes.some((node) => node.id === id),
      report: (problem) => logger.error({ problem }, "peer incarnations"),
    });
    const agent = new Agent(
      options,
      clock,
      logger,
      keyring,
      incarnation,
      clock.nowMs(),
      peerIncarnations,
    );
    try {
      await agent.open();
    } catch (error) {
      await agent.stop("startup failed", { sayGoodbye: false });
      throw error;
    }
    return agent;
  }

  private async open(): Promise<void> {
    const { config, localNode } = this.options;
    this.systemd = new SystemdWatchdog({
      logger: this.logger,
      systemdEnv: takeSystemdEnvironment(),
      status: () => systemdStatusText(this.status()),
    });
    await checkWatchdogDevice(config.watchdog);
    await checkSelfFenceAction(config.watchdog);
    // Read before anything starts: a tokens file it cannot use stops the agent at once.
    const apiTokens =
      config.api === undefined ? null : await readTokensFile(config.api.tokens_file);
    this.events.subscribe((event) => {
      this.eventCounts.set(event.type, (this.eventCounts.get(event.type) ?? 0) + 1);
      this.seenEvents.record(event, this.coordination?.state().version ?? 0);
      logMembershipEvent(this.logger, event);
    });
    const peers = config.nodes.filter((node) => node.id !== localNode.id);
    for (const linkConfig of config.links) {
      if (localNode.links[linkConfig.name] === undefined) continue;
      const link = createLink(linkConfig, localNode, peers);
      await link.open(
        this.guard.wrap(`${link.name} frame`, (frame) => this.onFrame(link.name, frame)),
        this.guard.wrap(`${link.name} error`, (error) => {
          // An unreachable peer fails every send: one line per 10 s says it, not ten a second.
          const suppressed = this.linkErrorLog.allow(
            `${link.name}/${error.message}`,
            this.clock.nowMs(),
          );
          if (suppressed !== null)
            this.logger.warn({ link: link.name, err: error.message, suppressed }, "link error");
        }),
      );
      this.links.push(link);
      this.linkSeq.set(link.name, 0);
    }
    this.coordination = await AgentCoordination.start({
      config,
      localNode,
      stateDir: this.options.stateDir,
      socketPath: this.options.socketPath,
      links: this.links,
      outbound: this.outbound,
      membership: this.membership,
      clock: this.clock,
      logger: this.logger,
      incarnation: this.incarnation,
      onFatal: (reason) => this.fail(reason),
      attachmentRoomBytes: this.attachmentRoom,
      onHeld: () => {
        if (this.rideScheduled) return;
        this.rideScheduled = true;
        setImmediate(this.guard.wrap("early heartbeats", () => this.sendEarlyOrRelease()));
      },
      onOperation:
        this.metrics === null ? undefined : (record) => this.metrics?.observeOperation(record),
      onFenceResult:
        this.metrics === null ? undefined : (node, ok) => this.metrics?.observeFence(node, ok),
    });
    // Peers heard while coordination was starting count too (wait_for_all); from here on, the
    // event stream tells it. No await in between, so no node_up can slip through.
    for (const peer of this.membership.nodes(this.clock.nowMs()))
      if (peer.state === "up") this.coordination.noticePeerUp(peer.id);
    this.events.subscribe((event) => {
      if (event.type === "node_up") this.coordination?.noticePeerUp(event.nodeId);
      this.coordination?.onMembershipEvent(event);
    });
    const routes: Record<string, Route> = {
      "GET /v1/status": () => this.statusReply(),
      ...this.coordination.routes(),
      ...eventRoutes({
        node: { name: this.options.localNode.name, incarnation: this.incarnation },
        state: () => this.coordination?.state() ?? null,
        seen: () => this.seenEvents.recent(),
      }),
    };
    this.control = await ControlServer.listen(this.options.socketPath, routes, (r, socket, head) =>
      this.acceptSession(r, socket, head),
    );
    if (apiTokens !== null) await this.openApi(routes, apiTokens);
    const coordination = this.coordination;
    this.sentinel = await SentinelListener.start({
      config,
      localNode,
      logger: this.logger.child({ part: "sentinel" }),
      look: () => coordination.clusterLook(),
      onStateChange: (callback) => coordination.onStateChange(callback),
      wrap: (where, callback) => this.guard.wrap(where, callback),
    });
    this.nextSendAtMs = this.clock.nowMs();
    this.sendTimerCallback();
    this.armDetector();
    this.logger.info(
      {
        cluster: config.cluster.name,
        links: this.links.map((link) => `${link.name}/${link.kind}`),
        timing: config.timing,
        detector: config.detector.type,
        socket: this.options.socketPath,
      },
      "agent started",
    );
    this.systemd.ready();
  }

  /** An application's session connection (src/sessions/), on either listener. */
  private acceptSession(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const hub = this.coordination?.sessions;
    if (hub === undefined || !SessionHub.wants(request)) {
      refuseUpgrade(socket, {
        status: 404,
        error: `no upgrade here but GET ${SESSION_PATH} to ${SESSION_UPGRADE_PROTOCOL}`,
      });
      return;
    }
    hub.accept(socket, head);
  }

  /** The network API: the control socket's routes and GET /metrics, behind bearer tokens. */
  private async openApi(routes: Record<string, Route>, tokens: ApiToken[]): Promise<void> {
    const { config, localNode } = this.options;
    const listen = apiListenOf(config, localNode);
    if (config.api === undefined || listen === null || this.metrics === null) return;
    const metrics = this.metrics;
    const refusals = new RateLimiter(10_000);
    const feed = new StatusFeed(
      {
        status: () => this.statusReply(),
        state: () => this.coordination?.state() ?? null,
      },
      { ...DEFAULT_FEED, wrap: (name, callback) => this.guard.wrap(name, callback) },
    );
    // Without its files the API still serves every route: the dashboard is what is missing.
    const dashboard = await DashboardAssets.load().catch((error: Error) => {
      this.logger.warn({ err: error.message }, "the dashboard is not served");
      return null;
    });
    this.api = await ApiServer.start({
      listen,
      tls: config.api.tls,
      tokens,
      routes: { ...routes, "GET /metrics": () => metrics.scrape() },
      dashboard,
      feed,
      onRefused: (record) => {
        // One line per client, route and reason every 10 s: a client retrying a bad token
        // must not flood the log.
        const key = `${record.remote} ${record.method} ${record.path} ${record.status}`;
        const suppressed = refusals.allow(key, this.clock.nowMs());
        if (suppressed !== null) this.logger.warn({ ...record, suppressed }, "API request refused");
      },
      onOperate: (record) => this.logger.info(record, "API request"),
      upgrade: (request, socket, head) => this.acceptSession(request, socket, head),
    });
    this.feed = feed;
    feed.start();
    this.logger.info(
      { url: this.api.url(), tokens: tokensByRole(tokens), dashboard: dashboard !== null },
      config.api.tls === undefined
        ? "API listening without TLS, on loopback only (set api.tls to listen on a network)"
        : "API listening with TLS",
    );
  }

  /**
   * Re-reads the key file (SIGHUP), signing with `signKeyId` (the config's keys.sign_key_id, read
   * again by the caller) or the newest key: the way to roll a new key out without a restart.
   */
  async reloadKeys(signKeyId: number | undefined): Promise<void> {
    const keys = await readKeyFile(this.options.config.keys.file);
    const keyring = new Keyring(keys, signKeyId);
    this.inbound.setKeyring(keyring);
    this.outbound.setKeyring(keyring);
    this.logger.info(
      { keys: keys.map((key) => key.id), signKeyId: keyring.signKeyId },
      "keys reloaded",
    );
  }

  /**
   * Re-reads `api.tokens_file` (SIGHUP) and puts its tokens in force at once. A file it cannot
   * use (missing, readable by others, a bad line) throws, naming the file and line, before
   * anything changes: the tokens in force stay. Nothing to do with the API off.
   */
  async reloadApiTokens(): Promise<void> {
    const file = this.options.config.api?.tokens_file;
    if (this.api === null || file === undefined) return;
    const tokens = await readTokensFile(file);
    // The agent may have begun to stop while the file was read.
    if (this.stopping || this.stopped) return;
    const streamsEnded = this.api.replaceTokens(tokens);
    this.logger.info({ file, tokens: tokensByRole(tokens), streamsEnded }, "API tokens reloaded");
  }

  private onFrame(linkName: string, frame: ReceivedFrame): void {
    if (this.stopped) return;
    const result = this.inbound.accept(frame.bytes);
    const nowMs = this.clock.nowMs();
    if (!result.ok) {
      const suppressed = this.rejectLog.allow(`${result.reason}/${frame.from}`, nowMs);
      if (suppressed !== null && result.reason !== "from_self") {
        this.logger.warn(
          { link: linkName, from: frame.from, reason: result.reason, suppressed },
          "frame rejected",
        );
      }
      return;
    }
    const { header } = result.message;
    this.peerIncarnations.note(header.senderId, header.incarnation);
    if (header.type === MessageType.Heartbeat && result.heartbeat !== null) {
      this.publish(
        this.membership.onHeartbeat(nowMs, {
          nodeId: header.senderId,
          link: linkName,
          incarnation: header.incarnation,
          seq: header.seq,
          sentAtUs: header.sentAtUs,
          payload: result.heartbeat,
        }),
      );
      for (const attachment of result.heartbeat.attachments ?? [])
        this.coordination?.onClusterFrame(header.senderId, header.incarnation, attachment);
    } else if (header.type === MessageType.Cluster) {
      this.coordination?.onClusterFrame(
        header.senderId,
        header.incarnation,
        result.message.payload,
      );
    } else if (header.type === MessageType.Leave) {
      this.publish(
        this.membership.onLeave(nowMs, {
          nodeId: header.senderId,
          incarnation: header.incarnation,
        }),
      );
    }
    this.armDetector();
  }

  /**
   * A Raft answer is held for a ride (the leader's append came in on its heartbeat): the
   * heartbeats leave now with it, unless the last ones left less than half an interval ago.
   * Then the answer goes on its own and the next heartbeats move to just after the leader's next
   * append. Either way a follower's heartbeats fall in step with the leader's, each carrying the
   * answer to the append that just came in.
   */
  private sendEarlyOrRelease(): void {
    this.rideScheduled = false;
    if (this.stopped) return;
    const nowMs = this.clock.nowMs();
    const keepaliveMs = this.options.config.timing.keepalive_ms;
    if (nowMs - this.lastSentAtMs >= keepaliveMs / 2) {
      this.sendHeartbeats(true);
      return;
    }
    this.coordination?.releaseHeld();
    // The longest silence this makes is under 1.5 intervals plus the slack; only where that
    // cannot look late to a peer.
    const { warntime_ms: warntimeMs } = this.options.config.timing;
    if (keepaliveMs * 1.5 + this.stepSlackMs() < warntimeMs) this.scheduleInStep(nowMs);
  }

  private sendHeartbeats(early = false): void {
    if (this.stopped) return;
    try {
      this.sendHeartbeatsNow();
    } finally {
      // Armed whatever happened above: a beat that failed must not be the last one.
      this.scheduleNextHeartbeats(early);
    }
  }

  private sendHeartbeatsNow(): void {
    const nowMs = this.clock.nowMs();
    const keepaliveMs = this.options.config.timing.keepalive_ms;
    // Held answers and the leader's idle Raft appends ride on these heartbeats rather than in
    // datagrams of their own.
    const attachments = this.coordination?.heartbeatAttachments() ?? [];
    for (const link of this.links) {
      const linkSeq = (this.linkSeq.get(link.name) ?? 0) + 1;
      this.linkSeq.set(link.name, linkSeq);
      const payload = encodeHeartbeatPayload({
        linkSeq,
        keepaliveMs,
        echoes: this.membership.echoesFor(link.name, nowMs),
        attachments,
      });
      link.broadcast(this.outbound.next(MessageType.Heartbeat, payload, Math.round(nowMs * 1000)));
    }
    this.lastSentAtMs = nowMs;
    // The send timer also ticks the detector: that is how membership notices that this
    // process itself was stalled (it compares consecutive tick times).
    this.publish(this.membership.tick(nowMs));
    this.armDetector();
  }

  private scheduleNextHeartbeats(early: boolean): void {
    const nowMs = this.clock.nowMs();
    if (early) {
      this.scheduleInStep(nowMs);
      return;
    }
    // Keep a steady cadence without drift; after a stall, restart it from now instead of
    // firing a burst of catch-up heartbeats.
    const keepaliveMs = this.options.config.timing.keepalive_ms;
    this.nextSendAtMs += keepaliveMs;
    if (this.nextSendAtMs < nowMs) this.nextSendAtMs = nowMs + keepaliveMs;
    this.sendTimer = setTimeout(this.sendTimerCallback, this.nextSendAtMs - nowMs);
  }

  /**
   * In step with the leader, whose next append is due one interval after the one that just came
   * in: wait a little longer than that, so the next heartbeats leave with the answer to it rather
   * than just before it. If it does not come, they leave anyway, the slack later.
   */
  private scheduleInStep(nowMs: number): void {
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    this.nextSendAtMs = nowMs + this.options.config.timing.keepalive_ms + this.stepSlackMs();
    this.sendTimer = setTimeout(this.sendTimerCallback, this.nextSendAtMs - nowMs);
  }

  /** A quarter interval, and never so much that a heartbeat one interval plus it apart looks late. */
  private stepSlackMs(): number {
    const { keepalive_ms: keepaliveMs, warntime_ms: warntimeMs } = this.options.config.timing;
    return Math.max(0, Math.min(keepaliveMs / 4, (warntimeMs - keepaliveMs) / 2));
  }

  /**
   * One timer for the detector, set to the earliest moment any peer or link may change state.
   * It is only moved earlier here: a heartbeat pushes deadlines later, and a timer that fires
   * early finds nothing to do and re-arms itself, which is cheaper than re-arming on every frame.
   */
  private armDetector(): void {
    if (this.stopped) return;
    const nowMs = this.clock.nowMs();
    const dueAtMs = this.membership.nextTickAtMs(nowMs);
    if (!Number.isFinite(dueAtMs) || dueAtMs >= this.detectorArmedAtMs) return;
    if (this.detectorTimer !== null) clearTimeout(this.detectorTimer);
    this.detectorArmedAtMs = dueAtMs;
    // +1 ms: timers may fire a hair early, and a state change is due strictly after its deadline.
    this.detectorTimer = setTimeout(this.detectorTimerCallback, Math.max(0, dueAtMs - nowMs) + 1);
  }

  private onDetectorTimer(): void {
    this.detectorTimer = null;
    this.detectorArmedAtMs = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    this.publish(this.membership.tick(this.clock.nowMs()));
    this.armDetector();
  }

  /** Coordination failed for good, or an invariant broke: stop (handing over), then exit 70. */
  private fail(reason: string): void {
    void this.stop(reason).finally(() => process.exit(70));
  }

  private publish(events: readonly MembershipEvent[]): void {
    for (const event of events) this.events.publish(event);
  }

  status(): AgentStatus {
    const { config, localNode } = this.options;
    const nowMs = this.clock.nowMs();
    return {
      cluster: { name: config.cluster.name, id: config.clusterId },
      node: {
        id: localNode.id,
        name: localNode.name,
        incarnation: this.incarnation,
        startedAtMs: this.startedAtMs,
      },
      nowMs,
      timing: config.timing,
      detector: config.detector,
      links: this.links.map((link) => ({
        name: link.name,
        kind: link.kind,
        counters: link.counters(),
      })),
      nodes: this.membership.nodes(nowMs),
      rejects: this.inbound.rejectCounts(),
      coordination: this.coordination?.status() ?? null,
      clusterTransport: this.coordination?.transportCounters() ?? null,
      recentEvents: [...this.events.recent()],
      eventCounts: Object.fromEntries(this.eventCounts),
      callbackFailures: this.guard.failures(),
    };
  }

  /** `GET /v1/status`: the status and the resources, composed here for every client alike. */
  statusReply(): StatusReply {
    return {
      ...this.status(),
      resources: this.coordination?.resourcesView() ?? null,
      hooks: this.coordination?.hooks() ?? [],
      checks: this.coordination?.checkStatus() ?? [],
      ...(this.coordination === null
        ? {}
        : {
            sessions: {
              ...this.coordination.sessionCounts(),
              connections: this.coordination.sessions.size,
            },
          }),
    };
  }

  /**
   * Stops the agent; with sayGoodbye, its resources are first handed over to the other nodes
   * (or stopped here), then peers are told so they mark us left at once.
   */
  async stop(
    reason: string,
    options: { sayGoodbye: boolean } = { sayGoodbye: true },
  ): Promise<void> {
    if (this.stopped || this.stopping) return;
    this.stopping = true;
    this.systemd?.stopping(reason);
    if (options.sayGoodbye) {
      this.logger.info({ reason }, "stopping: handing resources over");
      await this.coordination?.handOverResources();
      await this.coordination?.handOverLeadership();
    }
    this.stopped = true;
    if (this.sendTimer !== null) clearTimeout(this.sendTimer);
    if (this.detectorTimer !== null) clearTimeout(this.detectorTimer);
    if (options.sayGoodbye) {
      const nowUs = Math.round(this.clock.nowMs() * 1000);
      for (let copy = 0; copy < LEAVE_COPIES; copy++) {
        for (const link of this.links)
          link.broadcast(this.outbound.next(MessageType.Leave, encodeLeavePayload(), nowUs));
      }
      // Let the datagrams leave the socket buffers before the sockets close.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.coordination?.stop();
    await Promise.allSettled(this.links.map((link) => link.close()));
    await this.peerIncarnations.flush();
    this.feed?.stop();
    await this.api?.close();
    await this.sentinel?.close();
    await this.control?.close();
    await this.systemd?.close();
    this.logger.info({ reason }, "agent stopped");
  }
}
