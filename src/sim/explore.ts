import { runSimulation, type SimOptions, type SimResult } from "./simulation.js";
import { formatTraceEntry } from "./trace.js";

export interface ExploreOptions extends Omit<SimOptions, "seed"> {
  startSeed: number;
  seedCount: number;
  /** Stop at the first violation (default) or keep exploring and collect them all. */
  stopOnFailure?: boolean;
  onResult?: (result: SimResult) => void;
}

export interface ExploreSummary {
  seedsRun: number;
  steps: number;
  virtualMs: number;
  failures: SimResult[];
  /** Longest heal-to-recovery time seen, in virtual ms. */
  slowestRecoveryMs: number;
}

/** Runs consecutive seeds; every one is reproducible alone with the same options. */
export function exploreSeeds(options: ExploreOptions): ExploreSummary {
  const { startSeed, seedCount, stopOnFailure = true, onResult, ...simOptions } = options;
  if (!Number.isSafeInteger(startSeed) || startSeed < 0) {
    throw new Error(`exploreSeeds: startSeed must be a non-negative integer, got ${startSeed}`);
  }
  if (!Number.isInteger(seedCount) || seedCount < 1) {
    throw new Error(`exploreSeeds: seedCount must be a positive integer, got ${seedCount}`);
  }
  const summary: ExploreSummary = {
    seedsRun: 0,
    steps: 0,
    virtualMs: 0,
    failures: [],
    slowestRecoveryMs: 0,
  };
  for (let seed = startSeed; seed < startSeed + seedCount; seed++) {
    const result = runSimulation({ ...simOptions, seed });
    summary.seedsRun++;
    summary.steps += result.steps;
    summary.virtualMs += result.virtualMs;
    if (result.recoveryMs !== null) {
      summary.slowestRecoveryMs = Math.max(summary.slowestRecoveryMs, result.recoveryMs);
    }
    onResult?.(result);
    if (!result.ok) {
      summary.failures.push(result);
      if (stopOnFailure) break;
    }
  }
  return summary;
}

/** A failure as a person reads it: the seed to replay, what broke, and what led up to it. */
export function formatFailure(result: SimResult): string {
  const lines = [
    `seed ${result.seed} (${result.nodeCount} nodes) FAILED after ${result.steps} steps at ${result.virtualMs} ms virtual time`,
    `  ${result.violation?.message ?? "no violation recorded"}`,
    `  replay: ${replayCommand(result)}`,
    "  nodes at the end:",
    ...result.finalNodes.map((line) => `    ${line}`),
    "  recent faults:",
    ...result.recentFaults.map((line) => `    ${line}`),
    `  last ${result.traceTail.length} events:`,
    ...result.traceTail.map((entry) => `    ${formatTraceEntry(entry)}`),
  ];
  return lines.join("\n");
}

/** A report with hundreds of full traces helps nobody: show a few, list every seed. */
const FAILURES_SHOWN_IN_FULL = 3;

/** Thrown by `assertExplorationClean`; its message is the full failure report, seed first. */
export class SimulationFailure extends Error {
  override readonly name = "SimulationFailure";
  constructor(readonly results: SimResult[]) {
    const shown = results.slice(0, FAILURES_SHOWN_IN_FULL).map(formatFailure);
    const seeds = results.map((result) => `${result.seed} (${result.violation?.kind})`);
    super(
      `${results.length} seed(s) failed: ${seeds.slice(0, 50).join(", ")}${seeds.length > 50 ? ", …" : ""}\n\n${shown.join("\n\n")}`,
    );
  }
}

/** For tests: throw a report naming every failing seed, so a red test says what to replay. */
export function assertExplorationClean(summary: ExploreSummary): void {
  if (summary.failures.length > 0) throw new SimulationFailure(summary.failures);
}

/** The CLI invocation that reruns exactly this seed with exactly these options. */
export function replayCommand(result: SimResult): string {
  const unsafe = result.unsafeTestFaults.map((fault) => ` --unsafe ${fault}`).join("");
  const nodes = result.twoNodeFencing ? "--two-node" : `--nodes ${result.nodeCount}`;
  const paced = result.pacedHeartbeats ? "on" : "off";
  return `npm run sim -- --replay ${result.seed} ${nodes} --fault-ms ${result.faultPhaseMs} --paced ${paced}${unsafe}`;
}
