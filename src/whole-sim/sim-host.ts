import pino from "pino";
import { leaseBindsResources } from "../config/safety-modes.js";
import type { NodeConfig, VigilConfig } from "../config/schema.js";
import type { ClusterMessage } from "../coordination/cluster-message.js";
import {
  decodeClusterMessageJson,
  decodeClusterMessageText,
  encodeClusterMessageText,
} from "../coordination/cluster-message.js";
import type { FenceResult } from "../fencing/fence-report.js";
import type { Logger } from "../log/logger.js";
import { Membership } from "../membership/membership.js";
import type { MembershipEvent } from "../membership/types.js";
import { SeededRandom } from "../sim/random.js";
import type { Applied } from "../state/apply.js";
import { copyAsJson, type JsonValue } from "../state/json.js";
import type { ClusterState } from "../state/types.js";
import { NodeCoordination } from "../takeover/node-coordination.js";
import { guardHangMs } from "../watchdog/guard-protocol.js";
import type { HeartbeatPayload } from "../wire/message.js";
import type { ModelMemo } from "./model-memo.js";
import { HostDisk, type TornWriteModel } from "./sim-disk-storage.js";
import { SimGuard } from "./sim-guard.js";
import { type AgentFaultRates, SimHostResources, type SimResourceExtras } from "./sim-resources.js";
import { HostClock, ProcessTime, type World } from "./world.js";

const SILENT: Logger = pino({ level: "silent" });

/** What a simulated host hands the network: where and what. */
export type Delivery =
  | {
      kind: "heartbeat";
      link: string;
      incarnation: number;
      seq: number;
      sentAtUs: number;
      payload: HeartbeatPayload;
    }
  /**
   * A coordination message as the JSON text the agent sends, or as the value that text decodes
   * to (copyAsJson: the same value, made a few times faster); either is decoded and checked
   * as the agent does.
   */
  | { kind: "cluster"; incarnation: number; text: string }
  | { kind: "cluster"; incarnation: number; json: JsonValue };

export interface SimHostOptions {
  config: VigilConfig;
  node: NodeConfig;
  world: World;
  seed: number;
  agentFaults: AgentFaultRates;
  /** A deliberate defect (checker self-test): the disk forgets everything at a power-off. */
  loseDiskOnPowerOff?: boolean;
  /** Scenario 2: writes take time, and a crash may tear the one in flight. */
  tornWrites?: TornWriteModel;
  /** Scenario 2: the host's clock rate (real ms per world ms) and offset. */
  clock?: { rate: number; offsetMs: number };
  /** Scenario 2: the replicated database, the agent's observations for the checkers. */
  resourceExtras?: SimResourceExtras;
  send(from: number, to: number, delivery: Delivery): void;
  /** An operation begins on this host. */
  onOperationBegin?(host: string, key: string, operation: string): void;
  /** A resource role changed on this host (what its agents would find). */
  onResourceChange(host: string, key: string, role: string | null): void;
  /** A run met something that must not happen (a broken invariant): the run fails. */
  onBroken(host: string, reason: string): void;
  /** Fences `target` for `fencer` (simulated devices); the result reaches the fencer's run. */
  fence(fencer: string, target: string, time: ProcessTime): Promise<FenceResult>;
  /** The node's guard fenced it (powered it off). */
  onSelfFence(host: string): void;
  /** Trace lines of what happened on this host. */
  trace(line: string): void;
  /** Applies committed payloads: one memo for every host of the run. */
  applyCommand(state: ClusterState, payload: string): Applied;
  /** Reads the committed resource model: one memo for every host of the run. */
  committedModel: ModelMemo["committedModel"];
}

/** One run of the agent on a host: its own time, membership and node coordination. */
interface AgentRun {
  incarnation: number;
  time: ProcessTime;
  membership: Membership;
  node: NodeCoordination | null;
  heartbeatSeq: number;
  linkSeq: number;
  cancelHeartbeats: () => void;
  cancelDetector: (() => void) | null;
  detectorAtMs: number;
  /** Its node guard (watchdog.lease_guard), on a time of its own that no agent pause stops. */
  guard: SimGuard | null;
  guardTime: ProcessTime;
}

/**
 * A simulated machine: its disk, its resources and, while powered and started, one run of the
 * agent — the real NodeCoordination (Raft, state machine, local resources, placement) and the
 * real membership, on virtual time, with simulated resource agents and the disk of SimDisk.
 */
