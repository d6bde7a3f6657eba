/**
 * Records the simulators' traces for a fixed set of seeds, or checks them against a recording:
 * an optimisation of the simulated code must leave every seed's run exactly as it was.
 *
 *   tsx scripts/sim-traces.ts --record DIR   [--seeds N]
 *   tsx scripts/sim-traces.ts --check DIR    [--seeds N]
 *
 * Per seed of the whole-node simulator (3 and 5 nodes, two-node, 3 nodes with fencing, the
 * regression seeds of test/whole-sim, a few seeds of each deliberate defect) one file with its
 * trace and outcome; the Raft core simulator's trace digests in one file; and the simulated
 * agents' debug log (DIR/agents.log), which shows more of what happened than the trace.
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { exploreSeeds } from "../src/sim/explore.js";
import { createRaftNode } from "../src/sim/raft-factory.js";
import type { ScenarioVersion } from "../src/whole-sim/scenario.js";
import {
  runWholeSeed,
  type WholeSimMode,
  type WholeUnsafeFault,
} from "../src/whole-sim/whole-simulation.js";

interface WholeCase {
  name: string;
  mode: WholeSimMode;
  nodeCount: number;
  seeds: number[];
  scenario: ScenarioVersion;
  unsafe?: WholeUnsafeFault;
}

const options = new Command("sim-traces")
  .option("--record <dir>", "write the traces to this folder")
  .option("--check <dir>", "compare the traces with those recorded in this folder")
  .option("--seeds <n>", "seeds per mode", (value) => Number(value), 12)
  .parse()
  .opts<{ record?: string; check?: string; seeds: number }>();

const dir = options.record ?? options.check;
if (dir === undefined || (options.record !== undefined) === (options.check !== undefined)) {
  process.stderr.write("give one of --record DIR or --check DIR\n");
  process.exit(2);
}

const range = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);
const perMode = options.seeds;
const modes = [
  { name: "quorum3", mode: "quorum", nodeCount: 3 },
  { name: "quorum5", mode: "quorum", nodeCount: 5 },
  { name: "two-node", mode: "two-node", nodeCount: 2 },
  { name: "fencing3", mode: "fencing", nodeCount: 3 },
] as const;
// Scenario 1 under the names it was first recorded with; scenario 2 with a suffix.
const cases: WholeCase[] = [
  ...modes.map((m) => ({ ...m, scenario: 1 as const, seeds: range(777000, perMode) })),
  {
    name: "regressions",
    mode: "quorum",
    nodeCount: 3,
    scenario: 1,
    seeds: [1250, 1045, 1143, 101, 2420, 11410, 6, 21222],
  },
  { name: "regressions-fencing", mode: "fencing", nodeCount: 3, scenario: 1, seeds: [159] },
  ...(["no-guard", "lose-disk", "no-restart-at-heal"] as const).map((unsafe) => ({
    name: `unsafe-${unsafe}`,
    mode: "quorum" as const,
    nodeCount: 3,
    scenario: 1 as const,
    seeds: range(1, 3),
    unsafe,
  })),
  ...modes.map((m) => ({
    ...m,
    name: `${m.name}-v2`,
    scenario: 2 as const,
    seeds: range(777000, perMode),
  })),
  ...(["tear-acked", "drift", "fence-early", "no-offsets"] as const).map((unsafe) => ({
    name: `unsafe-${unsafe}-v2`,
    mode: unsafe === "fence-early" ? ("fencing" as const) : ("quorum" as const),
    nodeCount: 3,
    scenario: 2 as const,
    seeds: range(1, 3),
    unsafe,
  })),
];

const mismatches: string[] = [];
/** Writes (record) or compares (check) one file; names the first differing line. */
function settleFile(name: string, text: string): void {
  const path = join(dir!, name);
  if (options.record !== undefined) {
    writeFileSync(path, text);
    return;
  }
  if (!existsSync(path)) {
    mismatches.push(`${name}: not recorded`);
    return;
  }
  const recorded = readFileSync(path, "utf8");
  if (recorded === text) return;
  const was = recorded.split("\n");
  const now = text.split("\n");
  const line = was.findIndex((value, index) => value !== now[index]);
  const at = line === -1 ? was.length : line;
  mismatches.push(
    `${name}: line ${at + 1} differs\n  was: ${was[at] ?? "(end)"}\n  now: ${now[at] ?? "(end)"}`,
  );
}

if (options.record !== undefined) mkdirSync(dir, { recursive: true });
if (process.env.VIGIL_SIM_LOG === undefined) {
  // The agents log to stderr: run again with their log on and stderr to a file.
  const logPath = join(dir, options.record !== undefined ? "agents.log" : "agents.log.now");
  const log = openSync(logPath, "w");
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    env: { ...process.env, VIGIL_SIM_LOG: "debug" },
    stdio: ["inherit", "inherit", log],
  });
  closeSync(log);
  if (child.status !== 0) process.exit(child.status ?? 1);
  if (options.check !== undefined) {
    const same = readFileSync(join(dir, "agents.log"), "utf8") === readFileSync(logPath, "utf8");
    process.stdout.write(
      same
        ? "agents' logs identical\n"
        : `agents' logs differ: diff ${dir}/agents.log ${logPath}\n`,
    );
    if (!same) process.exitCode = 1;
  }
  process.exit();
}
for (const testCase of cases) {
  for (const seed of testCase.seeds) {
    const lines: string[] = [];
    const result = await runWholeSeed({
      seed,
      mode: testCase.mode,
      nodeCount: testCase.nodeCount,
      faultPhaseMs: 20_000,
      recoveryBoundMs: 20_000,
      scenario: testCase.scenario,
      ...(testCase.unsafe !== undefined ? { unsafe: testCase.unsafe } : {}),
      onTrace: (line) => lines.push(line),
    });
    // Scenario 1's outcomes as they were recorded before seeds had a scenario.
    const { scenario: _, ...unversioned } = result;
    lines.push(JSON.stringify(testCase.scenario === 1 ? unversioned : result));
    settleFile(`${testCase.name}-${seed}.trace`, `${lines.join("\n")}\n`);
  }
}

const digests: string[] = [];
for (const [name, nodeCount, twoNodeFencing] of [
  ["core3", 3, false],
  ["core5", 5, false],
  ["core-two-node", 2, true],
] as const) {
  exploreSeeds({
    startSeed: 1,
    seedCount: perMode * 4,
    nodeCount,
    faultPhaseMs: 20_000,
    ...(twoNodeFencing ? { twoNodeFencing } : {}),
    createNode: createRaftNode,
    stopOnFailure: false,
    onResult: (result) =>
      digests.push(`${name} ${result.seed} ${result.ok} ${result.steps} ${result.traceDigest}`),
  });
}
settleFile("core.digests", `${digests.join("\n")}\n`);

if (mismatches.length > 0) {
  process.stdout.write(`${mismatches.length} trace(s) differ:\n${mismatches.join("\n")}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(options.record !== undefined ? `recorded in ${dir}\n` : "identical\n");
}
