/**
 * Which fence devices fence a node, in which order, and what each is asked. Pure:
 * fence-runner.ts runs the agents.
 */
import type { FencingConfig } from "../config/safety-schema.js";

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

export type FenceAction = FencingConfig["action"];

/** One agent run of a level: the device and what it is asked. */
export interface FenceStep {
  device: string;
  action: "reboot" | "off" | "on";
}

/**
 * The agent runs of one level when the node is fenced with `action`, in two phases: `fence`
 * (each must succeed, in order; the node counts as fenced once they all did) then `powerOn`
 * (reported, never undoing the fence). A device's own `action` (fence_kdump can only `off`)
 * replaces `action` for it. Like Pacemaker, a reboot on a level of several devices (the two
 * power supplies of one machine) becomes `off` on each of them, then `on` on those asked to
 * reboot: rebooting them one at a time would keep the machine powered throughout.
 */
export function levelSteps(
  fencing: FencingConfig,
  devices: readonly string[],
  action: FenceAction,
): { fence: FenceStep[]; powerOn: FenceStep[] } {
  const actionOf = (device: string): FenceAction =>
    (Object.hasOwn(fencing.devices, device) ? fencing.devices[device]?.action : undefined) ??
    action;
  const split = devices.length > 1 && devices.some((device) => actionOf(device) === "reboot");
  if (!split) {
    return { fence: devices.map((device) => ({ device, action: actionOf(device) })), powerOn: [] };
  }
  return {
    fence: devices.map((device) => ({ device, action: "off" })),
    powerOn: devices
      .filter((device) => actionOf(device) === "reboot")
      .map((device) => ({ device, action: "on" })),
  };
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The devices in the levels of any of `nodes`, in name order: those that may fence one of them. */
export function devicesFencing(fencing: FencingConfig, nodes: readonly string[]): string[] {
  const devices = new Set(nodes.flatMap((node) => fenceLevelsFor(fencing, node).flat()));
  return [...devices].filter((device) => Object.hasOwn(fencing.devices, device)).sort(compareNames);
}
