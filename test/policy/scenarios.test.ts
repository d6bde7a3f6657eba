import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { applySimulatedChange, computePlacement } from "../../src/policy/index.js";
import type { PolicyInput, PolicyOutput } from "../../src/policy/types.js";
import type { ResourceModel } from "../../src/resource-model/types.js";
import { assertActionGraphValid } from "./fixtures.js";
import {
  appendExpected,
  type Expectation,
  expectedText,
  lineDiff,
  loadScenario,
  type Scenario,
  showOutput,
} from "./scenario-file.js";

/**
 * Runs every scenario in test/policy/scenarios (see the README there): one subtest per file.
 * VIGIL_SCENARIOS_WRITE=1 appends the engine's output to files that have no `expected` yet.
 */
const FOLDER = fileURLToPath(new URL("./scenarios/", import.meta.url));
const WRITE = process.env.VIGIL_SCENARIOS_WRITE === "1";
const HOW_TO_WRITE =
  "VIGIL_SCENARIOS_WRITE=1 node --import tsx --test test/policy/scenarios.test.ts";

function compute(scenario: Scenario, model: ResourceModel = scenario.input.model): PolicyOutput {
  const input: PolicyInput = { ...scenario.input, model };
  return computePlacement(
    scenario.simulate === undefined ? input : applySimulatedChange(input, scenario.simulate),
  );
}

/** The same model with resources and constraints listed the other way round (ids unchanged). */
function reversed(model: ResourceModel): ResourceModel {
  const flip = <T>(record: Record<string, T>) =>
    Object.fromEntries(Object.entries(record).reverse());
  return {
    primitives: flip(model.primitives),
    groups: flip(model.groups),
    clones: flip(model.clones),
    constraints: [...model.constraints].reverse(),
  };
}

/** What every scenario's output must satisfy, whatever its expectation says. */
function checkInvariants(scenario: Scenario, output: PolicyOutput): void {
  const { file } = scenario;
  assertActionGraphValid(output);
  for (const action of output.actions) {
    assert.equal(action.id, `${action.op} ${action.resource}@${action.node}`, `${file}: action id`);
  }
  assert.deepEqual(
    compute(scenario, reversed(scenario.input.model)),
    output,
    `${file}: the output changed when resources and constraints were listed in reverse order`,
  );
}

function runScenario(path: string, t: TestContext): void {
  const scenario = loadScenario(path);
  const { file } = scenario;
  let output: PolicyOutput | undefined;
  let thrown: Error | undefined;
  try {
    output = compute(scenario);
  } catch (error) {
    thrown = error as Error;
  }
  const actual: Expectation =
    output !== undefined ? { shown: showOutput(output) } : { error: thrown?.message ?? "" };

  if (scenario.expected === undefined) {
    if (!WRITE) {
      assert.fail(
        `${file} has no "expected" section. Run\n  ${HOW_TO_WRITE} --test-name-pattern=${JSON.stringify(file.split("/").at(-1))}\nto append what the engine computes now, then review it.`,
      );
    }
    appendExpected(path, actual);
    t.diagnostic(`${file}: wrote the engine's output as "expected"; review it before committing`);
    if (output !== undefined) checkInvariants(scenario, output);
    return;
  }

  if ("error" in scenario.expected) {
    const wanted = scenario.expected.error;
    assert.ok(
      thrown?.message.includes(wanted) === true,
      `${file}: expected an error containing ${JSON.stringify(wanted)}, got ${
        thrown !== undefined ? `"${thrown.message}"` : `an output:\n${expectedText(actual)}`
      }`,
    );
    return;
  }
  if (output === undefined) {
    assert.fail(`${file}: the engine threw: ${thrown?.stack ?? thrown?.message}`);
  }
  const want = expectedText(scenario.expected);
  const got = expectedText({ shown: showOutput(output, scenario.expected.shown) });
  if (want !== got) {
    assert.fail(
      `${file}: the engine's output differs from "expected" (- expected, + actual)\n` +
        `  (${scenario.description})\n${lineDiff(want, got)}`,
    );
  }
  checkInvariants(scenario, output);
}

const files = readdirSync(FOLDER).sort();

describe("policy scenarios (test/policy/scenarios)", () => {
  test("the folder holds only scenarios (*.yaml) and its README", () => {
    const strays = files.filter((name) => !name.endsWith(".yaml") && name !== "README.md");
    assert.deepEqual(strays, [], "rename to .yaml, or the file is never run");
    assert.ok(
      files.some((name) => name.endsWith(".yaml")),
      "no scenarios found",
    );
  });

  for (const name of files.filter((file) => file.endsWith(".yaml"))) {
    test(name, (t) => runScenario(join(FOLDER, name), t));
  }
});
