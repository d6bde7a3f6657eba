/**
 * The chaos suite's fixed budget (npm run chaos runs longer): a fixed seed's first steps of random
 * faults against real agents on test hosts: power-offs and restarts, leader kills, link cuts in
 * both directions and in one, random loss, short agent pauses (test/chaos/scenario.ts), with
 * configuration changes between and during faults. Asserts that neither the VIP nor the service
 * was ever on two hosts, that the service answered within the bound after every heal, and that no
 * acknowledged configuration change was lost; every failure message names the seed to replay.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { printReport, replayCommand, verdict } from "../chaos/report.js";
import { DEFAULT_BOUND_MS, runChaos } from "../chaos/run.js";
import { labTestOptions } from "../lab/index.js";

const SEED = 81;
const STEPS = 10;

describe("chaos (fixed budget)", labTestOptions(["socat", "ss"]), () => {
  test(`seed ${SEED}, ${STEPS} faults`, async () => {
    const report = await runChaos({
      seed: SEED,
      maxSteps: STEPS,
      boundMs: DEFAULT_BOUND_MS,
      evidenceDir: "/tmp",
      log: (line) => process.stderr.write(`${line}\n`),
    });
    printReport(report);
    const replay = `seed ${report.seed}; replay: ${replayCommand(report)}`;
    assert.equal(report.aborted, null, `${report.aborted} (${replay})`);
    assert.equal(
      report.steps.length,
      STEPS,
      `ran ${report.steps.length} of ${STEPS} steps (${replay})`,
    );
    assert.equal(
      report.vipDoubleActiveMs,
      0,
      `VIP on two hosts: ${report.doubleActive.map((d) => `${d.nodes.join("+")} ${d.ms.toFixed(1)} ms, step ${d.step}`).join("; ")} (${replay})`,
    );
    assert.equal(
      report.serviceDoubleActiveMs,
      0,
      `service on two hosts (events.log): ${report.doubleActive.map((d) => `${d.nodes.join("+")} ${d.ms.toFixed(1)} ms, step ${d.step}`).join("; ")} (${replay})`,
    );
    for (const step of report.steps) {
      assert.ok(
        step.backAfterHealMs !== null && step.backAfterHealMs <= report.boundMs,
        `${step.description}: back ${step.backAfterHealMs} ms after the heal, bound ${report.boundMs} ms (${replay})`,
      );
    }
    assert.deepEqual(report.configLost, [], `committed configuration lost (${replay})`);
    assert.ok(report.configChanges > 1, `no configuration change was made (${replay})`);
    const result = verdict(report);
    assert.ok(result.ok, `${result.failed.join("; ")}: ${report.failures.join(" | ")} (${replay})`);
  });
});
