/**
 * Explores seeds of the deterministic cluster simulator (src/sim) and reports a summary, or
 * replays one seed. The wall clock is read here only, to report steps per second.
 *
 *   npm run sim -- --seeds 500 [--start 1] [--nodes 3|5 | --two-node] [--fault-ms 20000]
 *                  [--paced on|off|seed] [--verbose]
 *   npm run sim -- --replay 1234 [--nodes 3 | --two-node] [--verbose]
 */
import { performance } from "node:perf_hooks";
import { Command, InvalidArgumentError, Option } from "commander";
import type { UnsafeTestFaults } from "../src/sim/consensus-node.js";
import { exploreSeeds, formatFailure } from "../src/sim/explore.js";
import { createRaftNode } from "../src/sim/raft-factory.js";
import { formatTraceEntry } from "../src/sim/trace.js";
import { exploreWholeSeeds, formatWholeFailure } from "../src/whole-sim/explore-whole.js";
import {
  LATEST_SCENARIO,
  SCENARIO_VERSIONS,
  type ScenarioVersion,
} from "../src/whole-sim/scenario.js";
import {
  WHOLE_UNSAFE_FAULTS,
  type WholeSimMode,
  type WholeUnsafeFault,
} from "../src/whole-sim/whole-simulation.js";

const UNSAFE_FAULTS = [
  "grantEveryVote",
  "forgetVoteOnRestart",
  "commitWithoutQuorum",
  "standInBeforeCaughtUp",
  "catchUpFromStaleMessage",
] as const;

function nonNegativeInteger(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < 0) {
      throw new InvalidArgumentError(`${flag} wants a non-negative integer, got "${value}"`);
    }
    return parsed;
  };
}

/** A day of virtual time: a phase longer than that is a typo, not a scenario. */
const MAX_PHASE_MS = 86_400_000;

function phaseMs(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < 0 || parsed > MAX_PHASE_MS) {
      throw new InvalidArgumentError(
        `${flag} wants a whole number of milliseconds from 0 to ${MAX_PHASE_MS} (a day), got "${value}"`,
      );
    }
    return parsed;
  };
}

const program = new Command("sim")
  .description("Run the deterministic Raft cluster simulator over many seeds")
  .option("--seeds <n>", "number of seeds to explore", nonNegativeInteger("--seeds"), 100)
  .option("--start <seed>", "first seed", nonNegativeInteger("--start"), 1)
  .option(
    "--nodes <n>",
    "cluster size (3 or 5)",
    (value: string) => {
      if (value !== "3" && value !== "5") {
        throw new InvalidArgumentError(`--nodes wants 3 or 5, got "${value}"`);
      }
      return Number(value);
    },
    3,
  )
  .option("--two-node", "two nodes in two-node mode, with fencing faults (instead of --nodes)")
  .option(
    "--replay <seed>",
    "run one seed again and print its whole trace",
    nonNegativeInteger("--replay"),
  )
  .option(
    "--fault-ms <ms>",
    "virtual time of the fault phase, before the heal",
    phaseMs("--fault-ms"),
    20_000,
  )
  .addOption(
    new Option(
      "--unsafe <fault>",
      "give the Raft core a deliberate bug (checker self-test)",
    ).choices(UNSAFE_FAULTS),
  )
  .addOption(
    new Option("--paced <when>", "paced heartbeats (the agent's way): on, off, or chosen per seed")
      .choices(["on", "off", "seed"])
      .default("seed"),
  )
  .option(
    "--whole",
    "simulate whole nodes (membership, Raft, state machine, resources, placement, node guard) instead of the Raft core",
  )
  .option("--fencing", "--whole: a fence device per node (simulated power switches)")
  .option(
    "--witness",
    "--whole: two nodes and a witness (instead of --nodes); at the heal one of the two may be lost for good",
  )
  .option(
    "--recovery-ms <ms>",
    "--whole: every resource must run again within this long of the heal",
    phaseMs("--recovery-ms"),
    20_000,
  )
  .addOption(
    new Option(
      "--scenario <version>",
      "--whole: what a seed runs (1: as the regression seeds were found; 2: with torn writes, clock drift and a promotable clone)",
    )
      .choices(SCENARIO_VERSIONS.map(String))
      .default(String(LATEST_SCENARIO)),
  )
  .addOption(
    new Option(
      "--whole-unsafe <fault>",
      "--whole: give the simulated cluster a deliberate defect (checker self-test)",
    ).choices(WHOLE_UNSAFE_FAULTS),
  )
  .option("--keep-going", "explore all seeds even after a failure")
  .option("--verbose", "print every seed's outcome")
  .parse();

const options = program.opts<{
  seeds: number;
  start: number;
  nodes: number;
  twoNode?: boolean;
  replay?: number;
  faultMs: number;
  unsafe?: (typeof UNSAFE_FAULTS)[number];
  paced: "on" | "off" | "seed";
  keepGoing?: boolean;
  verbose?: boolean;
  whole?: boolean;
  fencing?: boolean;
  witness?: boolean;
  recoveryMs: number;
  scenario: string;
  wholeUnsafe?: WholeUnsafeFault;
}>();

function printTable(rows: ReadonlyArray<[string, string]>): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(
    `\n${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n")}\n`,
  );
}

function printFailingSeeds(seeds: readonly number[]): void {
  if (seeds.length === 0) return;
  const shown = seeds.slice(0, 100).join(", ");
  process.stdout.write(
    `\nfailing seeds: ${shown}${seeds.length > 100 ? `, … (${seeds.length})` : ""}\n`,
  );
  process.exitCode = 1;
}

