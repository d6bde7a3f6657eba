import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ConnectivityMonitor } from "../../src/connectivity/monitor.js";
import type { probeTarget } from "../../src/connectivity/probes.js";
import { type ConnectivityTarget, describeTarget } from "../../src/connectivity/targets.js";
import { waitFor } from "../support/wait.js";
import { capturingLogger, connectivityConfig, deferred, manualClock } from "./support.js";

type Probe = typeof probeTarget;

/** A fake probe answering from a table keyed by target name (missing: down). */
function tableProbe(up: Map<string, boolean>): Probe & { calls: string[] } {
  const calls: string[] = [];
  const probe = async (target: ConnectivityTarget) => {
    calls.push(describeTarget(target));
    return up.get(describeTarget(target)) ?? false;
  };
  return Object.assign(probe, { calls });
}

function setup(options: { probe: Probe; config?: Parameters<typeof connectivityConfig>[0] }) {
  const clock = manualClock();
  const { logger, lines } = capturingLogger();
  const published: Array<[string, string]> = [];
  const monitor = new ConnectivityMonitor({
    config: connectivityConfig(options.config),
    clock,
    logger,
    publish: (attribute, value) => published.push([attribute, value]),
    probe: options.probe,
  });
  return { monitor, clock, lines, published };
}

const ICMP = "icmp:198.18.0.101";
const TCP = "tcp:198.18.0.102:80";
const HTTP = "http://gw/health";

describe("ConnectivityMonitor rounds", () => {
  test("counts the targets that answered and publishes the count after each round", async () => {
    const up = new Map([
      [ICMP, true],
      [TCP, false],
      [HTTP, true],
    ]);
    const probe = tableProbe(up);
    const { monitor, clock, published } = setup({
      probe,
      config: { attribute: "upstream", timeout_ms: 750 },
    });
    assert.deepEqual(monitor.current(), {
      reachable: 0,
      total: 3,
      lastCheckedAtMs: null,
      targets: [
        { target: ICMP, up: false },
        { target: TCP, up: false },
        { target: HTTP, up: false },
      ],
    });
    assert.deepEqual(published, [], "nothing is published before the first round");

    clock.advance(5);
    const status = await monitor.runRound();
    assert.deepEqual(status, {
      reachable: 2,
      total: 3,
      lastCheckedAtMs: 1_000_005,
      targets: [
        { target: ICMP, up: true },
        { target: TCP, up: false },
        { target: HTTP, up: true },
      ],
    });
    assert.deepEqual(monitor.current(), status);
    assert.deepEqual(published, [["upstream", "2"]]);
    assert.deepEqual(probe.calls, [ICMP, TCP, HTTP]);

    // The same value is published again: the callback decides what to do with repeats.
    await monitor.runRound();
    up.set(ICMP, false);
    up.set(HTTP, false);
    await monitor.runRound();
    assert.deepEqual(published, [
      ["upstream", "2"],
      ["upstream", "2"],
      ["upstream", "0"],
    ]);
    assert.equal(monitor.current().reachable, 0);
  });

  test("passes timeout_ms to every probe, all of a round at once", async () => {
    const seen: number[] = [];
    const pending = [deferred<boolean>(), deferred<boolean>(), deferred<boolean>()];
    let index = 0;
    const probe: Probe = (_target, timeoutMs, signal) => {
      seen.push(timeoutMs);
      assert.ok(signal instanceof AbortSignal);
      return pending[index++]!.promise;
    };
    const { monitor, published } = setup({ probe, config: { timeout_ms: 321 } });
    const round = monitor.runRound();
    await sleep(0);
    assert.deepEqual(seen, [321, 321, 321], "every target is checked before any answers");
    // A second request while the round is in flight joins it rather than overlapping it.
    assert.equal(monitor.runRound(), round);
    for (const d of pending) d.resolve(true);
    assert.equal((await round).reachable, 3);
    assert.equal(seen.length, 3);
    assert.deepEqual(published, [["connectivity", "3"]]);
  });

  test("a probe that throws or never answers counts as down", async () => {
    const probe: Probe = async (target) => {
      if ("icmp" in target) throw new Error("boom");
      if ("tcp" in target) return new Promise<boolean>(() => undefined);
      return true;
    };
    const { monitor, published } = setup({ probe, config: { timeout_ms: 50 } });
    const status = await monitor.runRound();
    assert.deepEqual(
      status.targets.map((t) => t.up),
      [false, false, true],
    );
    assert.deepEqual(published, [["connectivity", "1"]]);
  });

  test("a failing publish callback is logged and the monitor goes on", async () => {
    const { logger, lines } = capturingLogger();
    const monitor = new ConnectivityMonitor({
      config: connectivityConfig(),
      clock: manualClock(),
      logger,
      publish: () => {
        throw new Error("not committed");
      },
      probe: async () => true,
    });
    assert.equal((await monitor.runRound()).reachable, 3);
    const warning = lines.find((line) => line.level === 40);
    assert.equal(warning?.err, "not committed");
    assert.equal((await monitor.runRound()).reachable, 3);
  });
});

