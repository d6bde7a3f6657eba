/**
 * The chaos suite's fixed budget (npm run chaos runs longer): a fixed seed's first steps of random
 * faults against real agents on test hosts: power-offs and restarts, leader kills, link cuts in
 * both directions and in one, random loss, agent pauses short and long and SIGKILLs of the agent
 * alone, its host staying up (the node guard stops what it held; test/chaos/scenario.ts), with
 * configuration changes between and during faults. Asserts that neither the VIP nor the service
 * was ever on two hosts, that the service answered within the bound after every heal, and that no
 * acknowledged configuration change was lost; every failure message names the seed to replay.
 *
 * Three modes, each with the same checkers: quorum (no fence device; the seed's first steps kill
 * the leader's agent and h1's twice, and pause h2's past the deadtime), fencing (a fence device
 * that powers a lost test host off for real; the seed's first steps kill the active host's agent,
 * cut every outbound link of the active host and isolate it, each long enough that it must be
 * fenced, and power the leader off), and two-node (2 hosts, no witness, that fence device, h1
 * with a fence delay; the seed's first steps partition the two — h2 must be the one fenced —,
 * pause h2's agent past the deadtime — h1 must fence h2 —, cut one outbound link, and partition
 * them again briefly, with a configuration change meanwhile).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { printReport, replayCommand, verdict } from "../chaos/report.js";
import { type ChaosReport, DEFAULT_BOUND_MS, runChaos } from "../chaos/run.js";
import { labTestOptions } from "../lab/index.js";

const SEED = 4;
const STEPS = 10;
const FENCING_SEED = 381;
const FENCING_STEPS = 6;
const TWO_NODE_SEED = 15;
const TWO_NODE_STEPS = 4;

function assertChaosPassed(report: ChaosReport, steps: number): string {
  const replay = `seed ${report.seed}; replay: ${replayCommand(report)}`;
  assert.equal(report.aborted, null, `${report.aborted} (${replay})`);
  assert.equal(
    report.steps.length,
    steps,
    `ran ${report.steps.length} of ${steps} steps (${replay})`,
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
  return replay;
}

/** Runs the assertions; when one fails, prints what the agents warned of first (CI keeps no lab). */
function explainingFailure(report: ChaosReport, assertions: () => void): void {
  try {
    assertions();
  } catch (error) {
    process.stderr.write(
      `agents' warnings and errors, newest last:\n${report.agentWarnings.map((line) => `  ${line}`).join("\n")}\n`,
    );
    throw error;
  }
}

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
    explainingFailure(report, () => {
      const replay = assertChaosPassed(report, STEPS);
      assert.deepEqual(report.fences, [], "no fence device, no fence");
      for (const kind of ["agent-kill", "long-pause"])
        assert.ok((report.faultsByKind[kind] ?? 0) > 0, `no ${kind} drawn (${replay})`);
    });
  });

  test(`fencing mode: seed ${FENCING_SEED}, ${FENCING_STEPS} faults`, async () => {
    const report = await runChaos({
      seed: FENCING_SEED,
      maxSteps: FENCING_STEPS,
      fencing: true,
      boundMs: DEFAULT_BOUND_MS,
      evidenceDir: "/tmp",
      log: (line) => process.stderr.write(`${line}\n`),
    });
    printReport(report);
    explainingFailure(report, () => {
      const replay = assertChaosPassed(report, FENCING_STEPS);
      // The active host always holds the group: its long losses (its agent killed among them) must
      // end in a fence.
      const expected = report.steps.filter((s) => s.fenceExpectation?.expected === true);
      assert.ok(
        expected.length >= 3 && expected.some((s) => s.kind === "agent-kill"),
        `fences expected in ${expected.length} steps: ${report.steps.map((s) => `${s.step.index} ${s.fenceExpectation?.reason}`).join("; ")} (${replay})`,
      );
      for (const step of expected) {
        const fence = step.fences.find((f) => f.node === step.target);
        assert.ok(
          fence !== undefined,
          `${step.description}: ${step.target} not fenced (${replay})`,
        );
        assert.equal(fence.phase, "during the fault", `${step.description} (${replay})`);
      }
      for (const fence of report.fences) {
        const step = report.steps.find((s) => s.step.index === fence.step);
        assert.equal(
          fence.node,
          step?.target,
          `fenced ${fence.node} in step ${fence.step} (${replay})`,
        );
        // Every power-off fence_lab did is one the cluster recorded (fenceHistory).
        assert.match(fence.by ?? "", /^policy@h\d$/, `fence of ${fence.node} (${replay})`);
      }
      assert.deepEqual(report.failedFenceCalls, [], `failed fence_lab calls (${replay})`);
    });
  });

  test(`two-node mode: seed ${TWO_NODE_SEED}, ${TWO_NODE_STEPS} faults`, async () => {
    const report = await runChaos({
      seed: TWO_NODE_SEED,
      maxSteps: TWO_NODE_STEPS,
      twoNode: true,
      boundMs: DEFAULT_BOUND_MS,
      evidenceDir: "/tmp",
      log: (line) => process.stderr.write(`${line}\n`),
    });
    printReport(report);
    explainingFailure(report, () => {
      const replay = assertChaosPassed(report, TWO_NODE_STEPS);
      const expected = report.steps.filter((s) => s.fenceExpectation?.expected === true);
      assert.ok(
        expected.some((s) => s.kind === "isolate") &&
          expected.some((s) => s.kind === "long-pause" || s.kind === "agent-kill"),
        `no partition or long pause long enough to fence: ${report.steps.map((s) => `${s.step.index} ${s.fenceExpectation?.reason}`).join("; ")} (${replay})`,
      );
      for (const step of expected) {
        const node = step.fenceExpectation!.node;
        const fence = step.fences.find((f) => f.node === node);
        assert.ok(fence !== undefined, `${step.description}: ${node} not fenced (${replay})`);
        assert.equal(fence.phase, "during the fault", `${step.description} (${replay})`);
        // The survivor fences its peer itself, whoever leads.
        assert.notEqual(fence.by, `policy@${node}`, `${step.description} (${replay})`);
        assert.match(fence.by ?? "", /^policy@h[12]$/, `fence of ${node} (${replay})`);
      }
      // Exactly one survives a partition, and it is h1: its fence delay lets it shoot first.
      for (const step of report.steps.filter((s) => s.kind === "isolate")) {
        assert.deepEqual(
          step.fences.filter((f) => f.node === "h1"),
          [],
          `${step.description}: h1 fenced (${replay})`,
        );
      }
      assert.deepEqual(report.failedFenceCalls, [], `failed fence_lab calls (${replay})`);
    });
  });
});
