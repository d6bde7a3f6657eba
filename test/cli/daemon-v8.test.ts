import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Calls of a small function, a few per event-loop turn as an agent's hot path runs, until V8
 * has optimised it; with `tune`, after tuneV8ForDaemon().
 */
async function callsUntilOptimised(tune: boolean): Promise<number> {
  const script = `
    import { tuneV8ForDaemon } from ${JSON.stringify(new URL("../../src/cli/daemon-v8.ts", import.meta.url).href)};
    if (${tune}) tuneV8ForDaemon();
    function work(x) { let s = 0; for (let i = 0; i < 20; i++) s += (x * i) % 7; return s; }
    const isOptimised = new Function("f", "return (%GetOptimizationStatus(f) & 16) !== 0");
    let calls = 0;
    const turn = () => {
      for (let k = 0; k < 4; k++) work(calls++);
      if (isOptimised(work) || calls > 100000) console.log(calls);
      else setImmediate(turn);
    };
    turn();
  `;
  const { stdout } = await run(process.execPath, [
    "--allow-natives-syntax",
    // Optimised on the spot rather than by a compiler thread: the count does not depend on load.
    "--no-concurrent-recompilation",
    "--import",
    "tsx",
    "--input-type=module",
    "--eval",
    script,
  ]);
  return Number(stdout.trim());
}

test("a daemon's V8 optimises a function after far fewer calls than by default", async () => {
  const tuned = await callsUntilOptimised(true);
  const untuned = await callsUntilOptimised(false);
  assert.ok(tuned <= 100000, "optimised at all");
  assert.ok(tuned * 2 < untuned, `tuned after ${tuned} calls, untuned after ${untuned}`);
});
