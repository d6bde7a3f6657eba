/**
 * Node fires a timer asked to wait more than 2^31 − 1 ms after 1 ms. The layers that set timers
 * never pass such a delay on: the coordinator's timers wait as long as a timer can and report
 * it; the executor and the process runner refuse an operation whose timeout no timer can hold.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createSystemTimers } from "../../src/coordination/timers.js";
import { Executor } from "../../src/resources/executor/executor.js";
import { ChildProcessRunner } from "../../src/resources/executor/process-runner.js";
import { systemClock } from "../../src/time/clock.js";
import { MAX_TIMER_DELAY_MS, timerDelayProblem } from "../../src/time/timer-delay.js";

const TOO_LONG_MS = MAX_TIMER_DELAY_MS + 1;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a delay a timer cannot hold is named; any it can is not", () => {
  assert.equal(timerDelayProblem(0), null);
  assert.equal(timerDelayProblem(MAX_TIMER_DELAY_MS), null);
  assert.match(timerDelayProblem(TOO_LONG_MS) ?? "", /longer than a timer can wait/);
  assert.match(timerDelayProblem(Number.NaN) ?? "", /not a number/);
});

test("the coordinator's timers wait as long as they can, never 1 ms, and report it", async () => {
  const reported: string[] = [];
  const timers = createSystemTimers((problem) => reported.push(problem));
  let fired = false;
  const cancel = timers.after(TOO_LONG_MS, () => {
    fired = true;
  });
  let soon = false;
  timers.after(5, () => {
    soon = true;
  });
  await sleep(50);
  cancel();
  assert.equal(fired, false, "fired at once, as Node does with an overflowing delay");
  assert.equal(soon, true);
  assert.equal(reported.length, 1);
  assert.match(reported[0] ?? "", new RegExp(`a delay of ${TOO_LONG_MS} ms`));
});

test("an operation whose timeout no timer can hold is refused, naming it, and nothing runs", async () => {
  const executor = new Executor({ clock: systemClock, runner: new ChildProcessRunner() });
  assert.throws(
    () =>
      executor.run("web", {
        operation: "monitor",
        agent: { kind: "exec", name: "/bin/true" },
        params: {},
        timeoutMs: TOO_LONG_MS,
      }),
    /operation monitor of web: timeout is a delay of 2147483648 ms, longer than a timer can wait/,
  );
  const outcome = await new ChildProcessRunner().run({
    file: "/bin/true",
    args: [],
    timeoutMs: TOO_LONG_MS,
  });
  assert.equal(outcome.pid, undefined);
  assert.equal(outcome.spawnError?.code, "ERANGE");
  assert.match(outcome.spawnError?.message ?? "", /not started: its timeout is a delay of/);
});
