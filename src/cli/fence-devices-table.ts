import type { FenceDevicesReply } from "../control/fence-routes.js";
import { renderTable } from "./table.js";

/**
 * The fence devices this node may fence with and their last monitor, for `vigil status` and
 * `vigil fence check`: one row each, a failing device's reason on its row.
 */
export function renderFenceDevices(reply: FenceDevicesReply): string[] {
  const lines: string[] = [];
  if (reply.devices.length > 0) {
    const rows = [["DEVICE", "AGENT", "MONITOR", "CHECKED", "TOOK", "DETAIL"]];
    for (const device of reply.devices) {
      rows.push([
        device.device,
        device.agent,
        device.state === "failed" ? "FAILED" : device.state,
        device.checkedAtMs === null ? "-" : new Date(device.checkedAtMs).toISOString(),
        device.durationMs === null ? "-" : `${device.durationMs} ms`,
        device.detail,
      ]);
    }
    lines.push("Fence devices (monitored from this node):", ...renderTable(rows));
  }
  if (reply.checkedElsewhere.length > 0) {
    lines.push(
      `Fence devices this node does not fence with (monitored by the nodes that do): ${reply.checkedElsewhere.join(", ")}`,
    );
  }
  return lines;
}
