import { ApiRefusal, simulate } from "../api-client.js";
import { h } from "../dom.js";

/** The what-ifs offered: GET /v1/simulate's parameters, as `vigil simulate` has them. */
const CHANGES = [
  { parameter: "fail", label: "fails (and is fenced)" },
  { parameter: "standby", label: "is put in standby" },
  { parameter: "resource-fail", label: "sees this resource fail:" },
];

/** "beta", or "beta (promoted)": a placement as `vigil simulate` shows it. */
function where(placed) {
  if (placed === undefined || placed.length === 0) return "stopped";
  return placed.map((p) => (p.role === "started" ? p.node : `${p.node} (${p.role})`)).join(", ");
}

function describeChange(parameter, node, resource) {
  if (parameter === "fail") return `If ${node} fails`;
  if (parameter === "standby") return `If ${node} is put in standby`;
  return `If ${resource} fails on ${node}`;
}

/**
 * The what-if panel: asks the agent what the cluster would do if a node failed, went to standby
 * or saw a resource fail (GET /v1/simulate: the same answer as `vigil simulate`; nothing is
 * changed, so a read token may ask) and shows the planned actions and the placement after them.
 * Its form is rebuilt only when the nodes or resources change, and the last answer is kept, so
 * the stream's redraws leave what the operator is reading alone.
 */
export class WhatIfPanel {
  constructor(token) {
    this.token = token;
    /** The last answer shown: { title, reply } or { title, error }. */
    this.outcome = null;
    this.outcomeBox = null;
  }

  view(model) {
    const nodes = model.nodeNames();
    const resources = Object.keys(model.status.resources?.state ?? {}).sort();
    return { key: JSON.stringify([nodes, resources]), build: () => this.build(nodes, resources) };
  }

  build(nodes, resources) {
    const change = h(
      "select",
      { name: "change", "aria-label": "what happens" },
      CHANGES.map(({ parameter, label }) => h("option", { value: parameter }, label)),
    );
    const node = h(
      "select",
      { name: "node", "aria-label": "node" },
      nodes.map((name) => h("option", { value: name }, name)),
    );
    const resource = h(
      "select",
      { name: "resource", "aria-label": "resource", disabled: true },
      resources.map((key) => h("option", { value: key }, key)),
    );
    change.addEventListener("change", () => {
      resource.disabled = change.value !== "resource-fail";
    });
    this.outcomeBox = h("div", { class: "what-if-outcome" });
    this.showOutcome();
    const form = h(
      "form",
      { class: "what-if-form" },
      "Node ",
      node,
      " ",
      change,
      " ",
      resource,
      " ",
      h("button", { type: "submit" }, "Simulate"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.ask(change.value, node.value, resource.value);
    });
    return [form, this.outcomeBox];
  }

  async ask(parameter, node, resource) {
    const title = describeChange(parameter, node, resource);
    const value = parameter === "resource-fail" ? `${resource}@${node}` : node;
    try {
      this.outcome = { title, reply: await simulate(this.token, { [parameter]: value }) };
    } catch (error) {
      const status = error instanceof ApiRefusal ? ` (${error.status})` : "";
      this.outcome = { title, error: `The agent did not simulate it${status}: ${error.message}` };
    }
    this.showOutcome();
  }

  showOutcome() {
    const outcome = this.outcome;
    if (this.outcomeBox === null) return;
    if (outcome === null) {
      this.outcomeBox.replaceChildren(
        h("p", { class: "empty" }, "Nothing is changed or run: the agent only plans."),
      );
      return;
    }
    if (outcome.error !== undefined) {
      this.outcomeBox.replaceChildren(
        h("h3", {}, outcome.title),
        h("p", { class: "failed", role: "alert" }, outcome.error),
      );
      return;
    }
    const { reply } = outcome;
    const keys = [...new Set([...Object.keys(reply.current), ...Object.keys(reply.placement)])];
    const problems = [...reply.unplaceable, ...(reply.blocked ?? [])];
    this.outcomeBox.replaceChildren(
      h("h3", {}, `${outcome.title}: the planned actions, in order`),
      reply.actions.length === 0
        ? h("p", { class: "empty", "data-actions": "none" }, "None: nothing would move.")
        : h(
            "ol",
            { class: "what-if-actions" },
            reply.actions.map((action) =>
              h(
                "li",
                { "data-action": action.id },
                action.id,
                action.after.length > 0
                  ? h("span", { class: "detail" }, ` after ${action.after.join(", ")}`)
                  : null,
              ),
            ),
          ),
      problems.map(({ resource, reason }) =>
        h("p", { class: "failed", "data-problem": resource }, `${resource}: ${reason}`),
      ),
      h("h3", {}, "Placement"),
      h(
        "table",
        { class: "what-if-placement" },
        h(
          "thead",
          {},
          h("tr", {}, h("th", {}, "Resource"), h("th", {}, "Now"), h("th", {}, "Then")),
        ),
        h(
          "tbody",
          {},
          keys.sort().map((key) =>
            h(
              "tr",
              {
                "data-what-if-resource": key,
                "data-then-on": (reply.placement[key] ?? []).map((p) => p.node).join(" "),
              },
              h("td", {}, key),
              h("td", {}, where(reply.current[key])),
              h("td", {}, where(reply.placement[key])),
            ),
          ),
        ),
      ),
    );
  }
}
