import type { ScenarioVersion } from "./scenario.js";
import {
  runWholeSeed,
  type WholeSimMode,
  type WholeSimResult,
  type WholeUnsafeFault,
} from "./whole-simulation.js";

export interface WholeExploreOptions {
  startSeed: number;
  seedCount: number;
  mode: WholeSimMode;
  nodeCount: number;
  faultPhaseMs: number;
  recoveryBoundMs: number;
  stopOnFailure: boolean;
  scenario?: ScenarioVersion;
  unsafe?: WholeUnsafeFault;
  onResult?(result: WholeSimResult): void;
  onTrace?(line: string): void;
}

export interface WholeExploreSummary {
  seeds: number;
  failures: WholeSimResult[];
  steps: number;
  virtualMs: number;
  faults: number;
  selfFences: number;
  fences: number;
  /** The slowest recovery after the heal (ms). */
  slowestRecoveryMs: number;
}

/** Runs seeds one after another (each is deterministic on its own). */
export async function exploreWholeSeeds(
  options: WholeExploreOptions,
): Promise<WholeExploreSummary> {
  const summary: WholeExploreSummary = {
    seeds: 0,
    failures: [],
    steps: 0,
    virtualMs: 0,
    faults: 0,
    selfFences: 0,
    fences: 0,
    slowestRecoveryMs: 0,
  };
  for (let seed = options.startSeed; seed < options.startSeed + options.seedCount; seed++) {
    const result = await runWholeSeed({
      seed,
      mode: options.mode,
      nodeCount: options.nodeCount,
      faultPhaseMs: options.faultPhaseMs,
      recoveryBoundMs: options.recoveryBoundMs,
      ...(options.unsafe !== undefined ? { unsafe: options.unsafe } : {}),
      ...(options.scenario !== undefined ? { scenario: options.scenario } : {}),
      ...(options.onTrace !== undefined ? { onTrace: options.onTrace } : {}),
    });
    summary.seeds++;
    summary.steps += result.steps;
    summary.virtualMs += result.virtualMs;
    summary.faults += result.faults;
    summary.selfFences += result.selfFences;
    summary.fences += result.fences;
    summary.slowestRecoveryMs = Math.max(summary.slowestRecoveryMs, result.recoveryMs ?? 0);
    options.onResult?.(result);
    if (!result.ok) {
      summary.failures.push(result);
      if (options.stopOnFailure) break;
    }
  }
  return summary;
}

/** A failed seed, with the command that replays it. */
export function formatWholeFailure(
  result: WholeSimResult,
  run: {
    mode: WholeSimMode;
    nodes: number;
    faultMs: number;
    recoveryMs: number;
    wholeUnsafe?: WholeUnsafeFault;
  },
): string {
  const v = result.violation;
  const unsafe = run.wholeUnsafe === undefined ? "" : ` --whole-unsafe ${run.wholeUnsafe}`;
  const shape =
    run.mode === "two-node"
      ? "--two-node"
      : run.mode === "witness"
        ? "--witness"
        : `--nodes ${run.nodes}${run.mode === "fencing" ? " --fencing" : ""}`;
  return [
    `seed ${result.seed} FAILED at ${v?.atMs ?? "?"} ms: ${v?.kind}: ${v?.detail}`,
    `  replay: npm run sim -- --whole ${shape} --scenario ${result.scenario} --fault-ms ${run.faultMs} --recovery-ms ${run.recoveryMs}${unsafe} --replay ${result.seed}`,
  ].join("\n");
}
