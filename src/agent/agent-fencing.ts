import type { NodeConfig, VigilConfig } from "../config/schema.js";
import type { FenceDevicesReply, FenceReply } from "../control/fence-routes.js";
import { EventBus } from "../events/bus.js";
import { describeDeviceEvent, type FenceDeviceEvent } from "../fencing/device-health.js";
import { DeviceMonitor } from "../fencing/device-monitor.js";
import type { FenceRunner } from "../fencing/fence-runner.js";
import { devicesFencing } from "../fencing/levels.js";
import type { NodeFencer } from "../fencing/node-fencer.js";
import type { Logger } from "../log/logger.js";
import type { Clock } from "../time/clock.js";

export interface AgentFencingOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  clock: Clock;
  logger: Logger;
  runner: FenceRunner;
  /** The node's fencer (NodeCoordination.fencer): every fence goes through it. */
  fencer: NodeFencer;
}

/** Device events kept for `vigil status`. */
const DEVICE_EVENTS_KEPT = 20;

/**
 * The agent's fencing: the fence runner, the NodeFencer that every fence goes through (lost
 * nodes, two-node mode, operators) and the monitor of the devices this node may fence with;
 * `vigil fence` reaches it through the control routes (src/control/fence-routes.ts).
 */
export class AgentFencing {
  readonly runner: FenceRunner;
  readonly fencer: NodeFencer;
  private readonly monitor: DeviceMonitor;
  private readonly checkedElsewhere: string[];
  /** Devices failing their monitor or passing it again, logged and kept for `vigil status`. */
  readonly deviceEvents: EventBus<FenceDeviceEvent>;

  constructor(options: AgentFencingOptions) {
    const { config, clock, logger } = options;
    this.runner = options.runner;
    this.fencer = options.fencer;
    this.deviceEvents = new EventBus<FenceDeviceEvent>(DEVICE_EVENTS_KEPT, (error, event) =>
      logger.error({ err: error, event: event.type }, "fence device event subscriber failed"),
    );
    this.deviceEvents.subscribe((event) => logDeviceEvent(logger, event));
    const others = config.nodes
      .filter((node) => !node.witness && node.name !== options.localNode.name)
      .map((node) => node.name);
    const checked = devicesFencing(config.fencing, others);
    this.checkedElsewhere = Object.keys(config.fencing.devices)
      .filter((device) => !checked.includes(device))
      .sort();
    this.monitor = new DeviceMonitor({
      runner: this.runner,
      devices: checked,
      intervalMs: config.fencing.monitor_interval_ms,
      clock,
      onEvent: (event) => this.deviceEvents.publish(event),
      fenceRunning: () => this.fencer.busy(),
    });
    this.monitor.start();
  }

  /** The devices' last monitor, for `vigil status`. */
  devices(): FenceDevicesReply {
    return { devices: this.monitor.statusAll(), checkedElsewhere: this.checkedElsewhere };
  }

  /** Monitors every device this node may fence with now (POST /v1/fence/check). */
  async checkDevices(): Promise<FenceDevicesReply> {
    return { devices: await this.monitor.checkNow(), checkedElsewhere: this.checkedElsewhere };
  }

  stop(): void {
    this.monitor.stop();
  }

  /** Fences `node` now, or joins the fence of it already running. */
  async fence(node: string, by: string): Promise<FenceReply> {
    const operation = await this.fencer.fenceNow(node, by);
    const { result, recorded } = operation;
    const shared = {
      attempts: result.attempts,
      ...(operation.joined ? { joinedBy: operation.by } : {}),
    };
    if (!result.ok)
      return { ok: false, error: `fencing ${node} failed: ${result.detail}`, ...shared };
    if (!recorded.ok) {
      return {
        ok: false,
        error: `${node} was fenced, but that could not be recorded: ${recorded.error}`,
        ...shared,
      };
    }
    return { ok: true, version: recorded.version, detail: result.detail, ...shared };
  }

  /** An operator made sure the node is off (NodeFencer.confirmDown). */
  async confirmDown(node: string, by: string): Promise<FenceReply> {
    const recorded = await this.fencer.confirmDown(node, by);
    if (!recorded.ok) {
      return {
        ok: false,
        error: `${node} confirmed down, but that could not be recorded: ${recorded.error}`,
      };
    }
    return { ok: true, version: recorded.version, detail: `confirmed down by ${by}` };
  }
}

/** A device failing its monitor is an error: the node it fences may not be fenceable now. */
function logDeviceEvent(logger: Logger, event: FenceDeviceEvent): void {
  const { type, atMs: _atMs, ...fields } = event;
  (type === "fence_device_failed" ? logger.error : logger.info).call(
    logger,
    { event: type, ...fields },
    describeDeviceEvent(event),
  );
}
