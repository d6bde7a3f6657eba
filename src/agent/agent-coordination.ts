import { z } from "zod";
import type { NodeConfig, VigilConfig } from "../config/schema.js";
import { RequestError, type Route } from "../control/server.js";
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
  type SubmitResult,
} from "../coordination/cluster-message.js";
import { type CoordinationStatus, Coordinator } from "../coordination/coordinator.js";
import type { Link } from "../links/link.js";
import type { Logger } from "../log/logger.js";
import type { Membership } from "../membership/membership.js";
import { AgentCatalog } from "../resources/agents/catalog.js";
import { checkResourceDocumentWithAgents, describeProblems } from "../resources/check-document.js";
import { ChildProcessRunner } from "../resources/executor/process-runner.js";
import { encodeCommand } from "../state/commands.js";
import { ClusterTransport } from "../transport/cluster-transport.js";
import type { OutboundSequencer } from "../wire/outbound.js";
import type { Clock } from "./clock.js";
import { policyInputOf } from "./policy-view.js";
import { RateLimiter } from "./rate-limited.js";

export interface AgentCoordinationOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  stateDir: string;
  links: readonly Link[];
  outbound: OutboundSequencer;
  membership: Membership;
  clock: Clock;
  logger: Logger;
}

const configApplyBody = z.strictObject({
  text: z.string(),
  document: z.record(z.string(), z.unknown()),
  expectedVersion: z.number().int().min(0),
  by: z.string().min(1).max(128),
});

/** Runtime switches an operator flips: standby of a node, maintenance of the whole cluster. */
const runtimeBody = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("node_standby"),
    node: z.string().min(1).max(63),
    standby: z.boolean(),
    by: z.string().min(1).max(128),
  }),
  z.strictObject({
    type: z.literal("maintenance"),
    on: z.boolean(),
    by: z.string().min(1).max(128),
  }),
  z.strictObject({
    type: z.literal("fail_count_reset"),
    resource: z.string().min(1).max(64),
    node: z.string().min(1).max(63).optional(),
    by: z.string().min(1).max(128),
  }),
]);

const membershipBody = z.strictObject({
  action: z.enum(["add", "remove"]),
  node: z.string().min(1).max(63),
});

/**
 * The agent's side of coordination: coordination messages in and out over the heartbeat links,
 * the Raft core and replicated state (Coordinator), and the control routes that read and change
 * that state. Kept out of Agent so the heartbeat path reads on its own.
 */
export class AgentCoordination {
  private readonly malformedLog = new RateLimiter(10_000);
  private readonly catalog = new AgentCatalog({ runner: new ChildProcessRunner() });

  private constructor(
    private readonly options: AgentCoordinationOptions,
    private readonly transport: ClusterTransport,
    readonly coordinator: Coordinator,
  ) {}

  static async start(options: AgentCoordinationOptions): Promise<AgentCoordination> {
    const transport = new ClusterTransport({
      localNodeId: options.localNode.id,
      links: options.links,
      outbound: options.outbound,
      liveLinksTo: (peerId) => options.membership.liveLinks(peerId),
      nowMs: () => options.clock.nowMs(),
    });
    const coordinator = await Coordinator.start({
      localNode: options.localNode,
      nodes: options.config.nodes,
      timing: options.config.timing,
      coordination: options.config.coordination,
      stateDir: options.stateDir,
      clock: options.clock,
      logger: options.logger.child({ part: "coordination" }),
      send: (to: number, message: ClusterMessage) =>
        transport.send(to, encodeClusterMessage(message)),
    });
    coordinator.events.subscribe((event) =>
      options.logger.info({ event: event.type, ...event }, `coordination: ${event.type}`),
    );
    return new AgentCoordination(options, transport, coordinator);
  }

  /** A MessageType.Cluster frame's payload from an authenticated peer. */
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
    this.coordinator.receive(senderId, decoded.message);
  }

  noticePeerUp(nodeId: number): void {
    this.coordinator.noticePeerUp(nodeId);
  }

  status(): CoordinationStatus {
    return this.coordinator.status();
  }

  routes(): Record<string, Route> {
    return {
      "GET /v1/config": () => {
        const { config, configurationVersion, version } = this.coordinator.state();
        return { ...config, configurationVersion, stateVersion: version };
      },
      "GET /v1/state": () => this.coordinator.state(),
      "GET /v1/policy-input": () => {
        const nowMs = this.options.clock.nowMs();
        const up = new Set(
          this.options.membership
            .nodes(nowMs)
            .filter((peer) => peer.state === "up")
            .map((peer) => peer.id),
        );
        return policyInputOf({
          state: this.coordinator.state(),
          nodes: this.options.config.nodes,
          isOnline: (id) => id === this.options.localNode.id || up.has(id),
          nowMs,
        });
      },
      "POST /v1/config": async (body): Promise<SubmitResult> => {
        const parsed = configApplyBody.safeParse(body);
        if (!parsed.success) {
          throw new RequestError(400, `bad config apply request: ${parsed.error.message}`);
        }
        const { text, document, expectedVersion, by } = parsed.data;
        const problems = await checkResourceDocumentWithAgents(
          document,
          this.options.config.nodes.map((node) => node.name),
          this.catalog,
        );
        if (problems.length > 0) {
          throw new RequestError(422, `invalid configuration: ${describeProblems(problems)}`);
        }
        return this.coordinator.submit({
          kind: "command",
          payload: encodeCommand({
            type: "config_apply",
            text,
            document: document as never,
            expectedVersion,
            by,
            atMs: Math.round(this.options.clock.nowMs()),
          }),
        });
      },
      "POST /v1/runtime": async (body): Promise<SubmitResult> => {
        const parsed = runtimeBody.safeParse(body);
        if (!parsed.success) {
          throw new RequestError(400, `bad request: ${parsed.error.message}`);
        }
        const request = parsed.data;
        if (
          request.type === "node_standby" &&
          !this.options.config.nodes.some((n) => n.name === request.node)
        ) {
          const names = this.options.config.nodes.map((n) => n.name).join(", ");
          throw new RequestError(
            404,
            `no node named ${request.node} in the configuration (nodes: ${names})`,
          );
        }
        const common = { by: request.by, atMs: Math.round(this.options.clock.nowMs()) };
        return this.coordinator.submit({
          kind: "command",
          payload: encodeCommand(
            request.type === "node_standby"
              ? { type: "node_standby", node: request.node, standby: request.standby, ...common }
              : request.type === "maintenance"
                ? { type: "maintenance", on: request.on, ...common }
                : {
                    type: "fail_count_reset",
                    resource: request.resource,
                    ...(request.node !== undefined ? { node: request.node } : {}),
                    ...common,
                  },
          ),
        });
      },
      "POST /v1/membership": (body): Promise<SubmitResult> => {
        const parsed = membershipBody.safeParse(body);
        if (!parsed.success) {
          throw new RequestError(400, `bad membership request: ${parsed.error.message}`);
        }
        const node = this.options.config.nodes.find((n) => n.name === parsed.data.node);
        if (node === undefined) {
          const names = this.options.config.nodes.map((n) => n.name).join(", ");
          throw new RequestError(
            404,
            `no node named ${parsed.data.node} in the configuration (nodes: ${names})`,
          );
        }
        return this.coordinator.submit({
          kind: "membership",
          action: parsed.data.action,
          nodeId: node.id,
        });
      },
    };
  }

  stop(): Promise<void> {
    return this.coordinator.stop();
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
