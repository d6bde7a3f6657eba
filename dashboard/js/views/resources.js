import { h } from "../dom.js";

/** A clone's copy "web:1" is operated on as its clone "web". */
const resourceOf = (placementKey) => placementKey.replace(/:\d+$/, "");

/**
 * Where every resource runs and in which role, what the leader asked for, fail counts and
 * operators' overrides; move, ban, clear and cleanup, each after a confirmation.
 */
export function resourcesView(model, operations) {
  const resources = model.status.resources;
  if (resources === null) {
    return {
      key: "none",
      build: () => h("p", { class: "empty" }, "Coordination has not started."),
    };
  }
  const state = model.state;
  const leader = resources.leader;
  const keys = [
    ...new Set([
      ...Object.keys(resources.state),
      ...(leader?.unplaceable ?? []).map((entry) => entry.resource),
      ...Object.keys(state?.operator ?? {}),
    ]),
  ].sort();
  const rows = keys.map((key) => {
    const cells = resources.state[key] ?? {};
    const resource = resourceOf(key);
    return {
      key,
      resource,
      active: Object.entries(cells)
        .filter(([, cell]) => cell.active !== undefined)
        .map(([node, cell]) => ({ node, role: cell.active })),
      targets: Object.entries(cells)
        .filter(([, cell]) => cell.target !== undefined)
        .map(([node, cell]) => `${cell.target} on ${node}`),
      stopFailed: Object.entries(cells)
        .filter(([, cell]) => cell.stopFailed === true)
        .map(([node]) => node),
      failures: Object.entries(state?.failCounts?.[key] ?? state?.failCounts?.[resource] ?? {}).map(
        ([node, failures]) => `${failures.count} on ${node}`,
      ),
      override: describeOverride(state?.operator?.[resource]),
      unplaceable: leader?.unplaceable.find((entry) => entry.resource === key)?.reason,
      blocked: leader?.blocked.find((entry) => entry.resource === key)?.reason,
    };
  });
  const nodes = model.nodeNames();
  const key = JSON.stringify([operations.allowed, nodes, rows, leader?.pendingActions ?? null]);
  const build = () => [
    rows.length === 0
      ? h("p", { class: "empty" }, "No resource is configured (vigil config apply).")
      : h(
          "table",
          { class: "resources" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["resource", "runs on", "leader asks", "fail counts", "operator", "operations"].map(
                (c) => h("th", {}, c),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            rows.map((row) => resourceRow(row, nodes, operations)),
          ),
        ),
    leader !== null &&
      h(
        "p",
        { class: "detail" },
        `This node leads. Actions pending: ${leader.pendingActions.length === 0 ? "none" : leader.pendingActions.join(", ")}.`,
      ),
  ];
  return { key, build };
}

function resourceRow(row, nodes, operations) {
  const select = h(
    "select",
    { "aria-label": `node for ${row.resource}`, "data-node-select": row.resource },
    nodes.map((node) => h("option", { value: node }, node)),
  );
  const chosen = () => select.value;
  return h(
    "tr",
    {
      "data-resource": row.key,
      "data-active-on": row.active.map((entry) => entry.node).join(" "),
    },
    h("td", {}, h("strong", {}, row.key)),
    h(
      "td",
      {},
      row.active.length === 0
        ? h("span", { class: "badge stopped" }, "runs nowhere")
        : row.active.map((entry) =>
            h(
              "span",
              { class: `badge role-${entry.role}`, "data-role": entry.role },
              `${entry.node}: ${entry.role}`,
            ),
          ),
      row.stopFailed.length > 0 &&
        h("span", { class: "badge failed" }, `stop failed on ${row.stopFailed.join(", ")}`),
      row.unplaceable !== undefined &&
        h("div", { class: "warning" }, `unplaceable: ${row.unplaceable}`),
      row.blocked !== undefined && h("div", { class: "warning" }, `blocked: ${row.blocked}`),
    ),
    h("td", {}, row.targets.join(", ") || "–"),
    h("td", {}, row.failures.join(", ") || "–"),
    h("td", {}, row.override || "–"),
    h(
      "td",
      { class: "operations" },
      select,
      operations.button(
        "Move",
        () => ({
          question: `Move ${row.resource} to ${chosen()}? It is stopped where it runs and started there.`,
          request: { type: "resource_move", resource: row.resource, node: chosen() },
        }),
        { "data-op": "move" },
      ),
      operations.button(
        "Ban",
        () => ({
          question: `Ban ${row.resource} from ${chosen()}? It will not run there until cleared.`,
          request: { type: "resource_ban", resource: row.resource, node: chosen() },
        }),
        { "data-op": "ban" },
      ),
      operations.button(
        "Clear",
        {
          question: `Clear the moves and bans of ${row.resource}?`,
          request: { type: "resource_clear", resource: row.resource },
        },
        { "data-op": "clear" },
      ),
      operations.button(
        "Cleanup",
        {
          question: `Clean up ${row.key}: reset its fail counts and stop-failed marks on every node?`,
          request: { type: "fail_count_reset", resource: row.key },
        },
        { "data-op": "cleanup" },
      ),
    ),
  );
}

function describeOverride(override) {
  if (override === undefined) return "";
  return [
    override.prefer !== undefined && `moved to ${override.prefer}`,
    (override.bans ?? []).length > 0 && `banned from ${override.bans.join(", ")}`,
    override.stopped === true && "stopped",
  ]
    .filter(Boolean)
    .join("; ");
}
