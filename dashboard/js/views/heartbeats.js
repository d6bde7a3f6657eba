import { HISTORY_WINDOW_MS } from "../cluster-model.js";
import { formatMs, formatRatio, h } from "../dom.js";
import { heartbeatChart } from "../sparkline.js";

const MIN_WINDOW_MS = 60_000;

const describeWindow = (ms) =>
  ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} minutes`;

/**
 * Every peer × link as the answering node hears it: its detector state now, the smoothed RTT,
 * the loss, how suspicious the detector is, and the last minutes drawn (late and down marked).
 */
export function heartbeatsView(model) {
  const status = model.status;
  const rows = status.nodes.flatMap((node) =>
    node.links.map((link) => ({
      node: node.name,
      link,
      samples: model.heartbeats.get(`${node.name} ${link.link}`)?.samples ?? [],
    })),
  );
  // The charts span the history there is (a minute at least, the agent's five at most), so a
  // young cluster's minute is not a sliver at the right of five empty ones.
  const oldestMs = Math.min(
    status.nowMs,
    ...rows.map((row) => row.samples[0]?.atMs ?? status.nowMs),
  );
  const windowMs = Math.min(HISTORY_WINDOW_MS, Math.max(MIN_WINDOW_MS, status.nowMs - oldestMs));
  // Redrawn with every status: the charts move on with time.
  const key = JSON.stringify([status.nowMs, rows.map((row) => row.samples.length)]);
  const build = () =>
    rows.length === 0
      ? h("p", { class: "empty" }, "No peer is configured on this node's links.")
      : [
          h(
            "table",
            { class: "heartbeats" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                [
                  "peer",
                  "link",
                  "state",
                  "RTT",
                  "loss",
                  "suspicion",
                  `last ${describeWindow(windowMs)}`,
                ].map((c) => h("th", {}, c)),
              ),
            ),
            h(
              "tbody",
              {},
              rows.map(({ node, link, samples }) =>
                h(
                  "tr",
                  { "data-peer-link": `${node}/${link.link}`, "data-state": link.state },
                  h("td", {}, node),
                  h("td", {}, link.link),
                  h("td", {}, h("span", { class: `badge link-${link.state}` }, link.state)),
                  h("td", { class: "number" }, formatMs(link.rttMs)),
                  h("td", { class: "number" }, formatRatio(link.lossRatio)),
                  h("td", { class: "number" }, link.suspicion.toFixed(2)),
                  h(
                    "td",
                    { class: "chart" },
                    heartbeatChart(samples, { endMs: status.nowMs, windowMs }),
                  ),
                ),
              ),
            ),
          ),
          h(
            "p",
            { class: "legend" },
            h("span", { class: "swatch rtt" }),
            " RTT (scaled to the row's highest) ",
            h("span", { class: "swatch loss" }),
            " loss ",
            h("span", { class: "swatch late" }),
            " late ",
            h("span", { class: "swatch down" }),
            " down",
          ),
        ];
  return { key, build };
}
