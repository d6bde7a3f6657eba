import { formatTime, h } from "../dom.js";

/** The replicated fence records and incidents, newest first, and the fence devices' health. */
export function fencesView(model) {
  const resources = model.status.resources;
  const fences = [...(resources?.fenceHistory ?? [])].reverse();
  const incidents = [...(resources?.incidents ?? [])].reverse();
  const devices = resources?.fenceDevices?.devices ?? [];
  const key = JSON.stringify([fences, incidents, devices.map((d) => [d.device, d.state])]);
  const build = () => [
    h("h3", {}, "Fences"),
    fences.length === 0
      ? h("p", { class: "empty" }, "No node has been fenced.")
      : h(
          "ul",
          { class: "records" },
          fences.map((fence) =>
            h(
              "li",
              { class: fence.ok ? "ok" : "failed" },
              h("time", {}, formatTime(fence.atMs)),
              ` ${fence.node}: ${fence.action} ${fence.ok ? "done" : "FAILED"} (${fence.devices.join(", ") || "no device"}) by ${fence.by} — ${fence.detail}`,
            ),
          ),
        ),
    h("h3", {}, "Incidents"),
    incidents.length === 0
      ? h("p", { class: "empty" }, "No incident: nothing was found running twice.")
      : h(
          "ul",
          { class: "records" },
          incidents.map((incident) =>
            h(
              "li",
              { class: "failed" },
              h("time", {}, formatTime(incident.atMs)),
              ` ${incident.resource} was running on ${incident.nodes.join(" and ")} (${incident.kind})`,
            ),
          ),
        ),
    devices.length > 0 && h("h3", {}, "Fence devices"),
    devices.length > 0 &&
      h(
        "ul",
        { class: "records" },
        devices.map((device) =>
          h(
            "li",
            { class: device.state === "failed" ? "failed" : "" },
            `${device.device} (${device.agent}): ${device.state}`,
          ),
        ),
      ),
  ];
  return { key, build };
}