export class SimHost {
  private readonly disk: HostDisk;
  /** The host's clock, which every process of the host reads. */
  readonly clock: HostClock;
  readonly resources: SimHostResources;
  private run: AgentRun | null = null;
  /** The guard of the last run that ended, which may still be stopping what that run held. */
  private lastGuard: SimGuard | null = null;
  /** A start asked for while that guard releases: it comes once the guard is done. */
  private startDeferred = false;
  private powered = true;
  /** Lost for good (loseForGood): nothing powers it on again. */
  private lost = false;
  private runs = 0;
  private readonly random: SeededRandom;
  /** Silent unless asked for (VIGIL_SIM_LOG=info|debug): the agent's log on virtual time. */
  private readonly logger: Logger;

  constructor(private readonly options: SimHostOptions) {
    const level = process.env.VIGIL_SIM_LOG;
    // One silent logger for all hosts unless the log is asked for: making a logger and its
    // destination per host and seed shows in a search of thousands of seeds.
    this.logger =
      level === undefined || level === "silent"
        ? SILENT
        : pino(
            {
              level,
              base: { host: options.node.name },
              timestamp: () => `,"atMs":${options.world.nowMs()}`,
            },
            // Written at once, so the hosts' lines interleave in the order they happened.
            pino.destination({ dest: 2, sync: true }),
          );
    this.disk = new HostDisk(options.node.name, options.tornWrites ?? null);
    this.clock = new HostClock(options.world, options.clock?.rate, options.clock?.offsetMs);
    this.random = new SeededRandom(options.seed, `host-${options.node.id}`);
    this.resources = new SimHostResources(
      options.node.name,
      options.world,
      new SeededRandom(options.seed, `agents-${options.node.id}`),
      options.agentFaults,
      options.onResourceChange,
      options.trace,
      (host, key, operation) => options.onOperationBegin?.(host, key, operation),
      options.resourceExtras,
    );
  }

  get name(): string {
    return this.options.node.name;
  }

  get id(): number {
    return this.options.node.id;
  }

  get isPowered(): boolean {
    return this.powered;
  }

  get isRunning(): boolean {
    return this.run !== null && !this.run.time.isEnded;
  }

  get isPaused(): boolean {
    return this.run?.time.isPaused === true;
  }

  /** The run's coordination, once started (for checkers and the operator). */
  get coordination(): NodeCoordination | null {
    return this.run?.time.isEnded === false ? this.run.node : null;
  }

  get incarnation(): number | null {
    return this.run?.incarnation ?? null;
  }

  /** Starts a new run of the agent (after a boot, a crash, or a kill). */
  startAgent(): void {
    if (!this.powered || this.isRunning) return;
    const { config, node, world } = this.options;
    // As the agent does (src/watchdog/previous-guard.ts): a new run waits for the last run's
    // guard to stop what that run held, or its probe would find it running a moment longer.
    const lastGuard = this.lastGuard;
    if (lastGuard?.releasing === true) {
      if (this.startDeferred) return;
      this.startDeferred = true;
      this.options.trace(`${node.name} agent start waits for the last run's guard`);
      lastGuard.whenReleased(() => {
        this.startDeferred = false;
        this.startAgent();
      });
      return;
    }
    const time = new ProcessTime(world, this.clock);
    this.runs++;
    const run: AgentRun = {
      incarnation: this.runs,
      time,
      membership: new Membership({
        localNodeId: node.id,
        nodes: config.nodes.map((n) => ({ id: n.id, name: n.name, links: Object.keys(n.links) })),
        timing: config.timing,
        detector: config.detector,
        startedAtMs: time.nowMs(),
      }),
      node: null,
      heartbeatSeq: 0,
      linkSeq: 0,
      cancelHeartbeats: () => {},
      cancelDetector: null,
      detectorAtMs: Number.POSITIVE_INFINITY,
      guard: null,
      guardTime: new ProcessTime(world, this.clock),
    };
    if (config.watchdog.lease_guard) {
      run.guard = new SimGuard({
        world,
        clock: this.clock,
        hangMs: guardHangMs(config.coordination.follower_lease_ms),
        runner: this.resources.runnerFor(run.guardTime),
        killAgent: (reason) => {
          if (this.run === run) this.killAgent(reason);
        },
        selfFence: (reason) => this.selfFence(run, reason),
        trace: (line) => this.options.trace(`${node.name} ${line}`),
      });
    }
    this.run = run;
    this.options.trace(`${node.name} agent starts (run ${run.incarnation})`);
    void NodeCoordination.start({
      config,
      localNode: node,
      incarnation: run.incarnation,
      stateDir: `/sim/${node.name}`,
      clock: time,
      timers: time,
      logger: this.logger,
      random: new SeededRandom(
        this.options.seed,
        `raft-${node.id}-${run.incarnation}`,
      ).asFunction(),
      store: this.disk.open(time),
      send: (to, message) => this.sendCluster(run, to, message),
      peers: (nowMs) => run.membership.nodes(nowMs),
      runner: this.resources.runnerFor(time, true),
      fence: (target) => this.options.fence(node.name, target, time),
      onInvariantBroken: (error) =>
        this.options.onBroken(node.name, `invariant broken: ${error.message}`),
      onSuicide: () => this.killAgent("no_quorum_policy suicide"),
      onHold: (resource) => run.guard?.hold(resource, this.leaseRemainingMs(run.node)),
      applyCommand: this.options.applyCommand,
      committedModel: this.options.committedModel,
    }).then(
      (coordination) => {
        if (time.isEnded) return;
        run.node = coordination;
        const watched = process.env.VIGIL_SIM_WATCH;
        if (watched !== undefined) {
          let last = "";
          coordination.coordinator.onStateChange(() => {
            const state = coordination.coordinator.state();
            const cells = JSON.stringify(
              state.resources[watched] ??
                state.nodes[config.nodes[0]?.name ?? ""]?.attributes[watched] ??
                {},
            );
            if (cells !== last)
              this.options.trace(`${node.name} applied v${state.version}: ${watched} ${cells}`);
            last = cells;
          });
        }
        coordination.coordinator.events.subscribe((event) =>
          this.options.trace(
            `${node.name} ${event.type}${"term" in event ? ` term ${event.term}` : ""}`,
          ),
        );
        for (const peer of run.membership.nodes(time.nowMs()))
          if (peer.state === "up") coordination.noticePeerUp(peer.id);
        this.beat(run);
        this.feedGuard(run, coordination);
      },
      (error: unknown) =>
        this.options.onBroken(node.name, `agent failed to start: ${String(error)}`),
    );
  }

