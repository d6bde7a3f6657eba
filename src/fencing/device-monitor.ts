/**
 * Checks fence devices before they are needed, like Pacemaker's stonith monitor: each device's
 * agent runs `monitor` (fence-agents: log in to the BMC or PDU, read a status; fence_kdump: is a
 * crash kernel loaded here) when the agent starts and every fencing.monitor_interval_ms. A
 * device that fails it, or passes again, is an event (device-health.ts); `vigil status` shows
 * each device's last result and `vigil fence check` runs them all at once.
 */
import { systemTimers, type Timers } from "../coordination/timers.js";
import type { Clock } from "../time/clock.js";
import { MONITOR_ACTION } from "./device-checks.js";
import { DeviceHealth, type DeviceHealthStatus, type FenceDeviceEvent } from "./device-health.js";
import type { FenceRunner } from "./fence-runner.js";

export interface DeviceMonitorOptions {
  runner: FenceRunner;
  /** The devices this node checks: those it may fence with. */
  devices: readonly string[];
  /** 0: only when the agent starts (and by `vigil fence check`). */
  intervalMs: number;
  clock: Clock;
  /** Real timers unless given: a test or simulator passes virtual ones that follow `clock`. */
  timers?: Timers;
  onEvent(event: FenceDeviceEvent): void;
  /**
   * A fence is running: the periodic check waits for the next interval, since many BMCs take
   * one session at a time and the fence must not be the one refused.
   */
  fenceRunning(): boolean;
}

export class DeviceMonitor {
  private readonly health: DeviceHealth;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly timers: Timers;
  /** Cancels the timer of the next periodic check, or null when none is set. */
  private cancelTimer: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly options: DeviceMonitorOptions) {
    this.timers = options.timers ?? systemTimers;
    const { devices } = options.runner.fencing;
    this.health = new DeviceHealth(
      Object.fromEntries(options.devices.map((name) => [name, devices[name]?.agent ?? "?"])),
    );
  }

  start(): void {
    if (this.options.devices.length === 0) return;
    void this.checkAll();
    this.schedule();
  }

  /** Monitors every device now (a check in flight is joined) and answers once all are done. */
  async checkNow(): Promise<DeviceHealthStatus[]> {
    await this.checkAll();
    return this.health.statusAll();
  }

  statusAll(): DeviceHealthStatus[] {
    return this.health.statusAll();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = null;
  }

  private schedule(): void {
    if (this.stopped || this.options.intervalMs === 0) return;
    this.cancelTimer = this.timers.after(this.options.intervalMs, () => {
      this.cancelTimer = null;
      if (!this.options.fenceRunning()) void this.checkAll();
      this.schedule();
    });
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.options.devices.map((device) => this.check(device)));
  }

  private check(device: string): Promise<void> {
    const running = this.inFlight.get(device);
    if (running !== undefined) return running;
    const check = this.options.runner
      .run(device, MONITOR_ACTION, null)
      .then((result) => {
        if (this.stopped) return;
        const event = this.health.record(device, result, this.options.clock.nowMs());
        if (event !== null) this.options.onEvent(event);
      })
      .finally(() => this.inFlight.delete(device));
    this.inFlight.set(device, check);
    return check;
  }
}
