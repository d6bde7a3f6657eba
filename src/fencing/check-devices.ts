/**
 * `vigil config validate`'s check of the fence devices against the agents installed here: the
 * agent exists (else: did you mean?), its meta-data accepts the device (device-checks.ts), and
 * the agent itself accepts the parameters it would be given for each target (`validate-all`,
 * which fence-agents answer without contacting the device: fence_ipmilan without an address says
 * "You have to enter fence address"). No device is touched: `monitor` is the agent's, at run time.
 */
import type { ConfigProblem } from "../config/errors.js";
import { metadataProblems } from "./device-checks.js";
import type { FenceRunner } from "./fence-runner.js";

const VALIDATE_ALL = "validate-all";

/** Every problem of every device, in device order; devices are checked side by side. */
export async function checkFenceDevices(runner: FenceRunner): Promise<ConfigProblem[]> {
  const names = Object.keys(runner.fencing.devices);
  const perDevice = await Promise.all(names.map((name) => checkDevice(runner, name)));
  return perDevice.flat();
}

async function checkDevice(runner: FenceRunner, name: string): Promise<ConfigProblem[]> {
  const device = runner.fencing.devices[name];
  if (device === undefined) return [];
  const path = ["fencing", "devices", name];
  const agent = await runner.agents.lookUp(device.agent);
  if (!agent.found) {
    return [{ path: [...path, "agent"], message: `fence device ${name}: ${agent.problem}` }];
  }
  if (agent.metadata === null) {
    // A script of one's own need not describe itself; every fence-agents program does.
    if (device.agent.startsWith("exec:")) return [];
    return [
      {
        path: [...path, "agent"],
        message: `fence device ${name}: ${agent.file} gave no meta-data (${agent.metadataProblem}), so it cannot be checked: is it a fence agent?`,
      },
    ];
  }
  const problems = metadataProblems(runner.fencing, name, agent.metadata);
  if (problems.length > 0) return problems;
  if (!agent.metadata.actions.some((action) => action.name === VALIDATE_ALL)) return [];
  const refusals = new Map<string, string[]>();
  for (const target of Object.keys(device.targets)) {
    const run = await runner.run(name, VALIDATE_ALL, target);
    if (!run.ok) refusals.set(run.detail, [...(refusals.get(run.detail) ?? []), target]);
  }
  return [...refusals].map(([detail, targets]) => ({
    path,
    message: `${device.agent} refuses the parameters it would be given to fence ${targets.join(", ")} (${VALIDATE_ALL}): ${detail}`,
  }));
}