  /** The host loses power: the agent and everything it ran are gone, the disk stays. */
  powerOff(): void {
    if (!this.powered) return;
    this.options.trace(`${this.name} powered off`);
    this.run?.guard?.powerOff();
    this.run?.guardTime.end();
    this.endRun();
    this.powered = false;
    // A guard still releasing for an earlier run is gone with the power too.
    this.lastGuard?.powerOff();
    this.lastGuard = null;
    this.resources.powerOff();
    this.disk.crash();
    if (this.options.loseDiskOnPowerOff === true) this.disk.lose();
  }

  powerOn(): void {
    if (this.powered || this.lost) return;
    this.options.trace(`${this.name} powered on`);
    this.powered = true;
    this.startAgent();
  }

  /** The host dies and never comes back (a burnt machine): what it ran must move on without it. */
  loseForGood(): void {
    this.options.trace(`${this.name} is lost for good`);
    this.powerOff();
    this.lost = true;
  }

  /**
   * Runs `crash` (a power-off, a kill) in the middle of this host's next write to its Raft log,
   * or after `withinMs` if none comes; at once without torn writes.
   */
  crashDuringNextWrite(crash: () => void, withinMs: number): void {
    if (!this.disk.armCrashDuringWrite(crash)) {
      crash();
      return;
    }
    const { world } = this.options;
    world.at(world.nowMs() + withinMs, () => {
      if (this.disk.disarmCrash(crash)) crash();
    });
  }

  /** The agent process dies alone (SIGKILL): what it started keeps running on the host. */
  killAgent(reason: string): void {
    if (!this.isRunning) return;
    this.options.trace(`${this.name} agent killed (${reason})`);
    const guard = this.run?.guard ?? null;
    this.lastGuard = guard;
    this.endRun();
    // Its write in flight stops where it was; the page cache keeps what reached it.
    this.disk.crash();
    guard?.agentGone();
  }

  pause(): void {
    if (!this.isRunning || this.isPaused) return;
    this.options.trace(`${this.name} agent paused`);
    this.run?.time.pause();
  }

  resume(): void {
    if (!this.isPaused) return;
    this.options.trace(`${this.name} agent resumes`);
    this.run?.time.resume();
  }

  /** A datagram arrives for whatever run of the agent is here now. */
  receive(from: number, delivery: Delivery): void {
    const run = this.run;
    if (run === null || !this.powered) return;
    run.time.run(() => {
      if (run.time.isEnded) return;
      const nowMs = run.time.nowMs();
      if (delivery.kind === "heartbeat") {
        this.publish(
          run,
          run.membership.onHeartbeat(nowMs, {
            nodeId: from,
            link: delivery.link,
            incarnation: delivery.incarnation,
            seq: delivery.seq,
            sentAtUs: delivery.sentAtUs,
            payload: delivery.payload,
          }),
        );
        this.armDetector(run);
        return;
      }
      const decoded =
        "json" in delivery
          ? decodeClusterMessageJson(delivery.json)
          : decodeClusterMessageText(delivery.text);
      if (!decoded.ok) {
        this.options.onBroken(this.name, `a coordination message did not decode: ${decoded.error}`);
        return;
      }
      run.node?.receive(from, delivery.incarnation, decoded.message);
    });
  }

