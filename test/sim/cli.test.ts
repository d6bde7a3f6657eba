import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

/** Runs scripts/sim.ts the way `npm run sim --` does (tsx), from the repository root. */
function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/sim.ts", ...args], {
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The output without the lines that depend on the wall clock. */
function withoutWallClock(output: string): string {
  return output
    .split("\n")
    .filter((line) => !/^(wall seconds|steps per second|seeds per second)/.test(line))
    .join("\n");
}

test("exploring clean seeds prints a summary table and exits 0", () => {
  const run = sim("--seeds", "4", "--start", "1", "--fault-ms", "5000");
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /^seeds run\s+4$/m);
  assert.match(run.stdout, /^violations\s+0$/m);
  assert.match(run.stdout, /^steps per second\s+\d+$/m);
});

test("a violation prints the seed, the replay command and the trace, and exits 1", () => {
  const run = sim("--seeds", "300", "--unsafe", "commitWithoutQuorum", "--fault-ms", "12000");
  assert.equal(run.status, 1, run.stdout + run.stderr);
  const seed = /^seed (\d+) \(3 nodes\) FAILED/m.exec(run.stdout)?.[1];
  assert.ok(seed !== undefined, run.stdout);
  const paced = new RegExp(
    `replay: npm run sim -- --replay ${seed} --nodes 3 --fault-ms 12000 --paced (on|off) --unsafe commitWithoutQuorum`,
  ).exec(run.stdout)?.[1];
  assert.ok(paced !== undefined, run.stdout);
  assert.match(run.stdout, /last \d+ events:/);
  assert.match(run.stdout, new RegExp(`^failing seeds: ${seed}$`, "m"));

  const replayArgs = [
    "--replay",
    seed,
    "--fault-ms",
    "12000",
    "--paced",
    paced,
    "--unsafe",
    "commitWithoutQuorum",
  ];
  const first = sim(...replayArgs);
  const second = sim(...replayArgs);
  assert.equal(first.status, 1);
  assert.match(first.stdout, /VIOLATION/);
  assert.equal(withoutWallClock(second.stdout), withoutWallClock(first.stdout));
});

test("bad arguments are refused with the flag named", () => {
  const run = sim("--nodes", "4");
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /--nodes wants 3 or 5, got "4"/);
  for (const flag of ["--fault-ms", "--recovery-ms"]) {
    const long = sim("--whole", flag, String(2 ** 31));
    assert.notEqual(long.status, 0);
    assert.match(
      long.stderr,
      new RegExp(`${flag} wants a whole number of milliseconds from 0 to 86400000 \\(a day\\)`),
    );
  }
});
