import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

test("promtool test rules: a failed fence alerts once per node, the first one of the cluster too", {
  skip: PROMTOOL === undefined && "promtool is not installed (apt-get install prometheus)",
}, async () => {
  // Two agents report the same cluster-wide counts (from 0); db3's first fence fails at 2m.
  const dir = await mkdtemp(join(tmpdir(), "vigil-alerts-"));
  try {
    const cases = join(dir, "fence-failed.yml");
    await writeFile(
      cases,
      [
        `rule_files: [${JSON.stringify(resolve(RULES))}]`,
        "evaluation_interval: 1m",
        "tests:",
        "  - interval: 1m",
        "    input_series:",
        ...["db1:9420", "db2:9420"].flatMap((instance) => [
          `      - series: 'vigil_cluster_fences_total{instance="${instance}",job="vigil",node="db3",result="failure"}'`,
          "        values: '0 0 1 1 1 1'",
          `      - series: 'vigil_cluster_fences_total{instance="${instance}",job="vigil",node="db2",result="failure"}'`,
          "        values: '0 0 0 0 0 0'",
        ]),
        "    alert_rule_test:",
        "      - eval_time: 1m",
        "        alertname: VigilFenceFailed",
        "        exp_alerts: []",
        "      - eval_time: 3m",
        "        alertname: VigilFenceFailed",
        "        exp_alerts:",
        "          - exp_labels: { node: db3, severity: critical }",
        "            exp_annotations:",
        "              summary: Vigil failed to fence db3",
        `              description: "Its resources stay where they were until a fence succeeds or an operator runs vigil fence confirm db3."`,
      ].join("\n"),
    );
    const { stdout } = await promisify(execFile)(PROMTOOL!, ["test", "rules", cases]);
    assert.match(stdout, /SUCCESS/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
