import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { promisify } from "node:util";
import { SCRAPED } from "../../src/api/metric-samples.js";

const RULES = "examples/prometheus/alerts.yml";
const PROMTOOL = ["/usr/bin/promtool", "/usr/local/bin/promtool"].find((path) => existsSync(path));
/** The families counted as events happen (metrics.ts), besides the scraped ones. */
const LIVE = [
  "vigil_resource_operation_duration_seconds",
  "vigil_resource_operation_failures_total",
  "vigil_fence_operations_total",
];

test("promtool check rules accepts the shipped alerting rules", {
  skip: PROMTOOL === undefined && "promtool is not installed (apt-get install prometheus)",
}, async () => {
  const { stdout } = await promisify(execFile)(PROMTOOL!, ["check", "rules", RULES]);
  assert.match(stdout, /SUCCESS: \d+ rules found/);
});

test("every vigil_ metric the rules name is one the agent exports", async () => {
  const text = await readFile(RULES, "utf8");
  const known = new Set([...Object.values(SCRAPED).map((family) => family.name), ...LIVE]);
  const named = new Set(text.match(/\bvigil_[a-z_]+\b/g));
  assert.ok(named.size > 5);
  for (const name of named)
    assert.ok(known.has(name), `${RULES} names ${name}, which no agent exports`);
  for (const alert of [
    "VigilNodeDead",
    "VigilLinkDown",
    "VigilQuorumLost",
    "VigilResourceUnplaceable",
    "VigilFenceFailed",
  ])
    assert.match(text, new RegExp(`alert: ${alert}\\n`));
});
