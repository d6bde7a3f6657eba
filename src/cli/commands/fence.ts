import { hostname, userInfo } from "node:os";
import { controlPost } from "../../control/client.js";
import type { FenceDevicesReply, FenceReply } from "../../control/fence-routes.js";
import { attemptLine } from "../../fencing/fence-report.js";
import { UsageError } from "../errors.js";
import { renderFenceDevices } from "../fence-devices-table.js";
import { controlSocketPath } from "../paths.js";
import type { RuntimeSwitchOptions } from "./runtime-switches.js";

/**
 * `vigil fence NODE`: fence a node now with its configured devices, from this node.
 * `vigil fence confirm NODE`: tell the cluster a node is down (powered off by a person), for
 * sites without a fence device: its resources may then run elsewhere.
 * `vigil fence check`: run `monitor` on every device this node may fence with, now.
 */
const FENCE_REPLY_TIMEOUT_MS = 15 * 60_000;

export async function runFence(
  first: string,
  second: string | undefined,
  options: RuntimeSwitchOptions,
): Promise<void> {
  if (first === "check" && second === undefined) return runFenceCheck(options);
  const confirm = first === "confirm";
  const node = confirm ? second : first;
  if (node === undefined)
    throw new UsageError("vigil fence confirm takes the node to confirm as down");
  if (!confirm && second !== undefined) {
    throw new UsageError(
      `vigil fence takes one node (or: confirm NODE, or: check), got "${first} ${second}"`,
    );
  }
  // Fencing may take each device's timeout, level after level, then recording it a leader
  // election (when the node fenced was the leader): wait long enough for all of that.
  const reply = await controlPost<FenceReply>(
    await controlSocketPath(options),
    "/v1/fence",
    { node, confirm, by: `${userInfo().username}@${hostname()}` },
    FENCE_REPLY_TIMEOUT_MS,
  );
  // Each agent run, level by level: a later level's success does not hide an earlier failure.
  const attempts = (reply.attempts ?? []).map((attempt) => `  ${attemptLine(attempt)}\n`).join("");
  const joined =
    reply.joinedBy === undefined ? "" : ` (joined the fence started by ${reply.joinedBy})`;
  if (!reply.ok) {
    process.stderr.write(`vigil: ${reply.error}${joined}\n${attempts}`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    confirm
      ? `node ${node} confirmed down: its resources may run elsewhere (cluster state version ${reply.version})\n`
      : `node ${node} fenced: ${reply.detail}${joined} (cluster state version ${reply.version})\n${attempts}`,
  );
}

/** Exit 1 when a device fails its monitor: a script can alert on it. */
async function runFenceCheck(options: RuntimeSwitchOptions): Promise<void> {
  // Each device's monitor is bounded by its timeout_ms; they run side by side.
  const reply = await controlPost<FenceDevicesReply>(
    await controlSocketPath(options),
    "/v1/fence/check",
    {},
    FENCE_REPLY_TIMEOUT_MS,
  );
  const lines = renderFenceDevices(reply);
  process.stdout.write(
    `${lines.length === 0 ? "no fence devices configured" : lines.join("\n")}\n`,
  );
  const failed = reply.devices.filter((device) => device.state === "failed");
  if (failed.length > 0) {
    process.stderr.write(
      `vigil: ${failed.map((device) => device.device).join(", ")} failed ${failed.length === 1 ? "its" : "their"} monitor\n`,
    );
    process.exitCode = 1;
  }
}
