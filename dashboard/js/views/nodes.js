import { h } from "../dom.js";

/** One card per node: its membership state as the answering node sees it, and standby/online. */
export function nodesView(model, operations) {
  const nodes = model.nodes();
  const key = JSON.stringify([
    operations.allowed,
    nodes.map((n) => [n.name, n.state, n.incarnation, n.leader, n.standby, n.shuttingDown]),
  ]);
  const build = () =>
    h(
      "div",
      { class: "cards" },
      nodes.map((node) =>
        h(
          "article",
          { class: `node state-${node.state}`, "data-node": node.name, "data-state": node.state },
          h("h3", {}, node.name),
          h("p", { class: "state" }, node.state),
          h(
            "p",
            { class: "badges" },
            node.self && h("span", { class: "badge" }, "answering"),
            node.leader && h("span", { class: "badge leader" }, "leader"),
            node.standby && h("span", { class: "badge standby", "data-standby": "" }, "standby"),
            node.shuttingDown && h("span", { class: "badge" }, "stopping"),
          ),
          h("p", { class: "detail" }, `incarnation ${node.incarnation ?? "–"}`),
          node.standby
            ? operations.button(
                "Online",
                {
                  question: `Bring ${node.name} online? Resources may be placed on it again.`,
                  request: { type: "node_standby", node: node.name, standby: false },
                },
                { "data-op": "online" },
              )
            : operations.button(
                "Standby",
                {
                  question: `Put ${node.name} in standby? Its resources move to other nodes.`,
                  request: { type: "node_standby", node: node.name, standby: true },
                },
                { "data-op": "standby" },
              ),
        ),
      ),
    );
  return { key, build };
}