  /** The guard could not stop in time: the node powers itself off, and boots again later. */
  private selfFence(run: AgentRun, reason: string): void {
    if (!this.powered || run.guardTime.isEnded) return;
    this.options.trace(`${this.name} self-fences: ${reason}`);
    this.options.onSelfFence(this.name);
    this.powerOff();
    this.options.world.at(this.options.world.nowMs() + this.random.int(1000, 4000), () =>
      this.powerOn(),
    );
  }

  /** The agent run tells its guard what it holds, every feed interval of its own time. */
  private feedGuard(run: AgentRun, coordination: NodeCoordination): void {
    const guard = run.guard;
    if (guard === null || run.time.isEnded) return;
    const { resources } = coordination;
    guard.feed({
      held: resources.heldResources(),
      busy: (key) => resources.isBusy(key),
      running: resources.mayRunAnything(),
      leaseRemainingMs: this.leaseRemainingMs(coordination),
    });
    run.time.after(guard.feedIntervalMs, () => this.feedGuard(run, coordination));
  }

  /** The lease the run's resources run under, as its guard is told; null: none binds them. */
  private leaseRemainingMs(coordination: NodeCoordination | null): number | null {
    return leaseBindsResources(this.options.config.no_quorum_policy)
      ? (coordination?.coordinator.leaseRemainingMs() ?? null)
      : null;
  }

  private endRun(): void {
    const run = this.run;
    if (run === null) return;
    run.time.end();
    this.run = null;
  }

  private sendCluster(run: AgentRun, to: number, message: ClusterMessage): void {
    if (run.time.isEnded) return;
    const json = copyAsJson(message);
    this.options.send(
      this.id,
      to,
      json === undefined
        ? { kind: "cluster", incarnation: run.incarnation, text: encodeClusterMessageText(message) }
        : { kind: "cluster", incarnation: run.incarnation, json },
    );
  }

  /** Heartbeats every keepalive, Raft's appends with them (the agent's paced heartbeats). */
  private beat(run: AgentRun): void {
    const { config } = this.options;
    const keepaliveMs = config.timing.keepalive_ms;
    const nowMs = run.time.nowMs();
    run.node?.heartbeat();
    run.linkSeq++;
    for (const peer of config.nodes) {
      if (peer.id === this.id) continue;
      for (const link of Object.keys(this.options.node.links)) {
        run.heartbeatSeq++;
        this.options.send(this.id, peer.id, {
          kind: "heartbeat",
          link,
          incarnation: run.incarnation,
          seq: run.heartbeatSeq,
          sentAtUs: nowMs * 1000,
          payload: {
            linkSeq: run.linkSeq,
            keepaliveMs,
            echoes: run.membership.echoesFor(link, nowMs),
          },
        });
      }
    }
    this.publish(run, run.membership.tick(nowMs));
    this.armDetector(run);
    // A timer fires 0-3 ms late, as a real one does.
    run.cancelHeartbeats = run.time.after(keepaliveMs + this.random.int(0, 3), () =>
      this.beat(run),
    );
  }

  private armDetector(run: AgentRun): void {
    const nowMs = run.time.nowMs();
    const dueAtMs = run.membership.nextTickAtMs(nowMs);
    if (!Number.isFinite(dueAtMs) || dueAtMs >= run.detectorAtMs) return;
    run.cancelDetector?.();
    run.detectorAtMs = dueAtMs;
    run.cancelDetector = run.time.after(Math.max(0, dueAtMs - nowMs) + 1, () => {
      run.detectorAtMs = Number.POSITIVE_INFINITY;
      run.cancelDetector = null;
      this.publish(run, run.membership.tick(run.time.nowMs()));
      this.armDetector(run);
    });
  }

  private publish(run: AgentRun, events: readonly MembershipEvent[]): void {
    for (const event of events) {
      this.options.trace(`${this.name} sees ${describeMembershipEvent(event)}`);
      if (event.type === "node_up") run.node?.noticePeerUp(event.nodeId);
      run.node?.onMembershipEvent(event);
    }
  }
}

function describeMembershipEvent(event: MembershipEvent): string {
  switch (event.type) {
    case "node_up":
    case "node_dead":
    case "node_left":
      return `${event.type} ${event.name}`;
    default:
      return event.type;
  }
}