if (options.whole === true) await runWhole();
else runCore();

async function runWhole(): Promise<void> {
  const replaying = options.replay !== undefined;
  const mode: WholeSimMode =
    options.twoNode === true
      ? "two-node"
      : options.witness === true
        ? "witness"
        : options.fencing === true
          ? "fencing"
          : "quorum";
  const run = { ...options, mode };
  const startedAt = performance.now();
  const summary = await exploreWholeSeeds({
    startSeed: options.replay ?? options.start,
    seedCount: replaying ? 1 : options.seeds,
    mode,
    nodeCount: options.nodes,
    faultPhaseMs: options.faultMs,
    recoveryBoundMs: options.recoveryMs,
    stopOnFailure: !options.keepGoing,
    scenario: Number(options.scenario) as ScenarioVersion,
    ...(options.wholeUnsafe !== undefined ? { unsafe: options.wholeUnsafe } : {}),
    ...(replaying ? { onTrace: (line: string) => process.stdout.write(`${line}\n`) } : {}),
    onResult: (result) => {
      if (replaying || options.verbose) {
        process.stdout.write(
          `seed ${result.seed}: ${result.ok ? "ok" : "FAILED"} steps=${result.steps} virtual=${result.virtualMs}ms faults=${result.faults} recovery=${result.recoveryMs ?? "-"}ms fences=${result.fences} self-fences=${result.selfFences}\n`,
        );
      }
    },
  });
  const wallSeconds = (performance.now() - startedAt) / 1000;
  for (const failure of summary.failures)
    process.stdout.write(`\n${formatWholeFailure(failure, run)}\n`);
  const unsafe = options.wholeUnsafe !== undefined ? `, unsafe: ${options.wholeUnsafe}` : "";
  printTable([
    [
      "mode",
      `whole nodes, ${describeWholeMode(mode, options.nodes)}, scenario ${options.scenario}${unsafe}`,
    ],
    ["seeds run", String(summary.seeds)],
    ["faults", String(summary.faults)],
    ["fences", String(summary.fences)],
    ["self-fences", String(summary.selfFences)],
    ["steps", String(summary.steps)],
    ["virtual seconds", (summary.virtualMs / 1000).toFixed(1)],
    ["violations", String(summary.failures.length)],
    ["slowest recovery", `${summary.slowestRecoveryMs} ms`],
    ["wall seconds", wallSeconds.toFixed(2)],
    ["seeds per minute", ((summary.seeds / Math.max(wallSeconds, 1e-9)) * 60).toFixed(0)],
  ]);
  printFailingSeeds(summary.failures.map((failure) => failure.seed));
}

function describeWholeMode(mode: WholeSimMode, nodes: number): string {
  if (mode === "two-node") return "two-node mode";
  if (mode === "witness") return "two nodes and a witness";
  return `${nodes} nodes${mode === "fencing" ? ", fencing" : ""}`;
}

function runCore(): void {
  const replaying = options.replay !== undefined;
  const nodeCount = options.twoNode === true ? 2 : options.nodes;
  const unsafeTestFaults: UnsafeTestFaults | undefined =
    options.unsafe === undefined ? undefined : { [options.unsafe]: true };

  const startedAt = performance.now();
  const summary = exploreSeeds({
    startSeed: options.replay ?? options.start,
    seedCount: replaying ? 1 : options.seeds,
    nodeCount,
    faultPhaseMs: options.faultMs,
    ...(options.twoNode === true ? { twoNodeFencing: true } : {}),
    ...(options.paced === "seed" ? {} : { pacedHeartbeats: options.paced === "on" }),
    createNode: createRaftNode,
    stopOnFailure: !options.keepGoing,
    ...(unsafeTestFaults !== undefined ? { unsafeTestFaults } : {}),
    ...(replaying
      ? { onTrace: (entry) => process.stdout.write(`${formatTraceEntry(entry)}\n`) }
      : {}),
    onResult: (result) => {
      if (replaying || options.verbose) {
        process.stdout.write(
          `seed ${result.seed}: ${result.ok ? "ok" : "FAILED"} steps=${result.steps} virtual=${result.virtualMs}ms recovery=${result.recoveryMs ?? "-"}ms trace=${result.traceDigest}\n`,
        );
      }
    },
  });
  const wallSeconds = (performance.now() - startedAt) / 1000;

  for (const failure of summary.failures) process.stdout.write(`\n${formatFailure(failure)}\n`);

  const rows: Array<[string, string]> = [
    ["nodes", options.twoNode === true ? "2 (two-node mode, fencing)" : String(nodeCount)],
    ["seeds run", String(summary.seedsRun)],
    ["steps", String(summary.steps)],
    ["virtual seconds", (summary.virtualMs / 1000).toFixed(1)],
    ["violations", String(summary.failures.length)],
    ["slowest recovery", `${summary.slowestRecoveryMs} ms`],
    ["wall seconds", wallSeconds.toFixed(2)],
    ["steps per second", Math.round(summary.steps / Math.max(wallSeconds, 1e-9)).toString()],
    ["seeds per second", (summary.seedsRun / Math.max(wallSeconds, 1e-9)).toFixed(1)],
  ];
  printTable(rows);
  printFailingSeeds(summary.failures.map((failure) => failure.seed));
}