describe("ConnectivityMonitor logging", () => {
  test("logs the first round, then only rounds where a target changed, naming it", async () => {
    const up = new Map([
      [ICMP, true],
      [TCP, true],
      [HTTP, false],
    ]);
    const { monitor, lines } = setup({ probe: tableProbe(up) });
    const info = () => lines.filter((line) => line.level === 30);

    await monitor.runRound();
    assert.equal(info().length, 1);
    assert.equal(info()[0]?.msg, `connectivity 2 of 3 targets reachable; unreachable: ${HTTP}`);
    assert.equal(info()[0]?.reachable, 2);

    await monitor.runRound();
    assert.equal(info().length, 1, "an unchanged round is not logged");

    up.set(TCP, false);
    await monitor.runRound();
    assert.equal(info().length, 2);
    const down = info()[1]!;
    assert.equal(down.msg, `connectivity 2 -> 1 of 3 targets reachable; down: ${TCP}`);
    assert.deepEqual([down.previous, down.reachable, down.down, down.up], [2, 1, [TCP], []]);
    assert.equal(down.attribute, "connectivity");

    up.set(TCP, true);
    up.set(HTTP, true);
    await monitor.runRound();
    assert.equal(info()[2]?.msg, `connectivity 1 -> 3 of 3 targets reachable; up: ${TCP}, ${HTTP}`);
  });
});

describe("ConnectivityMonitor schedule", () => {
  test("start() runs rounds every interval, one at a time; stop() ends them", async () => {
    let active = 0;
    let maxActive = 0;
    let rounds = 0;
    const probe: Probe = async (target) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      if ("icmp" in target) rounds += 1;
      // Slower than the interval: a new round must still wait for this one.
      await sleep(30);
      active -= 1;
      return "icmp" in target;
    };
    const { monitor, published } = setup({ probe, config: { interval_ms: 10 } });
    monitor.start();
    monitor.start();
    await waitFor("four rounds", () => (published.length >= 4 ? true : undefined), {
      timeoutMs: 5_000,
    });
    monitor.stop();
    assert.equal(maxActive, 3, "the three targets of a round run together, rounds never overlap");
    assert.ok(
      published.every(([attribute, value]) => attribute === "connectivity" && value === "1"),
    );
    const after = published.length;
    const roundsAtStop = rounds;
    await sleep(150);
    // The round in flight at stop() was abandoned: nothing more was published.
    assert.equal(published.length, after);
    assert.ok(rounds <= roundsAtStop + 1);
  });

  test("stop() abandons the round in flight: aborted, neither logged nor published", async () => {
    const gate = deferred<boolean>();
    const signals: AbortSignal[] = [];
    const probe: Probe = (_target, _timeoutMs, signal) => {
      if (signal) signals.push(signal);
      return gate.promise;
    };
    const { monitor, lines, published } = setup({ probe });
    monitor.start();
    await waitFor("the first round to start", () => (signals.length === 3 ? true : undefined));
    monitor.stop();
    assert.ok(signals.every((signal) => signal.aborted));
    gate.resolve(true);
    await sleep(10);
    assert.deepEqual(published, []);
    assert.deepEqual(lines, []);
    assert.equal(monitor.current().lastCheckedAtMs, null);

    // It can be started again.
    const { monitor: again, published: againPublished } = setup({ probe: async () => true });
    again.start();
    again.stop();
    again.start();
    await waitFor("a round after restart", () => (againPublished.length > 0 ? true : undefined));
    again.stop();
  });

  test("waits interval_ms between round starts", async () => {
    const starts: number[] = [];
    const probe: Probe = async (target) => {
      if ("icmp" in target) starts.push(performance.now());
      return true;
    };
    const { monitor } = setup({ probe, config: { interval_ms: 100 } });
    monitor.start();
    await waitFor("three rounds", () => (starts.length >= 3 ? true : undefined), {
      timeoutMs: 5_000,
    });
    monitor.stop();
    // The manual clock stands still, so a round counts as taking no time: the full interval.
    for (let i = 1; i < starts.length; i++)
      assert.ok(starts[i]! - starts[i - 1]! >= 95, `gap ${starts[i]! - starts[i - 1]!} ms`);
  });
});
