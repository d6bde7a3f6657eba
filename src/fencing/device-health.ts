/**
 * What the last `monitor` of each fence device said, and when a device starts or stops failing
 * it (an event). Pure: device-monitor.ts runs the agents and keeps the time.
 */

export type DeviceHealthState = "unchecked" | "ok" | "failed";

export interface DeviceHealthStatus {
  device: string;
  agent: string;
  state: DeviceHealthState;
  /** When the last monitor ended; null before the first. */
  checkedAtMs: number | null;
  /** How long the last monitor took. */
  durationMs: number | null;
  /** Since when the device is in `state` (its first monitor with that result). */
  sinceMs: number | null;
  /** The last monitor's reason for failing, or what the agent said. */
  detail: string;
}

export type FenceDeviceEvent =
  | { type: "fence_device_failed"; atMs: number; device: string; agent: string; detail: string }
  | { type: "fence_device_recovered"; atMs: number; device: string; agent: string };

/** One monitor's result (an AgentRun's fields that matter here). */
export interface MonitorResult {
  ok: boolean;
  durationMs: number;
  detail: string;
}

export class DeviceHealth {
  private readonly statuses = new Map<string, DeviceHealthStatus>();

  /** `devices`: name → agent, the devices this node checks. */
  constructor(devices: Readonly<Record<string, string>>) {
    for (const [device, agent] of Object.entries(devices)) {
      this.statuses.set(device, {
        device,
        agent,
        state: "unchecked",
        checkedAtMs: null,
        durationMs: null,
        sinceMs: null,
        detail: "",
      });
    }
  }

  /**
   * Records a monitor's result. A device that fails (first check included) is an event; so is
   * one that passes again after failing. A first check that passes is not news.
   */
  record(device: string, result: MonitorResult, atMs: number): FenceDeviceEvent | null {
    const status = this.statuses.get(device);
    if (status === undefined) return null;
    const state: DeviceHealthState = result.ok ? "ok" : "failed";
    const changed = state !== status.state;
    const previous = status.state;
    Object.assign(status, {
      state,
      checkedAtMs: atMs,
      durationMs: result.durationMs,
      sinceMs: changed ? atMs : status.sinceMs,
      detail: result.detail,
    });
    if (!changed) return null;
    if (state === "failed") {
      return {
        type: "fence_device_failed",
        atMs,
        device,
        agent: status.agent,
        detail: result.detail,
      };
    }
    return previous === "failed"
      ? { type: "fence_device_recovered", atMs, device, agent: status.agent }
      : null;
  }

  /** Every device's status, in name order. */
  statusAll(): DeviceHealthStatus[] {
    return [...this.statuses.values()]
      .map((status) => ({ ...status }))
      .sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
  }
}

/** One line on a device event, for the log and `vigil status`. */
export function describeDeviceEvent(event: FenceDeviceEvent): string {
  return event.type === "fence_device_failed"
    ? `fence device ${event.device} (${event.agent}) FAILED its monitor: ${event.detail}; it may not fence when needed`
    : `fence device ${event.device} (${event.agent}) passes its monitor again`;
}
