import { svg } from "./dom.js";

const WIDTH = 300;
const HEIGHT = 48;
/** The lower part of the chart where loss is drawn (0 to 100 %). */
const LOSS_HEIGHT = 14;

/**
 * One peer × link's last minutes as a hand-drawn SVG: the RTT as a line (scaled to the window's
 * highest), loss as bars along the bottom, and the seconds it was late or down as bands behind
 * them. A gap in the line is a second without an RTT (no echo yet, or the link down).
 */
export function heartbeatChart(samples, { endMs, windowMs, bucketMs = 1000 }) {
  const startMs = endMs - windowMs;
  const x = (atMs) => ((atMs - startMs) / windowMs) * WIDTH;
  const width = (bucketMs / windowMs) * WIDTH;
  const shown = samples.filter((sample) => sample.atMs + bucketMs > startMs);
  const highestRtt = Math.max(1, ...shown.map((sample) => sample.rttMs ?? 0));
  const y = (rttMs) => HEIGHT - LOSS_HEIGHT - 2 - (rttMs / highestRtt) * (HEIGHT - LOSS_HEIGHT - 6);

  const bands = shown
    .filter((sample) => sample.state !== "up")
    .map((sample) =>
      svg("rect", {
        class: `band ${sample.state}`,
        x: x(sample.atMs).toFixed(1),
        y: 0,
        width: Math.max(width, 1).toFixed(2),
        height: HEIGHT,
      }),
    );
  const losses = shown
    .filter((sample) => (sample.lossRatio ?? 0) > 0)
    .map((sample) => {
      const height = Math.max(1, sample.lossRatio * LOSS_HEIGHT);
      return svg("rect", {
        class: "loss",
        x: x(sample.atMs).toFixed(1),
        y: (HEIGHT - height).toFixed(1),
        width: Math.max(width, 1).toFixed(2),
        height: height.toFixed(1),
      });
    });
  const lines = [];
  let points = [];
  for (const sample of shown) {
    if (sample.rttMs === null || sample.state === "down") {
      if (points.length > 0) lines.push(points);
      points = [];
      continue;
    }
    points.push(`${(x(sample.atMs) + width / 2).toFixed(1)},${y(sample.rttMs).toFixed(1)}`);
  }
  if (points.length > 0) lines.push(points);

  return svg(
    "svg",
    {
      class: "heartbeat-chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `RTT up to ${highestRtt.toFixed(2)} ms over the last ${Math.round(windowMs / 60_000)} minutes`,
    },
    bands,
    losses,
    lines.map((line) =>
      line.length === 1
        ? svg("circle", {
            class: "rtt",
            cx: line[0].split(",")[0],
            cy: line[0].split(",")[1],
            r: 1.5,
          })
        : svg("polyline", { class: "rtt", points: line.join(" ") }),
    ),
  );
}
