/**
 * A fence device against what its agent says about itself (its meta-data): the parameters it
 * knows and requires, whether it takes a plug, and the actions it supports. Pure:
 * check-devices.ts reads the meta-data and runs the agents.
 */
import type { ConfigPath, ConfigProblem } from "../config/errors.js";
import type { FencingConfig } from "../config/safety-schema.js";
import { closestMatch } from "../config/suggest.js";
import { PARAMETERS_SET_BY_VIGIL } from "../config/validate-safety.js";
import type { AgentMetadata, AgentParameter } from "../resources/agents/metadata.js";
import { hostArgumentOf } from "./agent-input.js";
import { fenceLevelsFor, levelSteps } from "./levels.js";

/** How a device is checked while the agent runs (device-monitor.ts). */
export const MONITOR_ACTION = "monitor";

/**
 * Every action the device may be asked: what its levels ask of it when each node it targets is
 * fenced with fencing.action (its own `action`, or off and on of a split reboot), and monitor.
 */
export function actionsAskedOf(fencing: FencingConfig, deviceName: string): Set<string> {
  const asked = new Set<string>([MONITOR_ACTION]);
  const device = fencing.devices[deviceName];
  for (const node of Object.keys(device?.targets ?? {})) {
    for (const level of fenceLevelsFor(fencing, node)) {
      if (!level.includes(deviceName)) continue;
      const { fence, powerOn } = levelSteps(fencing, level, fencing.action);
      for (const step of [...fence, ...powerOn]) {
        if (step.device === deviceName) asked.add(step.action);
      }
    }
  }
  return asked;
}

/** Problems with device `deviceName` against its agent's meta-data, each at the key to change. */
export function metadataProblems(
  fencing: FencingConfig,
  deviceName: string,
  metadata: AgentMetadata,
): ConfigProblem[] {
  const device = fencing.devices[deviceName];
  if (device === undefined) return [];
  const at = (...path: ConfigPath): ConfigPath => ["fencing", "devices", deviceName, ...path];
  const agent = device.agent;
  const problems: ConfigProblem[] = [];
  const parameters = new Map(metadata.parameters.map((parameter) => [parameter.name, parameter]));

  for (const name of Object.keys(device.params)) {
    if (parameters.has(name) || Object.hasOwn(PARAMETERS_SET_BY_VIGIL, name)) continue;
    const near = closestMatch(name, [...parameters.keys()]);
    problems.push({
      path: at("params"),
      key: name,
      message: `${agent} has no parameter ${name}${near === undefined ? ` (its parameters: ${agent} -o metadata)` : ` (did you mean ${near}?)`}`,
    });
  }
  for (const parameter of requiredParameters(metadata)) {
    const names = [parameter.name, ...(parameter.obsoletes ? [parameter.obsoletes] : [])];
    if (names.some((name) => Object.hasOwn(device.params, name))) continue;
    problems.push({
      path: at("params"),
      message: `${agent} requires the parameter ${parameter.name}${parameter.shortDescription ? ` (${parameter.shortDescription})` : ""}`,
    });
  }

  const hostArgument = hostArgumentOf(metadata);
  const plugRequired = metadata.parameters.some(
    (parameter) => (parameter.name === "plug" || parameter.name === "port") && parameter.required,
  );
  for (const [node, plug] of Object.entries(device.targets)) {
    if (hostArgument === null && plug !== "") {
      problems.push({
        path: at("targets", node),
        message: `${agent} takes no plug (it is told which node by its name): set targets.${node} to ""`,
      });
    } else if (plugRequired && plug === "") {
      problems.push({
        path: at("targets", node),
        message: `${agent} needs a plug for ${node} (the outlet, port or machine name it acts on): targets.${node} is empty`,
      });
    }
  }

  const supported = new Set(metadata.actions.map((action) => action.name));
  const unsupported = [...actionsAskedOf(fencing, deviceName)].filter(
    (action) => !supported.has(action),
  );
  if (unsupported.length > 0) {
    const fix = unsupported.includes(MONITOR_ACTION)
      ? "it cannot be checked before it is needed"
      : supported.has("off") && device.action === undefined
        ? "set action: off on this device"
        : "use another agent, or another action";
    problems.push({
      path: device.action === undefined ? at() : at("action"),
      message: `${agent} supports ${[...supported].filter(isOperation).sort().join(", ")}, but this device would be asked ${unsupported.join(" and ")}: ${fix}`,
    });
  }
  return problems;
}

/** An action that acts or checks, not one that describes the agent (metadata, manpage). */
function isOperation(action: string): boolean {
  return action !== "metadata" && action !== "manpage";
}

/**
 * The parameters a device must set: required ones but what Vigil sends itself (like Pacemaker,
 * which makes action, plug and port optional) and deprecated names, which fence-agents mark
 * required alongside their successors (`ipaddr` with `ip`); the successor accepts either name.
 */
function requiredParameters(metadata: AgentMetadata): AgentParameter[] {
  return metadata.parameters.filter(
    (parameter) =>
      parameter.required &&
      parameter.deprecated !== true &&
      !Object.hasOwn(PARAMETERS_SET_BY_VIGIL, parameter.name),
  );
}
