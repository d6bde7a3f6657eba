/**
 * `systemd:unit`: `systemctl start|stop` and `systemctl is-active`. systemctl's exit codes follow
 * LSB (5: unit not found). Only usable where systemd is the init system.
 */
import { existsSync } from "node:fs";
import type { AgentRef } from "../../resource-model/types.js";
import type { ActionOutcome, AgentContext, MonitorOutcome, ResourceAgent } from "./agent.js";
import { OCF_ERR_GENERIC, OCF_ERR_INSTALLED, OCF_SUCCESS } from "./ocf-codes.js";
import { scriptOutcome } from "./script-outcome.js";
import { UnavailableAgent } from "./unavailable-agent.js";

/** systemd creates this directory at boot; its presence is sd_booted()'s test. */
export const SYSTEMD_RUNTIME_DIR = "/run/systemd/system";
export const SYSTEMD_NOT_RUNNING = "systemd is not running on this host";
const SYSTEMCTL = "systemctl";
/** systemctl's exit code for a unit that does not exist. */
const SYSTEMCTL_UNIT_NOT_FOUND = 5;

export function systemdRunning(runtimeDir = SYSTEMD_RUNTIME_DIR): boolean {
  return existsSync(runtimeDir);
}

/** `nginx` means `nginx.service`; names with a unit suffix are kept. */
export function unitName(name: string): string {
  return /\.[a-z]+$/.test(name) ? name : `${name}.service`;
}

export function createSystemdAgent(ref: AgentRef, runtimeDir = SYSTEMD_RUNTIME_DIR): ResourceAgent {
  if (!systemdRunning(runtimeDir)) {
    return new UnavailableAgent(ref, OCF_ERR_INSTALLED, SYSTEMD_NOT_RUNNING);
  }
  return new SystemdAgent(ref);
}

class SystemdAgent implements ResourceAgent {
  private readonly unit: string;

  constructor(readonly ref: AgentRef) {
    this.unit = unitName(ref.name);
  }

  async start(ctx: AgentContext): Promise<ActionOutcome> {
    return this.systemctl(ctx, "start");
  }

  async stop(ctx: AgentContext): Promise<ActionOutcome> {
    const process = await ctx.run({ file: SYSTEMCTL, args: ["stop", this.unit] });
    // A unit that does not exist is not running: stopping it has nothing to do.
    if (process.exitCode === SYSTEMCTL_UNIT_NOT_FOUND) return { code: OCF_SUCCESS };
    return scriptOutcome(process, `systemctl stop ${this.unit}`);
  }

  async monitor(ctx: AgentContext): Promise<MonitorOutcome> {
    const process = await ctx.run({ file: SYSTEMCTL, args: ["is-active", this.unit] });
    if (process.spawnError || process.timedOut || process.exitCode === null) {
      const outcome = scriptOutcome(process, `systemctl is-active ${this.unit}`);
      return { state: "failed", code: outcome.code, reason: outcome.reason ?? "is-active failed" };
    }
    const state = process.stdout.trim();
    switch (state) {
      case "active":
      case "reloading":
      case "refreshing":
        return { state: "running" };
      case "failed":
        return {
          state: "failed",
          code: OCF_ERR_GENERIC,
          reason: `${this.unit} is in failed state`,
        };
      default:
        // inactive, activating, deactivating, maintenance: not (yet, or any longer) serving.
        return { state: "not_running" };
    }
  }

  private async systemctl(ctx: AgentContext, verb: string): Promise<ActionOutcome> {
    const process = await ctx.run({ file: SYSTEMCTL, args: [verb, this.unit] });
    return scriptOutcome(process, `systemctl ${verb} ${this.unit}`);
  }
}
