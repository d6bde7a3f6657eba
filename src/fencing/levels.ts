/**
 * Which fence devices fence a node, in which order, and what a fence agent reads on stdin. Pure:
 * fence-runner.ts runs the agents.
 */
import type { FenceDeviceConfig, FencingConfig } from "../config/safety-schema.js";

/** The actions a fence agent is asked for here (fence-agents know a few more). */
export type FenceAgentAction = "reboot" | "off" | "on" | "status" | "monitor";

/**
 * The node's fence levels, tried in order: the configured `fencing.levels[node]`, or else each
 * device that targets the node as a level of its own, in device-name order. [] when nothing can
 * fence the node.
 */
export function fenceLevelsFor(fencing: FencingConfig, node: string): string[][] {
  // Object.hasOwn: a node named "constructor" must not find Object.prototype's.
  if (Object.hasOwn(fencing.levels, node)) {
    return (fencing.levels[node] ?? []).map((level) => [...level]);
  }
  return Object.keys(fencing.devices)
    .filter((name) => Object.hasOwn(fencing.devices[name]?.targets ?? {}, node))
    .sort(compareNames)
    .map((name) => [name]);
}

/**
 * What a fence agent reads on stdin (the fence-agents protocol): one `key=value` line per
 * configured parameter, as given and in configuration order, then `action=<action>`, then
 * `plug=<plug>` when the device's plug for the node is not empty. The action and plug come last,
 * so a parameter of the same name never overrides them (fence-agents keep the last value).
 *
 * Throws when a key or value contains a line break (it would smuggle in another parameter), and
 * when the device has no target for the node (except for `monitor`, which checks the device
 * itself). `deviceName` names the device in those errors; it defaults to the agent.
 */
export function fenceAgentInput(
  device: FenceDeviceConfig,
  node: string,
  action: FenceAgentAction,
  deviceName: string = device.agent,
): string {
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
  const targeted = Object.hasOwn(device.targets, node);
  if (!targeted && action !== "monitor") {
    const targets = Object.keys(device.targets).join(", ") || "none";
    throw new Error(`fence device ${deviceName} has no target for ${node} (targets: ${targets})`);
  }
  const plug = targeted ? (device.targets[node] ?? "") : "";
  if (plug !== "") line("plug", plug);
  return `${lines.join("\n")}\n`;
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
