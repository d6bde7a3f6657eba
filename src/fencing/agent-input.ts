/**
 * What a fence agent reads on stdin: the fence-agents protocol, as Pacemaker's fencer speaks it.
 * Pure: fence-runner.ts runs the agents.
 */
import type { FenceDeviceConfig } from "../config/safety-schema.js";
import type { AgentMetadata } from "../resources/agents/metadata.js";

/** The actions a fence agent is asked for here (fence-agents know a few more). */
export type FenceAgentAction = "reboot" | "off" | "on" | "status" | "monitor" | "validate-all";

/**
 * The parameter that names the target's plug: `plug` for fence-agents (whose `port` is its
 * deprecated alias), `port` for agents that only know that one, none for agents that fence by
 * node name alone (fence_kdump, fence_dummy: a plug would only earn a warning).
 */
export type HostArgument = "plug" | "port" | null;

/**
 * The agent's host argument, from its meta-data like Pacemaker's default: `plug` when it lists
 * that parameter, else `port`, else none. An agent without meta-data (an `exec:` script of one's
 * own) gets `plug`, which it has always been given.
 */
export function hostArgumentOf(metadata: AgentMetadata | null): HostArgument {
  if (metadata === null) return "plug";
  const names = new Set(metadata.parameters.map((parameter) => parameter.name));
  if (names.has("plug")) return "plug";
  if (names.has("port")) return "port";
  return null;
}

export interface AgentInputOptions {
  /** Names the device in errors; default its agent. */
  deviceName?: string;
  /** Default `plug` (see hostArgumentOf). */
  hostArgument?: HostArgument;
}

/**
 * The lines a fence agent reads: one `key=value` per configured parameter, as given and in
 * configuration order; then `action=<action>`; then, for a target, `nodename=<target>` (Pacemaker
 * sends it to every agent; fence_kdump acts on nothing else) and the target's plug as the
 * agent's host argument, when the device has one for it (`""`: a device that fences one machine,
 * such as its BMC, has none, and an agent given one may misuse it: fence_ipmilan with port_as_ip
 * takes it for the address). What Vigil sends comes last, so a parameter of the same name never
 * overrides it (fence-agents keep the last value). Pacemaker also sends `nodeid` when its cluster
 * layer knows one: no fence-agents program reads it, and the Python ones warn about it on every
 * run, so it is not sent.
 *
 * `target` null is a check of the device itself (`monitor`, `validate-all` of its parameters):
 * no nodename, no plug. Throws when a key or value contains a line break (it would smuggle in
 * another parameter), and when the device has no target for `target`.
 */
export function fenceAgentInput(
  device: FenceDeviceConfig,
  action: FenceAgentAction,
  target: string | null,
  options: AgentInputOptions = {},
): string {
  const deviceName = options.deviceName ?? device.agent;
  const lines: string[] = [];
  const line = (key: string, value: string) => {
    if (/[\r\n]/.test(key) || /[\r\n]/.test(value)) {
      throw new Error(
        `fence device ${deviceName}: parameter ${JSON.stringify(key)} contains a line break, which the fence agent protocol (one key=value per line) cannot carry`,
      );
    }
    lines.push(`${key}=${value}`);
  };
  for (const [key, value] of Object.entries(device.params)) line(key, value);
  line("action", action);
  if (target !== null) {
    if (!Object.hasOwn(device.targets, target)) {
      const targets = Object.keys(device.targets).join(", ") || "none";
      throw new Error(
        `fence device ${deviceName} has no target for ${target} (targets: ${targets})`,
      );
    }
    line("nodename", target);
    const plug = device.targets[target] ?? "";
    const hostArgument = options.hostArgument === undefined ? "plug" : options.hostArgument;
    if (plug !== "" && hostArgument !== null) line(hostArgument, plug);
  }
  return `${lines.join("\n")}\n`;
}
