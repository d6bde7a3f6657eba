#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner, in two phases: first the unit,
// property and simulator tests two files at a time (the machine has two cores), then the tests
// that run real agents one file at a time, so that a CPU-bound simulator run never delays an
// agent's timers while a test checks how fast it detected a failure. Pass file paths or
// substrings to run a subset:  node scripts/run-tests.mjs wire membership
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith(".test.ts")) found.push(path);
  }
  return found.sort();
}

const filters = process.argv.slice(2);
const files = findTests("test").filter(
  (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
);
if (files.length === 0) {
  console.error(`no test files match ${filters.join(", ")}`);
  process.exit(1);
}

const build = spawnSync("npx", ["tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
// The tests' agents, guards and CLI runs use what was just built (cliEntry in
// src/demo/local-cluster.ts), not the sources under tsx: half the CPU at every start.
process.env.VIGIL_BUILT = "1";

const runsAgents = (file) =>
  file.startsWith(join("test", "integration")) || file.startsWith(join("test", "cli"));
const phases = [
  { files: files.filter((file) => !runsAgents(file)), concurrency: 2 },
  { files: files.filter(runsAgents), concurrency: 1 },
];
let failed = false;
for (const phase of phases) {
  if (phase.files.length === 0) continue;
  const run = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "--test",
      `--test-concurrency=${phase.concurrency}`,
      "--test-timeout=600000",
      ...phase.files,
    ],
    { stdio: "inherit" },
  );
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
